"""The instance PIN in the browser: the unlock page the admin console sends an
administrator to while a PIN is set (once per 15 minutes per browser session), and the
page that sets, changes or removes it. Same rules as ``/api/v1/admin/pin``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from atelier.accounts import pin
from atelier.accounts.deps import SESSION_COOKIE
from atelier.accounts.pin_endpoints import PinChange
from atelier.core.deps import DB
from atelier.core.errors import AtelierError
from atelier.web.flash import FormText, notice_of
from atelier.web.pages_admin import TABS, AdminRoleUser, AdminWebUser
from atelier.web.session import csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "pin-set": ("ok", "PIN saved. The console asks for it once every 15 minutes."),
    "pin-removed": ("ok", "PIN removed: the console no longer asks for one."),
    "expired": ("error", "The form expired. Please try again."),
}


def _safe_next(raw: str) -> str:
    """Back into the console only: never to another site (``//evil``) or elsewhere."""
    return raw if raw.startswith("/admin") and not raw.startswith("/admin/unlock") else "/admin"


def _message(error: AtelierError) -> str:
    return str(error.detail) if isinstance(error.detail, str) else "Not accepted."


@router.get("/admin/unlock", response_class=HTMLResponse)
async def unlock_page(request: Request, admin: AdminRoleUser, next: str = "/admin") -> Response:
    return _unlock(request, _safe_next(next), None)


def _unlock(request: Request, target: str, error: str | None, status: int = 200) -> Response:
    return render(
        request,
        "admin/unlock.html",
        {"nav": "admin", "next": target, "error": error},
        status=status,
    )


@router.post("/admin/unlock", response_class=HTMLResponse)
async def unlock(
    request: Request,
    admin: AdminRoleUser,
    session: DB,
    pin_code: FormText = "",
    next: FormText = "/admin",
    csrf_token: FormText = "",
) -> Response:
    target = _safe_next(next)
    if not csrf_ok(request, csrf_token):
        return _unlock(request, target, NOTICES["expired"][1], status=400)
    if await pin.settings_row(session) is not None:
        try:
            await pin.check_pin(request.app.state.sessionmaker, user_id=admin.id, pin=pin_code)
        except AtelierError as error:
            return _unlock(request, target, _message(error), status=error.status_code)
        token = request.cookies.get(SESSION_COOKIE, "")
        await pin.unlock(session, token=token, user_id=admin.id)
    return RedirectResponse(target, status_code=303)


@router.get("/admin/pin", response_class=HTMLResponse)
async def pin_page(
    request: Request, admin: AdminWebUser, session: DB, msg: str | None = None
) -> Response:
    return await _pin(request, session, notice_of(NOTICES, msg), {})


async def _pin(
    request: Request,
    session: DB,
    flash: dict[str, str] | None,
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "nav": "admin",
        "tabs": TABS,
        "tab": "pin",
        "flash": flash,
        "pin_set": await pin.settings_row(session) is not None,
        "errors": errors,
    }
    return render(request, "admin/pin.html", context, status=status)


@router.post("/admin/pin", response_class=HTMLResponse)
async def save_pin(
    request: Request,
    admin: AdminWebUser,
    session: DB,
    new_pin: FormText = "",
    current_pin: FormText = "",
    remove: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return await _pin(request, session, notice_of(NOTICES, "expired"), {}, status=400)
    try:
        body = PinChange(pin=None if remove else new_pin, current_pin=current_pin or None)
    except ValidationError:
        errors = {"new_pin": "4 to 12 digits"}
        return await _pin(request, session, None, errors, status=422)
    try:
        now_set = await pin.set_pin(
            session,
            request.app.state.sessionmaker,
            user_id=admin.id,
            new_pin=body.pin,
            current_pin=body.current_pin,
        )
    except AtelierError as error:
        await session.rollback()
        errors = {"current_pin": _message(error)}
        return await _pin(request, session, None, errors, status=error.status_code)
    if now_set:
        await pin.unlock(session, token=request.cookies.get(SESSION_COOKIE, ""), user_id=admin.id)
    return RedirectResponse(f"/admin/pin?msg={'pin-set' if now_set else 'pin-removed'}", 303)
