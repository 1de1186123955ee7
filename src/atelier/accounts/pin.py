"""The instance PIN: a second lock on the admin console, for an administrator's unlocked
laptop or a leaked admin session.

* An admin sets a 4-12 digit PIN (changing it needs the old one). While one is set, the
  admin console and API ask for it: once per ``UNLOCK_MINUTES`` per credential (a
  browser session, an API key), or on each API call in an ``X-Atelier-PIN`` header.
* ``MAX_FAILURES`` wrong PINs within ``WINDOW`` lock PIN entry for that account for
  ``LOCK`` (429 with Retry-After). Failures are counted in ``login_failures`` under a
  key of the account's, in a transaction of their own (the refused request rolls back;
  its failure must still count), so every server process shares them.
* ``atelier pin reset`` on the server clears the PIN for an operator locked out of it.
* Every PIN event is logged, never the PIN.

The PIN is hashed with argon2id and a salt of its own (kept in ``salt``, as seed 002's
``security_settings`` has it), on the password hashing threads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
import uuid

import structlog
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import hash_secret
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.accounts.models import LoginFailure
from atelier.accounts.pin_models import SETTINGS_ID, PinUnlock, SecuritySettings
from atelier.core.db import session_scope, utcnow
from atelier.core.errors import AtelierError, Forbidden
from atelier.core.security import password_gate

log = structlog.get_logger("atelier.security")

PIN_PATTERN = re.compile(r"^[0-9]{4,12}$")
UNLOCK_MINUTES = 15
MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
_HASHER = PasswordHasher()


class PinRequired(AtelierError):
    status_code = 403
    code = "pin_required"


class WrongPin(AtelierError):
    status_code = 403
    code = "wrong_pin"


class PinLocked(AtelierError):
    status_code = 429
    code = "pin_locked"

    def __init__(self, seconds: float) -> None:
        self.retry_after = max(1, math.ceil(seconds))
        super().__init__(
            f"too many wrong PINs: try again in {self.retry_after} s "
            "(an operator can clear the PIN with `atelier pin reset`)"
        )
        self.headers = {"Retry-After": str(self.retry_after)}


def token_digest(token: str) -> str:
    return hashlib.sha256(b"pin-unlock:" + token.encode()).hexdigest()


def _failure_key(user_id: uuid.UUID) -> str:
    return f"pin:{user_id}"


def _hash(pin: str) -> tuple[str, str]:
    salt = os.urandom(16)
    encoded = hash_secret(
        pin.encode(),
        salt,
        time_cost=_HASHER.time_cost,
        memory_cost=_HASHER.memory_cost,
        parallelism=_HASHER.parallelism,
        hash_len=_HASHER.hash_len,
        type=Type.ID,
    )
    return encoded.decode(), salt.hex()


def _matches(pin_hash: str, pin: str) -> bool:
    try:
        return _HASHER.verify(pin_hash, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def settings_row(session: AsyncSession) -> SecuritySettings | None:
    row = await session.get(SecuritySettings, SETTINGS_ID)
    return row if row is not None and row.pin_hash else None


async def locked_until(session: AsyncSession, user_id: uuid.UUID) -> dt.datetime | None:
    row = await session.get(LoginFailure, _failure_key(user_id))
    if row is None or row.locked_until is None or row.locked_until <= utcnow():
        return None
    return row.locked_until


async def check_pin(
    maker: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID, pin: str
) -> None:
    """Return if ``pin`` is the instance's PIN; else count the failure and raise WrongPin
    (or PinLocked once the account is locked, without looking at the PIN)."""
    async with session_scope(maker) as session:
        until = await locked_until(session, user_id)
        row = await settings_row(session)
    if until is not None:
        log.warning("pin_refused_locked", user_id=str(user_id))
        raise PinLocked((until - utcnow()).total_seconds())
    if row is None or row.pin_hash is None:
        return
    well_formed = PIN_PATTERN.match(pin) is not None
    if well_formed and await password_gate.run(_matches, row.pin_hash, pin):
        async with session_scope(maker) as session:
            await session.execute(
                delete(LoginFailure).where(LoginFailure.key == _failure_key(user_id))
            )
        return
    left = await _count_failure(maker, user_id)
    if left <= 0:
        log.warning("pin_locked", user_id=str(user_id), minutes=int(LOCK.total_seconds() // 60))
        raise PinLocked(LOCK.total_seconds())
    log.warning("pin_wrong", user_id=str(user_id), attempts_left=left)
    raise WrongPin(f"wrong PIN: {left} more attempt{'s' if left != 1 else ''} before a lock")


async def _count_failure(maker: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> int:
    """Record a wrong PIN in its own transaction; how many attempts are left."""
    now = utcnow()
    async with session_scope(maker) as session:
        row = await session.get(LoginFailure, _failure_key(user_id), with_for_update=True)
        if row is None:
            row = LoginFailure(key=_failure_key(user_id), failures=0, last_failed_at=now)
            session.add(row)
        elif now - row.last_failed_at > WINDOW:
            row.failures = 0  # the earlier ones are forgotten
        row.failures += 1
        row.last_failed_at = now
        left = MAX_FAILURES - row.failures
        if left <= 0:
            row.locked_until = now + LOCK
            row.failures = 0
        return left


async def set_pin(
    session: AsyncSession,
    maker: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    new_pin: str | None,
    current_pin: str | None,
) -> bool:
    """Set, change (the current PIN is needed) or remove (``new_pin`` None) the PIN.
    Every credential's unlock ends: the next use of the console asks for the new one.
    Returns whether a PIN is set now."""
    row = await settings_row(session)
    if row is not None:
        if not current_pin:
            raise Forbidden(
                "a PIN is set: send it as current_pin to change it", code="pin_required"
            )
        await check_pin(maker, user_id=user_id, pin=current_pin)
    stored = await session.get(SecuritySettings, SETTINGS_ID)
    if stored is None:
        stored = SecuritySettings(id=SETTINGS_ID)
        session.add(stored)
    if new_pin is None:
        stored.pin_hash, stored.salt = None, None
    else:
        stored.pin_hash, stored.salt = await password_gate.run(_hash, new_pin)
    stored.updated_at = utcnow()
    stored.updated_by_id = user_id
    await session.execute(delete(PinUnlock))
    await session.flush()
    event = "pin_removed" if new_pin is None else ("pin_changed" if row else "pin_set")
    log.info(event, user_id=str(user_id))
    return new_pin is not None


async def unlock(session: AsyncSession, *, token: str, user_id: uuid.UUID) -> dt.datetime:
    """Remember that this credential entered the PIN (the caller checked it)."""
    until = utcnow() + dt.timedelta(minutes=UNLOCK_MINUTES)
    digest = token_digest(token)
    row = await session.get(PinUnlock, digest)
    if row is None:
        session.add(PinUnlock(token_digest=digest, user_id=user_id, unlocked_until=until))
    else:
        row.unlocked_until, row.user_id = until, user_id
    await session.flush()
    log.info("pin_unlocked", user_id=str(user_id), minutes=UNLOCK_MINUTES)
    return until


async def lock(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(PinUnlock).where(PinUnlock.token_digest == token_digest(token)))


async def unlocked_until(session: AsyncSession, *, token: str) -> dt.datetime | None:
    until = await session.scalar(
        select(PinUnlock.unlocked_until).where(PinUnlock.token_digest == token_digest(token))
    )
    return until if until is not None and until > utcnow() else None


async def reset(session: AsyncSession) -> bool:
    """Clear the PIN, every unlock and every PIN lockout (``atelier pin reset``);
    whether there was a PIN."""
    row = await settings_row(session)
    stored = await session.get(SecuritySettings, SETTINGS_ID)
    if stored is not None:
        stored.pin_hash, stored.salt = None, None
        stored.updated_at, stored.updated_by_id = utcnow(), None
    await session.execute(delete(PinUnlock))
    await session.execute(delete(LoginFailure).where(LoginFailure.key.like("pin:%")))
    log.info("pin_reset", had_pin=row is not None)
    return row is not None
