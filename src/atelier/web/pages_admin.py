"""The admin console in the browser:

* ``/admin``: the instance's figures (``pages_admin_figures``);
* ``/admin/users``: search by email or name, pages of users, and for each one forms to
  activate or deactivate the account, change its role, and set its plan and status;
* ``/admin/organizations``: search, pages, and each organization's tier, subscription
  status and trial end.

Only ADMIN users get these pages; anyone else, signed in or not, gets the 404 page of an
unknown address, so the console is not advertised. Writes are form posts, CSRF-checked,
calling the services the API calls (``accounts/admin_service.py``, same rules), then a
redirect back to the list page they came from with a ``?msg=`` code naming a fixed
notice (PRG); a refused change (the last administrator, oneself, a value not offered)
comes back as an error notice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import admin_service, pin
from atelier.accounts.admin_schemas import AdminOrganizationUpdate, AdminUserUpdate
from atelier.accounts.deps import SESSION_COOKIE
from atelier.accounts.models import SubscriptionPlan, SubscriptionStatus, UserRole
from atelier.accounts.principal import Principal
from atelier.accounts.roles import has_role, not_advertised
from atelier.core.deps import DB
from atelier.core.errors import AtelierError
from atelier.web.cursors import cursor_or_none
from atelier.web.flash import FormText, notice_of
from atelier.web.pages_admin_figures import instance_figures
from atelier.web.paging import page_size, page_url
from atelier.web.session import LoginRequired, MaybeUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

USERS = "/admin/users"
ORGANIZATIONS = "/admin/organizations"
PAGE = 25
TABS = (
    ("overview", "/admin", "Overview"),
    ("users", USERS, "Users"),
    ("organizations", ORGANIZATIONS, "Organizations"),
    ("pin", "/admin/pin", "PIN"),
)
ROLE_CHOICES = (
    (UserRole.USER, "User"),
    (UserRole.MODERATOR, "Moderator"),
    (UserRole.DEVELOPER, "Developer"),
    (UserRole.ADMIN, "Administrator"),
)

NOTICES: dict[str, tuple[str, str]] = {
    "role-changed": ("ok", "Role changed."),
    "activated": ("ok", "The account is active again: its owner can log in."),
    "deactivated": (
        "ok",
        "The account is deactivated: its sessions and API keys stopped working at once.",
    ),
    "plan-saved": ("ok", "Plan saved."),
    "org-saved": ("ok", "Organization saved."),
    "last-admin": (
        "error",
        "Not changed: the instance needs an active administrator. Make another user an "
        "administrator first.",
    ),
    "self-deactivate": (
        "error",
        "You cannot deactivate your own account; another administrator can.",
    ),
    "invalid": ("error", "Not changed: choose one of the values offered."),
    "bad-date": ("error", "Not changed: enter the trial end as YYYY-MM-DD, or leave it empty."),
    "gone": ("error", "Not changed: that user or organization no longer exists."),
    "expired": ("error", "The form expired. Please try again."),
}
# An error code of the services → the notice that explains it.
REFUSALS = {
    "last_admin": "last-admin",
    "cannot_deactivate_self": "self-deactivate",
    "user_not_found": "gone",
    "organization_not_found": "gone",
}


async def admin_role_user(user: MaybeUser) -> Principal:
    """An administrator, PIN or not (the unlock page); anyone else: the 404 page."""
    if user is None or not has_role(user, (UserRole.ADMIN,)):
        raise not_advertised()
    return user


AdminRoleUser = Annotated[Principal, Depends(admin_role_user)]


async def admin_page_user(request: Request, user: AdminRoleUser, session: DB) -> Principal:
    """An administrator whose browser session entered the instance PIN in the last 15
    minutes (when one is set); else to the unlock page, and back here after."""
    if await pin.settings_row(session) is not None:
        token = request.cookies.get(SESSION_COOKIE, "")
        if await pin.unlocked_until(session, token=token) is None:
            raise LoginRequired(f"/admin/unlock?{urlencode({'next': request.url.path})}")
    return user


AdminWebUser = Annotated[Principal, Depends(admin_page_user)]


def _page(request: Request, tab: str, template: str, context: dict[str, Any]) -> Response:
    return render(request, template, {"nav": "admin", "tabs": TABS, "tab": tab, **context})


def _back(list_path: str, back: str, msg: str) -> Response:
    """To the list page the form was on (its search and page kept), with a notice."""
    target = back if back == list_path or back.startswith(list_path + "?") else list_path
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}msg={msg}", status_code=303)


async def _refused(session: AsyncSession, error: AtelierError) -> str:
    # Nothing of the refused change may be committed with the request.
    await session.rollback()
    return REFUSALS.get(error.code, "invalid")


def _search(q: str) -> str:
    """``?q=`` as a search can use it: a NUL, which PostgreSQL cannot take, is dropped."""
    return q.replace("\x00", "").strip()[:255]


def _listing(path: str, q: str, cursor: str | None, size: int, more: str | None) -> dict[str, Any]:
    """The addresses a list page links to: itself, its first and its next page."""
    limit = size if size != PAGE else None
    return {
        "q": q,
        "here": page_url(path, q=q, cursor=cursor, limit=limit),
        "first_url": page_url(path, q=q, limit=limit) if cursor else None,
        "next_url": page_url(path, q=q, cursor=more, limit=limit) if more else None,
    }


# ------------------------------------------------------------------ overview
@router.get("/admin", response_class=HTMLResponse)
async def overview(request: Request, admin: AdminWebUser, session: DB) -> Response:
    figures = await instance_figures(session)
    return _page(request, "overview", "admin/overview.html", {"figures": figures})


# ------------------------------------------------------------------ users
@router.get(USERS, response_class=HTMLResponse)
async def users(
    request: Request,
    admin: AdminWebUser,
    session: DB,
    q: str = "",
    cursor: str | None = None,
    limit: str = "",
    msg: str | None = None,
) -> Response:
    # Read leniently, as other list pages do: an edited address shows a page.
    q, cursor, size = _search(q), cursor_or_none(cursor), page_size(limit, PAGE)
    rows, more = await admin_service.list_users(session, q=q, cursor=cursor, limit=size)
    return _page(
        request,
        "users",
        "admin/users.html",
        {
            "rows": rows,
            **_listing(USERS, q, cursor, size, more),
            "me": admin.id,
            "roles": ROLE_CHOICES,
            "plans": list(SubscriptionPlan),
            "statuses": list(SubscriptionStatus),
            "flash": notice_of(NOTICES, msg),
        },
    )


async def _change_user(
    request: Request,
    session: AsyncSession,
    admin: Principal,
    user_id: uuid.UUID,
    fields: dict[str, Any],
    *,
    csrf: str,
    back: str,
    done: str,
) -> Response:
    if not csrf_ok(request, csrf):
        return _back(USERS, back, "expired")
    try:
        changes = AdminUserUpdate.model_validate(fields)
    except ValidationError:
        return _back(USERS, back, "invalid")
    try:
        await admin_service.update_user(session, actor=admin, user_id=user_id, changes=changes)
    except AtelierError as error:
        return _back(USERS, back, await _refused(session, error))
    request.app.state.auth_cache.forget_user(user_id)  # frees entries; hits re-check anyway
    return _back(USERS, back, done)


@router.post(USERS + "/{user_id}/role", response_class=HTMLResponse)
async def change_role(
    request: Request,
    user_id: uuid.UUID,
    admin: AdminWebUser,
    session: DB,
    role: FormText = "",
    csrf_token: FormText = "",
    back: FormText = "",
) -> Response:
    fields = {"role": role}
    return await _change_user(
        request, session, admin, user_id, fields, csrf=csrf_token, back=back, done="role-changed"
    )


@router.post(USERS + "/{user_id}/active", response_class=HTMLResponse)
async def set_active(
    request: Request,
    user_id: uuid.UUID,
    admin: AdminWebUser,
    session: DB,
    active: FormText = "",
    csrf_token: FormText = "",
    back: FormText = "",
) -> Response:
    if active not in ("true", "false"):
        return _back(USERS, back, "invalid")
    done = "activated" if active == "true" else "deactivated"
    return await _change_user(
        request,
        session,
        admin,
        user_id,
        {"is_active": active == "true"},
        csrf=csrf_token,
        back=back,
        done=done,
    )


@router.post(USERS + "/{user_id}/plan", response_class=HTMLResponse)
async def set_plan(
    request: Request,
    user_id: uuid.UUID,
    admin: AdminWebUser,
    session: DB,
    plan: FormText = "",
    status: FormText = "",
    csrf_token: FormText = "",
    back: FormText = "",
) -> Response:
    fields = {"plan": plan, "subscription_status": status}
    return await _change_user(
        request, session, admin, user_id, fields, csrf=csrf_token, back=back, done="plan-saved"
    )


# ------------------------------------------------------------------ organizations
@router.get(ORGANIZATIONS, response_class=HTMLResponse)
async def organizations(
    request: Request,
    admin: AdminWebUser,
    session: DB,
    q: str = "",
    cursor: str | None = None,
    limit: str = "",
    msg: str | None = None,
) -> Response:
    q, cursor, size = _search(q), cursor_or_none(cursor), page_size(limit, PAGE)
    rows, more = await admin_service.list_organizations(session, q=q, cursor=cursor, limit=size)
    return _page(
        request,
        "organizations",
        "admin/organizations.html",
        {
            "rows": rows,
            **_listing(ORGANIZATIONS, q, cursor, size, more),
            "plans": list(SubscriptionPlan),
            "statuses": list(SubscriptionStatus),
            "flash": notice_of(NOTICES, msg),
        },
    )


@router.post(ORGANIZATIONS + "/{org_id}", response_class=HTMLResponse)
async def save_organization(
    request: Request,
    org_id: uuid.UUID,
    admin: AdminWebUser,
    session: DB,
    tier: FormText = "",
    status: FormText = "",
    trial_ends: FormText = "",
    csrf_token: FormText = "",
    back: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _back(ORGANIZATIONS, back, "expired")
    # A day (the trial ends as it starts, UTC), or nothing: no trial end.
    trial: dt.datetime | None = None
    if trial_ends.strip():
        try:
            day = dt.date.fromisoformat(trial_ends.strip())
        except ValueError:
            return _back(ORGANIZATIONS, back, "bad-date")
        trial = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    fields = {"subscription_tier": tier, "subscription_status": status}
    try:
        changes = AdminOrganizationUpdate.model_validate({**fields, "trial_ends_at": trial})
    except ValidationError as error:
        dates = any(e["loc"] == ("trial_ends_at",) for e in error.errors())
        return _back(ORGANIZATIONS, back, "bad-date" if dates else "invalid")
    try:
        await admin_service.update_organization(session, org_id=org_id, changes=changes)
    except AtelierError as error:
        return _back(ORGANIZATIONS, back, await _refused(session, error))
    return _back(ORGANIZATIONS, back, "org-saved")
