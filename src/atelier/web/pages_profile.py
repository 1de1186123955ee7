"""The Profile tab of the account settings, ``/settings/profile`` (where ``/settings``
leads): name, picture, free-form preferences; the organizations the user is in."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import org_service
from atelier.accounts import service as accounts
from atelier.accounts.principal import Principal
from atelier.accounts.schemas import ProfileUpdate
from atelier.core.deps import DB
from atelier.web.flash import FormText, back
from atelier.web.form_messages import field_errors
from atelier.web.forms import json_object
from atelier.web.session import WebUser, csrf_ok
from atelier.web.settings_tabs import notice, settings_page

router = APIRouter(include_in_schema=False)


@router.get("/settings", response_class=HTMLResponse)
async def settings_home(user: WebUser) -> Response:
    return RedirectResponse("/settings/profile", status_code=303)


@router.get("/settings/profile", response_class=HTMLResponse)
async def profile(request: Request, user: WebUser, session: DB, msg: str | None = None) -> Response:
    return await _profile_page(request, session, user, flash=notice(msg))


async def _profile_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    flash: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    account = await accounts.load_user(session, user)
    typed = typed or {
        "name": account.name,
        "avatar_url": account.avatar_url or "",
        "preferences": json.dumps(account.preferences, indent=2, ensure_ascii=False)
        if account.preferences
        else "",
    }
    orgs, _ = await org_service.list_organizations(session, user=user, cursor=None, limit=100)
    return settings_page(
        request,
        "profile",
        "account/profile.html",
        {
            "account": account,
            "name": typed["name"],
            "avatar_url": typed["avatar_url"],
            "preferences": typed["preferences"],
            "orgs": orgs,
            "errors": errors or {},
            "flash": flash,
        },
        status=status,
    )


@router.post("/settings/profile", response_class=HTMLResponse)
async def save_profile(
    request: Request,
    user: WebUser,
    session: DB,
    name: FormText = "",
    avatar_url: FormText = "",
    preferences: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return back("/settings/profile", "expired")
    typed = {"name": name.strip(), "avatar_url": avatar_url.strip(), "preferences": preferences}
    errors: dict[str, str] = {}
    chosen = json_object(preferences)
    if chosen is None:
        errors["preferences"] = 'Write a JSON object, e.g. {"theme": "dark"}, or leave it empty.'
    try:
        changes = ProfileUpdate.model_validate(
            {"name": typed["name"], "avatar_url": typed["avatar_url"], "preferences": chosen}
        ).model_dump(exclude_unset=True)
    except ValidationError as error:
        errors |= field_errors(error)
    if errors:
        return await _profile_page(request, session, user, typed=typed, errors=errors, status=422)
    await accounts.update_profile(session, await accounts.load_user(session, user), changes)
    return back("/settings/profile", "profile-saved")
