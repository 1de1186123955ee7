"""Signup, login, sessions and API keys. Services flush; the caller commits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import ApiKey, User, UserRole, UserSession
from atelier.accounts.principal import AuthCache, Principal
from atelier.accounts.scopes import DEFAULT_SCOPES, Scope, require_scope
from atelier.accounts.throttle import LoginThrottle
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
    first_becomes_admin: bool = False,
) -> User:
    """A new account. With ``first_becomes_admin`` (the sign-up forms), the first account
    of an empty instance is made ADMIN: a fresh instance needs a way into its console."""
    # Hashed before the database is asked anything: a session's first query takes a pooled
    # connection until the request ends, and must not hold it while the hash waits its turn
    # (a signup flood would otherwise use up the pool and stall every other request).
    password_hash = await security.hash_password_async(password) if password else None
    if await email_taken(session, email):
        raise Conflict("an account with this email already exists", code="email_taken")
    maybe_first = first_becomes_admin and await _instance_looks_empty(session)
    user = User(email=normalize_email(email), name=name, password_hash=password_hash, role=role)
    session.add(user)
    await session.flush()
    # Counted after the insert: on SQLite the insert holds the write lock until commit, so
    # a concurrent first sign-up counts two; on PostgreSQL the advisory lock taken in
    # _instance_looks_empty makes it wait for this transaction, then count two.
    if maybe_first and await session.scalar(select(func.count()).select_from(User)) == 1:
        user.role = UserRole.ADMIN
        await session.flush()
    return user


# Any fixed number: PostgreSQL's advisory locks are keyed by a 64-bit integer.
_FIRST_ACCOUNT_LOCK = 0x41_54_45_4C_31  # "ATEL1"


async def has_accounts(session: AsyncSession) -> bool:
    return await session.scalar(select(User.id).limit(1)) is not None


async def _instance_looks_empty(session: AsyncSession) -> bool:
    """No account yet. The usual answer (there are accounts) costs one indexed read and no
    lock; only on an empty instance do sign-ups queue, on PostgreSQL, for the count."""
    if await has_accounts(session):
        return False
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_FIRST_ACCOUNT_LOCK)))
    return True


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


async def login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    throttle: LoginThrottle | None = None,
    address: str | None = None,
) -> User:
    """The user whose email and password these are. With a throttle, a locked-out
    address or account is refused (429) before any hashing, and failures are counted."""
    if throttle is not None:
        await throttle.check(address=address, email=email)
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    # Nothing is written yet: end the read so that its pooled connection is free while the
    # password hashes (that may wait its turn, see security.PasswordGate) and while the
    # throttle writes through a connection of its own. Held across both, a flood of 32
    # logins used up the pool and stalled every other request, logins included.
    await session.commit()
    # Always verify (against a dummy hash when the user is unknown): equal timing.
    ok = await security.verify_password_async(user.password_hash if user else None, password)
    if user is None or not ok:
        if throttle is not None:
            await throttle.failed(address=address, email=email)
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    if not user.is_active:
        raise Forbidden("this account is disabled", code="account_disabled")
    if throttle is not None:
        await throttle.succeeded(email=email)
    if user.password_hash and security.password_needs_rehash(user.password_hash):
        user.password_hash = await security.hash_password_async(password)
    user.last_login_at = utcnow()
    await session.flush()
    return user


async def load_user(session: AsyncSession, principal: Principal) -> User:
    user = await session.get(User, principal.id)
    if user is None:
        raise Unauthorized("this account no longer exists", code="invalid_token")
    return user


async def update_profile(session: AsyncSession, user: User, changes: dict[str, Any]) -> User:
    """Changes from a validated ProfileUpdate: a null name or preferences is ignored (they
    always have a value); a null avatar_url removes the picture."""
    for field, value in changes.items():
        if value is not None or field == "avatar_url":
            setattr(user, field, value)
    await session.flush()
    return user


async def revoke_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.token_hash == security.token_digest(token))
        .values(is_active=False, revoked_at=utcnow())
    )


# Built once: the statement cache key is memoised on the object, so the hot path
# neither rebuilds the expression nor recomputes its key.
_SESSION_LOOKUP = (
    select(User.id, User.role, User.is_active, User.updated_at, UserSession.expires_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("digest"), UserSession.is_active.is_(True))
)
_API_KEY_LOOKUP = (
    select(
        User.id,
        User.role,
        User.is_active,
        User.updated_at,
        ApiKey.id,
        ApiKey.expires_at,
        ApiKey.last_used_at,
        ApiKey.scopes,
    )
    .join(ApiKey, ApiKey.user_id == User.id)
    .where(ApiKey.key_hash == bindparam("digest"), ApiKey.revoked_at.is_(None))
)
# Why a cache hit still reads the user's row: each server process has its own cache, and
# an administrator deactivates a user (or changes their role) through one of them. The
# others cannot be told (PostgreSQL could broadcast with LISTEN/NOTIFY, SQLite has
# nothing of the kind, and a missed message would leave a disabled account working), so
# each hit checks the one row that such a change writes: by primary key, on the
# connection the request opens anyway. Every change of a user row moves its
# ``updated_at``, which therefore serves as the user's auth version: a hit whose stamp
# no longer matches is looked up again, so an inactive user is refused, a new role is
# read, and sessions revoked on deactivation stay revoked after a reactivation. The
# cache still spares the token lookup (a join, and for keys the last-use write); what it
# no longer does is let a deactivated account work for its few seconds elsewhere.
_USER_STAMP = select(User.is_active, User.updated_at).where(User.id == bindparam("user_id"))


async def authenticate(
    session: AsyncSession, *, token: str, cache: AuthCache, touch_interval: dt.timedelta
) -> Principal | None:
    """The active user behind a session token or API key, or None."""
    digest = security.token_digest(token)
    cached = cache.entry(digest)
    if cached is not None:
        principal, stamp = cached
        row = (await session.execute(_USER_STAMP, {"user_id": principal.id})).first()
        if row is not None and row.is_active and row.updated_at == stamp:
            return principal
        cache.forget(digest)  # changed since: decided again below, from the database
    now = utcnow()
    scopes: frozenset[str] | None = None
    key_id: uuid.UUID | None = None
    if token.startswith(security.API_KEY_PREFIX):
        key_row = (await session.execute(_API_KEY_LOOKUP, {"digest": digest})).first()
        if key_row is None:
            return None
        user_id, role, is_active, stamp, key_id, expires_at, last_used_at, key_scopes = key_row
        scopes = frozenset(key_scopes or ())
        # Throttled so that authenticated reads do not each become a write.
        if is_active and (last_used_at is None or now - last_used_at >= touch_interval):
            await session.execute(
                update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
            )
    else:
        session_row = (await session.execute(_SESSION_LOOKUP, {"digest": digest})).first()
        if session_row is None:
            return None
        user_id, role, is_active, stamp, expires_at = session_row
    if not is_active or (expires_at is not None and expires_at <= now):
        return None
    principal = Principal(id=user_id, role=role, scopes=scopes, api_key_id=key_id)
    seconds_left = (expires_at - now).total_seconds() if expires_at else cache.ttl
    cache.put(digest, principal, seconds_left=seconds_left, stamp=stamp)
    return principal


async def create_api_key(
    session: AsyncSession,
    *,
    user: Principal,
    label: str,
    expires_at: dt.datetime | None,
    scopes: list[Scope] | None = None,
) -> tuple[ApiKey, str]:
    """A new key. Only a session, or a key that has the ``keys`` scope, may make one;
    ``scopes`` defaults to read and write."""
    require_scope(user, Scope.KEYS)
    chosen = sorted(set(scopes if scopes is not None else DEFAULT_SCOPES))
    raw = security.new_token(security.API_KEY_PREFIX)
    key = ApiKey(
        user_id=user.id,
        label=label,
        key_hash=security.token_digest(raw),
        key_prefix=raw[:12],
        expires_at=expires_at,
        scopes=[scope.value for scope in chosen],
    )
    session.add(key)
    await session.flush()
    return key, raw


async def list_api_keys(
    session: AsyncSession, *, user: Principal, cursor: str | None, limit: int
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


async def revoke_api_key(session: AsyncSession, *, user: Principal, key_id: uuid.UUID) -> ApiKey:
    require_scope(user, Scope.KEYS)
    key = await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user.id))
    if key is None:
        raise NotFound("no such API key", code="api_key_not_found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    await session.flush()
    return key
