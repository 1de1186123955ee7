"""Pages of the web UI: organizations, a tab of the account settings.

* ``/settings/organizations``: the user's organizations with their role, and a form to
  create one;
* ``/settings/organizations/{id}``: its details and members. Owners and admins rename
  it, add members by email, change roles and remove members; everyone else reads. An
  organization the user is not in is the 404 page (``org_service.load_organization``).

Writes are form posts (CSRF-checked, the service called with the same rules as the API,
then a redirect with a ``?msg=`` code naming a fixed notice); a refused change renders
the page again with the service's message next to its field or member. The routes join
the account area's router (``pages_account`` includes this one).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import org_service
from atelier.accounts.models import Organization, OrgRole
from atelier.accounts.org_schemas import MemberAdd, OrganizationCreate, OrganizationUpdate
from atelier.accounts.principal import Principal
from atelier.core.deps import DB
from atelier.core.errors import AtelierError
from atelier.web.flash import FormText, back, notice_of
from atelier.web.form_messages import field_errors
from atelier.web.session import WebUser, csrf_ok
from atelier.web.settings_tabs import TABS
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)


BASE = "/settings/organizations"
SLUG_HINT = (
    "3 to 50 characters: lowercase letters, digits and hyphens (e.g. acme-design). "
    "Leave it empty to derive one from the name."
)
ROLE_CHOICES = (
    (OrgRole.OWNER, "Owner", "everything, including deleting the organization"),
    (OrgRole.ADMIN, "Admin", "manages members and every shared project"),
    (OrgRole.MEMBER, "Member", "reads and edits shared projects"),
    (OrgRole.VIEWER, "Viewer", "reads shared projects"),
)

NOTICES: dict[str, tuple[str, str]] = {
    "created": ("ok", "Organization created. Add members below, then share projects with it."),
    "saved": ("ok", "Organization details saved."),
    "member-added": ("ok", "Member added."),
    "role-changed": ("ok", "Role changed."),
    "member-removed": ("ok", "Member removed."),
    "left": ("ok", "You left the organization."),
    "deleted": (
        "ok",
        "The organization was deleted. Its projects are private to their owners again.",
    ),
    "expired": ("error", "The form expired. Please try again."),
}


def notice(msg: str | None) -> dict[str, str] | None:
    return notice_of(NOTICES, msg)


def _detail(error: AtelierError) -> str:
    """The service's message for people (a field error's first message)."""
    if isinstance(error.detail, str):
        return error.detail
    if isinstance(error.detail, list) and error.detail:
        first = error.detail[0]
        if isinstance(first, dict):
            return str(first.get("message", ""))
    return "This change is not possible."


def _field_errors(error: ValidationError) -> dict[str, str]:
    """Plain words by field; an error about the whole form goes next to the name."""
    return field_errors(error, lambda loc: str(loc[0]) if loc else "name")


def _page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    return render(
        request,
        template,
        {
            "nav": "settings",
            "tabs": TABS,
            "tab": "organizations",
            "slug_hint": SLUG_HINT,
            "roles": ROLE_CHOICES,
            **context,
        },
        status=status,
    )


# ------------------------------------------------------------------ the list
@router.get(BASE, response_class=HTMLResponse)
async def organizations(
    request: Request, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    return await _list_page(request, session, user, flash=notice(msg))


async def _list_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    flash: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    orgs, _ = await org_service.list_organizations(session, user=user, cursor=None, limit=100)
    return _page(
        request,
        "account/organizations.html",
        {
            "orgs": orgs,
            "values": values or {"name": "", "slug": ""},
            "errors": errors or {},
            "flash": flash,
        },
        status=status,
    )


@router.post(BASE, response_class=HTMLResponse)
async def create_organization(
    request: Request,
    user: WebUser,
    session: DB,
    name: FormText = "",
    slug: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return back(BASE, "expired")
    values = {"name": name, "slug": slug}
    try:
        body = OrganizationCreate(name=name.strip(), slug=slug.strip() or None)
    except ValidationError as error:
        errors = _field_errors(error)
        if "name" in errors:
            errors["name"] = "Enter a name of 1 to 100 characters."
        if "slug" in errors:
            errors["slug"] = "Use 3 to 50 lowercase letters, digits or hyphens."
        return await _list_page(request, session, user, values=values, errors=errors, status=422)
    try:
        org = await org_service.create_organization(
            session, user=user, name=body.name, slug=body.slug
        )
    except AtelierError as error:  # the slug is taken
        return await _list_page(
            request, session, user, values=values, errors={"slug": _detail(error)}, status=409
        )
    return back(f"{BASE}/{org.id}", "created")


# ------------------------------------------------------------------ one organization
@router.get(BASE + "/{org_id}", response_class=HTMLResponse)
async def organization(
    request: Request, org_id: uuid.UUID, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    org, role = await org_service.load_organization(session, user=user, org_id=org_id)
    return await _org_page(request, session, user, org, role, flash=notice(msg))


async def _org_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    org: Organization,
    role: OrgRole,
    *,
    flash: dict[str, str] | None = None,
    details: dict[str, str] | None = None,
    details_errors: dict[str, str] | None = None,
    add: dict[str, str] | None = None,
    add_errors: dict[str, str] | None = None,
    member_errors: dict[uuid.UUID, str] | None = None,
    status: int = 200,
) -> Response:
    members, _ = await org_service.list_members(session, org=org, cursor=None, limit=200)
    manager = role in org_service.MANAGERS
    return _page(
        request,
        "account/organization.html",
        {
            "org": org,
            "role": role,
            "manager": manager,
            "is_owner": role == OrgRole.OWNER,
            "members": members,
            "owners": sum(1 for member, _ in members if member.role == OrgRole.OWNER),
            "me": user.id,
            "details": details or {"name": org.name, "slug": org.slug},
            "details_errors": details_errors or {},
            "add": add or {"email": "", "role": OrgRole.MEMBER.value},
            "add_errors": add_errors or {},
            "member_errors": member_errors or {},
            "flash": flash,
        },
        status=status,
    )


@router.post(BASE + "/{org_id}", response_class=HTMLResponse)
async def save_organization(
    request: Request,
    org_id: uuid.UUID,
    user: WebUser,
    session: DB,
    name: FormText = "",
    slug: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    path = f"{BASE}/{org_id}"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    org, role = await org_service.load_organization(
        session, user=user, org_id=org_id, roles=org_service.MANAGERS
    )
    values = {"name": name, "slug": slug}
    errors: dict[str, str] = {}
    try:
        body = OrganizationUpdate(name=name.strip(), slug=slug.strip())
    except ValidationError as error:
        errors = _field_errors(error)
        if "name" in errors:
            errors["name"] = "Enter a name of 1 to 100 characters."
        if "slug" in errors:
            errors["slug"] = "Use 3 to 50 lowercase letters, digits or hyphens."
    else:
        try:
            await org_service.update_organization(session, org=org, name=body.name, slug=body.slug)
        except AtelierError as error:
            errors = {"slug": _detail(error)}
    if errors:
        return await _org_page(
            request,
            session,
            user,
            org,
            role,
            details=values,
            details_errors=errors,
            status=422,
        )
    return back(path, "saved")


@router.post(BASE + "/{org_id}/members", response_class=HTMLResponse)
async def add_member(
    request: Request,
    org_id: uuid.UUID,
    user: WebUser,
    session: DB,
    email: FormText = "",
    role: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    path = f"{BASE}/{org_id}"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    org, my_role = await org_service.load_organization(
        session, user=user, org_id=org_id, roles=org_service.MANAGERS
    )
    values = {"email": email, "role": role}
    errors: dict[str, str] = {}
    try:
        body = MemberAdd(email=email.strip(), role=OrgRole(role))
    except (ValidationError, ValueError) as error:
        problems = _field_errors(error) if isinstance(error, ValidationError) else {"role": ""}
        if "email" in problems or not email.strip():
            errors["email"] = "Enter the email address the person signed up with."
        if "role" in problems:
            errors["role"] = "Choose a role."
    else:
        try:
            await org_service.add_member(
                session, org=org, actor_role=my_role, email=body.email, role=body.role
            )
        except AtelierError as error:
            field = "role" if error.status_code == 403 else "email"
            errors = {field: _detail(error)}
    if errors:
        return await _org_page(
            request, session, user, org, my_role, add=values, add_errors=errors, status=422
        )
    return back(path, "member-added")


@router.post(BASE + "/{org_id}/members/{user_id}/role", response_class=HTMLResponse)
async def change_role(
    request: Request,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    user: WebUser,
    session: DB,
    role: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    path = f"{BASE}/{org_id}"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    org, my_role = await org_service.load_organization(
        session, user=user, org_id=org_id, roles=org_service.MANAGERS
    )
    try:
        await org_service.change_role(
            session, org=org, actor_role=my_role, user_id=user_id, role=OrgRole(role)
        )
    except ValueError:
        message = "Choose a role."
    except AtelierError as error:
        message = _detail(error)
    else:
        return back(path, "role-changed")
    return await _org_page(
        request, session, user, org, my_role, member_errors={user_id: message}, status=422
    )


@router.post(BASE + "/{org_id}/members/{user_id}/remove", response_class=HTMLResponse)
async def remove_member(
    request: Request,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
) -> Response:
    path = f"{BASE}/{org_id}"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    # Anyone may leave; removing others needs a manager (the service decides).
    org, my_role = await org_service.load_organization(session, user=user, org_id=org_id)
    try:
        await org_service.remove_member(
            session, org=org, actor=user, actor_role=my_role, user_id=user_id
        )
    except AtelierError as error:
        return await _org_page(
            request,
            session,
            user,
            org,
            my_role,
            member_errors={user_id: _detail(error)},
            status=error.status_code if error.status_code in (403, 409) else 422,
        )
    if user_id == user.id:
        return back(BASE, "left")
    return back(path, "member-removed")


@router.post(BASE + "/{org_id}/delete", response_class=HTMLResponse)
async def delete_organization(
    request: Request, org_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    """Owners only (the service refuses others: 403, or 404 to strangers)."""
    path = f"{BASE}/{org_id}"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    org, _ = await org_service.load_organization(
        session, user=user, org_id=org_id, roles=(OrgRole.OWNER,)
    )
    await org_service.delete_organization(session, org=org)
    return back(BASE, "deleted")
