"""The API keys tab of the account settings, ``/settings/api-keys``: the user's keys, a
form to create one (with its scopes and expiry) and revoking.

Creating a key goes through the JSON API when the page's script runs, so that the raw key
only ever lives in the page that asked for it (a reload shows it no more); without
JavaScript the form post below creates it and shows it in that one response.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import service as accounts
from atelier.accounts.principal import Principal
from atelier.accounts.schemas import ApiKeyCreate
from atelier.accounts.scopes import DEFAULT_SCOPES
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.web.flash import FormText, back
from atelier.web.session import WebUser, csrf_ok
from atelier.web.settings_tabs import notice, settings_page

router = APIRouter(include_in_schema=False)

EXPIRY_CHOICES = (("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"))
SCOPE_CHOICES = (
    ("read", "Read (GET)"),
    ("write", "Write: create, change, delete, generate"),
    ("keys", "Create and revoke keys and MCP tokens"),
)


@router.get("/settings/api-keys", response_class=HTMLResponse)
async def api_keys(
    request: Request, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    return await _api_keys_page(request, session, user, flash=notice(msg))


async def _api_keys_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    flash: dict[str, str] | None = None,
    created: str | None = None,
    errors: dict[str, str] | None = None,
    label: str = "",
    checked_scopes: list[str] | None = None,
    status: int = 200,
) -> Response:
    keys, _ = await accounts.list_api_keys(session, user=user, cursor=None, limit=200)
    return settings_page(
        request,
        "api-keys",
        "account/api_keys.html",
        {
            "keys": keys,
            "now": utcnow(),
            "created": created,
            "errors": errors or {},
            "label": label,
            "expiry_choices": EXPIRY_CHOICES,
            "scope_choices": SCOPE_CHOICES,
            "checked_scopes": checked_scopes or [scope.value for scope in DEFAULT_SCOPES],
            "flash": flash,
        },
        status=status,
    )


@router.post("/settings/api-keys", response_class=HTMLResponse)
async def create_api_key(
    request: Request,
    user: WebUser,
    session: DB,
    label: FormText = "",
    expires_in_days: FormText = "",
    scopes: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    scopes_shown: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Without JavaScript: the key is created here and shown in this response only."""
    if not csrf_ok(request, csrf_token):
        return back("/settings/api-keys", "expired")
    expires = None
    if expires_in_days.isdigit():
        expires = utcnow() + dt.timedelta(days=min(int(expires_in_days), 3650))
    try:
        body = ApiKeyCreate(label=label.strip(), expires_at=expires, scopes=scopes or None)
    except ValidationError as error:
        wrong = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
        errors = {}
        if "label" in wrong:
            errors["label"] = "Enter a label of 1 to 100 characters."
        if "scopes" in wrong:
            errors["scopes"] = "Choose from the listed scopes."
        return await _api_keys_page(
            request,
            session,
            user,
            label=label,
            checked_scopes=scopes,
            errors=errors,
            status=422,
        )
    # The page's form says it showed the scope boxes: none ticked is a mistake, not a
    # request for the defaults (which a client that sends no scopes gets).
    if scopes_shown and not scopes:
        return await _api_keys_page(
            request,
            session,
            user,
            label=label,
            checked_scopes=[],
            errors={"scopes": "Choose at least one thing the key may do."},
            status=422,
        )
    _, raw = await accounts.create_api_key(
        session, user=user, label=body.label, expires_at=body.expires_at, scopes=body.scopes
    )
    response = await _api_keys_page(request, session, user, created=raw)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/api-keys/{key_id}/revoke")
async def revoke_api_key(
    request: Request, key_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return back("/settings/api-keys", "expired")
    key = await accounts.revoke_api_key(session, user=user, key_id=key_id)
    request.app.state.auth_cache.forget(key.key_hash)
    return back("/settings/api-keys", "key-revoked")
