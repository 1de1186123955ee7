"""/organizations and /organizations/{id}/members."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from atelier.accounts import org_service as service
from atelier.accounts.deps import CurrentUser
from atelier.accounts.models import Membership, OrgRole, User
from atelier.accounts.org_schemas import (
    MemberAdd,
    MemberOut,
    MemberUpdate,
    OrganizationCreate,
    OrganizationOut,
    OrganizationUpdate,
)
from atelier.core.deps import DB, Paging
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page

router = APIRouter(prefix="/organizations", tags=["organizations"])


def _member_out(member: Membership, user: User) -> MemberOut:
    return MemberOut(
        user_id=user.id,
        organization_id=member.organization_id,
        email=user.email,
        name=user.name,
        role=member.role,
        created_at=member.created_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationOut,
    responses=error_responses(409),
)
async def create_organization(
    body: OrganizationCreate, user: CurrentUser, session: DB
) -> OrganizationOut:
    org = await service.create_organization(session, user=user, name=body.name, slug=body.slug)
    return OrganizationOut.model_validate(org).model_copy(update={"role": OrgRole.OWNER})


@router.get("", response_model=Page[OrganizationOut])
async def list_organizations(user: CurrentUser, session: DB, page: Paging) -> Page[OrganizationOut]:
    rows, cursor = await service.list_organizations(
        session, user=user, cursor=page.cursor, limit=page.limit
    )
    items = [OrganizationOut.model_validate(o).model_copy(update={"role": r}) for o, r in rows]
    return Page(items=items, next_cursor=cursor)


@router.get("/{org_id}", response_model=OrganizationOut)
async def get_organization(org_id: uuid.UUID, user: CurrentUser, session: DB) -> OrganizationOut:
    org, role = await service.load_organization(session, user=user, org_id=org_id)
    return OrganizationOut.model_validate(org).model_copy(update={"role": role})


@router.patch("/{org_id}", response_model=OrganizationOut, responses=error_responses(409))
async def update_organization(
    org_id: uuid.UUID, body: OrganizationUpdate, user: CurrentUser, session: DB
) -> OrganizationOut:
    org, role = await service.load_organization(
        session, user=user, org_id=org_id, roles=service.MANAGERS
    )
    org = await service.update_organization(session, org=org, name=body.name, slug=body.slug)
    return OrganizationOut.model_validate(org).model_copy(update={"role": role})


@router.delete("/{org_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_organization(org_id: uuid.UUID, user: CurrentUser, session: DB) -> Response:
    org, _ = await service.load_organization(
        session, user=user, org_id=org_id, roles=(OrgRole.OWNER,)
    )
    await service.delete_organization(session, org=org)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{org_id}/members", response_model=Page[MemberOut])
async def list_members(
    org_id: uuid.UUID, user: CurrentUser, session: DB, page: Paging
) -> Page[MemberOut]:
    org, _ = await service.load_organization(session, user=user, org_id=org_id)
    rows, cursor = await service.list_members(
        session, org=org, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[_member_out(m, u) for m, u in rows], next_cursor=cursor)


@router.post(
    "/{org_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberOut,
    responses=error_responses(409),
)
async def add_member(
    org_id: uuid.UUID, body: MemberAdd, user: CurrentUser, session: DB
) -> MemberOut:
    org, role = await service.load_organization(
        session, user=user, org_id=org_id, roles=service.MANAGERS
    )
    member, added = await service.add_member(
        session, org=org, actor_role=role, email=body.email, role=body.role
    )
    return _member_out(member, added)


@router.patch(
    "/{org_id}/members/{user_id}", response_model=MemberOut, responses=error_responses(409)
)
async def change_member_role(
    org_id: uuid.UUID, user_id: uuid.UUID, body: MemberUpdate, user: CurrentUser, session: DB
) -> MemberOut:
    org, role = await service.load_organization(
        session, user=user, org_id=org_id, roles=service.MANAGERS
    )
    member, changed = await service.change_role(
        session, org=org, actor_role=role, user_id=user_id, role=body.role
    )
    return _member_out(member, changed)


@router.delete(
    "/{org_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(409),
)
async def remove_member(
    org_id: uuid.UUID, user_id: uuid.UUID, user: CurrentUser, session: DB
) -> Response:
    org, role = await service.load_organization(session, user=user, org_id=org_id)
    await service.remove_member(session, org=org, actor=user, actor_role=role, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
