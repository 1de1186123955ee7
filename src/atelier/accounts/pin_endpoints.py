"""``/api/v1/admin/pin``: set, change or remove the instance PIN, and unlock the admin
console with it (administrators only; anyone else gets the 404 of an unknown path)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import pin
from atelier.accounts.deps import Token
from atelier.accounts.roles import Admin, require_admin
from atelier.core.deps import DB
from atelier.core.openapi import error_responses
from atelier.core.schemas import InputModel

Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,12}$")]

router = APIRouter(
    prefix="/admin/pin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(
        404, s404="Not found; also what anyone but an administrator gets, on every route."
    ),
)


class PinStatus(BaseModel):
    pin_set: bool
    unlocked_until: dt.datetime | None = Field(
        default=None, description="until when this credential may use the console unasked"
    )
    locked_until: dt.datetime | None = Field(
        default=None, description="PIN entry is locked for you until then (too many wrong PINs)"
    )


class PinChange(InputModel):
    pin: Pin | None = Field(description="4 to 12 digits; null removes the PIN")
    current_pin: str | None = Field(
        default=None, max_length=64, description="needed when a PIN is set"
    )


class PinEntry(InputModel):
    pin: str = Field(min_length=1, max_length=64)


async def _status(session: AsyncSession, user_id: uuid.UUID, token: str) -> PinStatus:
    row = await pin.settings_row(session)
    return PinStatus(
        pin_set=row is not None,
        unlocked_until=await pin.unlocked_until(session, token=token) if row else None,
        locked_until=await pin.locked_until(session, user_id),
    )


@router.get("", response_model=PinStatus)
async def pin_status(user: Admin, token: Token, session: DB) -> PinStatus:
    """Whether a PIN is set, and whether this credential has entered it lately."""
    return await _status(session, user.id, token)


@router.put("", response_model=PinStatus, responses=error_responses(403, 429))
async def change_pin(
    body: PinChange, request: Request, user: Admin, token: Token, session: DB
) -> PinStatus:
    """Set the PIN, change it (``current_pin`` needed), or remove it (``pin`` null). Every
    unlock ends; this credential is unlocked with the new PIN."""
    now_set = await pin.set_pin(
        session,
        request.app.state.sessionmaker,
        user_id=user.id,
        new_pin=body.pin,
        current_pin=body.current_pin,
    )
    if now_set:
        await pin.unlock(session, token=token, user_id=user.id)
    return await _status(session, user.id, token)


@router.post("/unlock", response_model=PinStatus, responses=error_responses(403, 429))
async def unlock(
    body: PinEntry, request: Request, user: Admin, token: Token, session: DB
) -> PinStatus:
    """Enter the PIN: this credential may use the admin console for 15 minutes. 5 wrong
    PINs in 15 minutes lock PIN entry for your account for 15 minutes (429)."""
    if await pin.settings_row(session) is not None:
        await pin.check_pin(request.app.state.sessionmaker, user_id=user.id, pin=body.pin)
        await pin.unlock(session, token=token, user_id=user.id)
    return await _status(session, user.id, token)


@router.post("/lock", response_model=PinStatus)
async def lock(user: Admin, token: Token, session: DB) -> PinStatus:
    """End this credential's unlock now (e.g. before leaving a shared computer)."""
    await pin.lock(session, token=token)
    return await _status(session, user.id, token)
