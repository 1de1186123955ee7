"""/admin/users and /admin/organizations: the admin console's API, for ADMIN users only.

Everyone else gets the 404 of an unknown path (``roles.require_role``); the instance's
figures are served by ``web/pages_admin_figures.py`` (they read every domain, which this
layer may not import).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from atelier.accounts import admin_service
from atelier.accounts.admin_schemas import (
    AdminOrganizationOut,
    AdminOrganizationUpdate,
    AdminUserOut,
    AdminUserUpdate,
    SearchText,
)
from atelier.accounts.admin_service import OrganizationRow, UserRow
from atelier.accounts.deps import AuthCacheDep
from atelier.accounts.models import UserRole
from atelier.accounts.pin_gate import require_unlocked
from atelier.accounts.roles import Admin, require_admin
from atelier.core.deps import DB, Paging
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page

# 404 on every route, including those without a path parameter: what a non-admin gets.
ADMIN_ONLY = error_responses(
    403,
    404,
    429,
    s403="pin_required (the instance PIN is set: X-Atelier-PIN, or POST /admin/pin/unlock) "
    "or wrong_pin",
    s404="Not found; also what anyone but an administrator gets, on every route.",
    s429="pin_locked: too many wrong PINs; Retry-After says when to try again",
)

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    # The role first (a 404 to anyone else), then the instance PIN when one is set.
    dependencies=[Depends(require_admin), Depends(require_unlocked)],
    responses=ADMIN_ONLY,
)

Search = Annotated[SearchText, Query(description="a piece of the email or name, any case")]


def user_out(row: UserRow) -> AdminUserOut:
    user, subscription = row
    return AdminUserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        is_active=user.is_active,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        updated_at=user.updated_at,
        plan=subscription.plan if subscription else None,
        subscription_status=subscription.status if subscription else None,
    )


def organization_out(row: OrganizationRow) -> AdminOrganizationOut:
    org, members = row
    return AdminOrganizationOut(
        id=org.id,
        name=org.name,
        slug=org.slug,
        subscription_tier=org.subscription_tier,
        subscription_status=org.subscription_status,
        trial_ends_at=org.trial_ends_at,
        members=members,
        created_at=org.created_at,
        updated_at=org.updated_at,
    )


@router.get("/users", response_model=Page[AdminUserOut])
async def list_users(
    session: DB,
    page: Paging,
    q: Search = "",
    role: Annotated[UserRole | None, Query(description="only users with this role")] = None,
    active: Annotated[bool | None, Query(description="only active (or inactive) users")] = None,
) -> Page[AdminUserOut]:
    """Every user of the instance, newest first, with their subscription."""
    rows, cursor = await admin_service.list_users(
        session, q=q, role=role, active=active, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[user_out(row) for row in rows], next_cursor=cursor)


@router.get("/users/{user_id}", response_model=AdminUserOut)
async def get_user(user_id: uuid.UUID, session: DB) -> AdminUserOut:
    return user_out(await admin_service.load_user(session, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=AdminUserOut,
    responses=error_responses(
        409,
        s409="you cannot deactivate yourself (`cannot_deactivate_self`), and the instance "
        "keeps at least one active administrator (`last_admin`)",
    ),
)
async def update_user(
    user_id: uuid.UUID, body: AdminUserUpdate, admin: Admin, session: DB, cache: AuthCacheDep
) -> AdminUserOut:
    """Change a user's role, activate or deactivate them, set their plan and its status.
    A deactivated user's sessions and API keys stop working at once, in every server
    process (see ``service.authenticate``)."""
    row = await admin_service.update_user(session, actor=admin, user_id=user_id, changes=body)
    # Not needed for correctness (a hit re-reads the user's row): it frees the entries.
    cache.forget_user(user_id)
    return user_out(row)


@router.get("/organizations", response_model=Page[AdminOrganizationOut])
async def list_organizations(
    session: DB,
    page: Paging,
    q: Annotated[SearchText, Query(description="a piece of the name or slug, any case")] = "",
) -> Page[AdminOrganizationOut]:
    """Every organization of the instance, newest first, with its number of members."""
    rows, cursor = await admin_service.list_organizations(
        session, q=q, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[organization_out(row) for row in rows], next_cursor=cursor)


@router.get("/organizations/{org_id}", response_model=AdminOrganizationOut)
async def get_organization(org_id: uuid.UUID, session: DB) -> AdminOrganizationOut:
    return organization_out(await admin_service.load_organization(session, org_id))


@router.patch("/organizations/{org_id}", response_model=AdminOrganizationOut)
async def update_organization(
    org_id: uuid.UUID, body: AdminOrganizationUpdate, session: DB
) -> AdminOrganizationOut:
    """Set an organization's tier, subscription status and trial end."""
    row = await admin_service.update_organization(session, org_id=org_id, changes=body)
    return organization_out(row)
