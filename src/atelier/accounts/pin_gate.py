"""The admin API's PIN check: a dependency the admin routers add after the role check."""

from __future__ import annotations

from fastapi import Request

from atelier.accounts import pin
from atelier.accounts.deps import Token
from atelier.accounts.principal import Principal
from atelier.accounts.roles import Admin
from atelier.core.deps import DB

LOCKED_MESSAGE = (
    "the admin console is locked with the instance PIN: send it in the X-Atelier-PIN "
    "header, or POST it to /api/v1/admin/pin/unlock (good for 15 minutes)"
)


async def require_unlocked(request: Request, user: Admin, token: Token, session: DB) -> Principal:
    """Pass when no PIN is set, when ``X-Atelier-PIN`` holds it, or when this credential
    entered it less than 15 minutes ago; else 403 ``pin_required``."""
    if await pin.settings_row(session) is None:
        return user
    sent = request.headers.get("x-atelier-pin")
    if sent is not None:
        await pin.check_pin(request.app.state.sessionmaker, user_id=user.id, pin=sent)
        return user
    if await pin.unlocked_until(session, token=token) is not None:
        return user
    raise pin.PinRequired(LOCKED_MESSAGE)
