"""Signup, login, sessions and API keys. Services flush; the caller commits."""

from __future__ import annotations

import datetime as dt
import uuid

from anyio import to_thread
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import ApiKey, User, UserRole, UserSession
from atelier.core import security
from atelier.core.db import utcnow
from atelier.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from atelier.core.pagination import next_cursor, paginate_query


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def email_taken(session: AsyncSession, email: str) -> bool:
    found = await session.scalar(select(User.id).where(User.email == normalize_email(email)))
    return found is not None


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    password: str | None,
    role: UserRole = UserRole.USER,
) -> User:
    if await email_taken(session, email):
        raise Conflict("an account with this email already exists", code="email_taken")
    password_hash = await to_thread.run_sync(security.hash_password, password) if password else None
    user = User(email=normalize_email(email), name=name, password_hash=password_hash, role=role)
    session.add(user)
    await session.flush()
    return user


async def start_session(
    session: AsyncSession, *, user: User, ttl_hours: int, user_agent: str | None = None
) -> tuple[UserSession, str]:
    token = security.new_token(security.SESSION_TOKEN_PREFIX)
    login = UserSession(
        user_id=user.id,
        token_hash=security.token_digest(token),
        expires_at=utcnow() + dt.timedelta(hours=ttl_hours),
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(login)
    await session.flush()
    return login, token


async def login(session: AsyncSession, *, email: str, password: str) -> User:
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    # Always verify (against a dummy hash when the user is unknown): equal timing.
    ok = await to_thread.run_sync(
        security.verify_password, user.password_hash if user else None, password
    )
    if user is None or not ok:
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    if not user.is_active:
        raise Forbidden("this account is disabled", code="account_disabled")
    if user.password_hash and security.password_needs_rehash(user.password_hash):
        user.password_hash = await to_thread.run_sync(security.hash_password, password)
    user.last_login_at = utcnow()
    await session.flush()
    return user


async def revoke_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.token_hash == security.token_digest(token))
        .values(is_active=False, revoked_at=utcnow())
    )


async def authenticate(
    session: AsyncSession, *, token: str, touch_interval: dt.timedelta
) -> User | None:
    """The active user behind a session token or API key, or None."""
    now = utcnow()
    digest = security.token_digest(token)
    if token.startswith(security.API_KEY_PREFIX):
        row = (
            await session.execute(
                select(User, ApiKey)
                .join(ApiKey, ApiKey.user_id == User.id)
                .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            )
        ).first()
        if row is None:
            return None
        user, key = row
        if key.expires_at is not None and key.expires_at <= now:
            return None
        # Throttled so that authenticated reads do not each become a write.
        if key.last_used_at is None or now - key.last_used_at >= touch_interval:
            key.last_used_at = now
    else:
        found = await session.scalar(
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.token_hash == digest,
                UserSession.is_active.is_(True),
                UserSession.expires_at > now,
            )
        )
        if found is None:
            return None
        user = found
    if user is None or not user.is_active:
        return None
    return user


async def create_api_key(
    session: AsyncSession, *, user: User, label: str, expires_at: dt.datetime | None
) -> tuple[ApiKey, str]:
    raw = security.new_token(security.API_KEY_PREFIX)
    key = ApiKey(
        user_id=user.id,
        label=label,
        key_hash=security.token_digest(raw),
        key_prefix=raw[:12],
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    return key, raw


async def list_api_keys(
    session: AsyncSession, *, user: User, cursor: str | None, limit: int
) -> tuple[list[ApiKey], str | None]:
    query = paginate_query(
        select(ApiKey).where(ApiKey.user_id == user.id),
        created_col=ApiKey.created_at,
        id_col=ApiKey.id,
        cursor=cursor,
        limit=limit,
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


async def revoke_api_key(session: AsyncSession, *, user: User, key_id: uuid.UUID) -> None:
    key = await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user.id))
    if key is None:
        raise NotFound("no such API key", code="api_key_not_found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    await session.flush()
