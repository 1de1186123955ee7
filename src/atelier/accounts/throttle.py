"""Login throttling: failed passwords cost the guesser time, not the account its owner.

The policy (settings ``ATELIER_LOGIN_*``, README "Login throttling"):

- Failures are counted per client address and per account (the email tried, whether
  or not such an account exists, so the answer tells nothing about which exist).
- After ``address_max_failures`` failures (default 5) an address is locked out for
  ``lockout_seconds`` (60), doubling with each further failure after a lock, up to
  ``address_lockout_max_seconds`` (1 hour).
- After ``account_max_failures`` failures (default 10) from any addresses, the account
  is locked out the same way, but for at most ``account_lockout_max_seconds`` (15 min).
- Per-address limits come first: a guesser on one address is stopped at 5 failures and
  never reaches the account's 10, so locking a victim out takes many addresses, and
  then only for minutes at a time.
- A locked-out attempt is answered 429 with ``Retry-After`` before any password is
  hashed, and does not count as a failure (it cannot lengthen the lock).
- A refusal waits ``refusal_delay_seconds`` (1 s) before it is answered: a client that
  retries as soon as it is refused would otherwise send hundreds of requests a second.
- A successful login clears the account's count. The address's count is not cleared
  (a guesser with an account of their own could reset it between guesses); it is
  forgotten ``failure_window_seconds`` (15 min) after its last failure or lock ends.

Counts live in the database (``login_failures``), so every server process of an
instance shares them. They are written in a transaction of their own: the request
that failed rolls back, and its failure must still count. Each process also remembers
the lockouts it has seen until they end (a lockout is never shortened), so that a
locked-out client's retries are refused without asking the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.accounts.models import LoginFailure
from atelier.config import Settings
from atelier.core.db import utcnow
from atelier.core.errors import AtelierError
from atelier.core.security import refusal_delay

# Lockouts remembered per process, at most; past that the ended ones are dropped, then
# (an attack from very many addresses) all of them: the database still has them.
MAX_REMEMBERED_LOCKS = 10_000


class TooManyAttempts(AtelierError):
    status_code = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            f"too many failed logins; try again in {self.retry_after} s",
        )
        self.headers = {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True, slots=True)
class Limit:
    max_failures: int  # 0: this kind of limit is off
    lockout_seconds: float
    lockout_max_seconds: float

    def lock_for(self, failures: int) -> float | None:
        """Seconds of lockout after the ``failures``-th failure, or None."""
        if self.max_failures <= 0 or failures < self.max_failures:
            return None
        doublings = min(failures - self.max_failures, 30)
        return float(min(self.lockout_seconds * 2**doublings, self.lockout_max_seconds))


@dataclass(frozen=True, slots=True)
class Policy:
    address: Limit
    account: Limit
    failure_window_seconds: float
    refusal_delay_seconds: float = 0.0


def _key(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:64]


def address_key(address: str) -> str:
    return _key("address", address)


def account_key(email: str) -> str:
    return _key("account", email.strip().lower())


def policy_from(settings: Settings) -> Policy:
    """The policy the ``ATELIER_LOGIN_*`` settings describe."""
    return Policy(
        address=Limit(
            settings.login_address_max_failures,
            settings.login_lockout_seconds,
            settings.login_address_lockout_max_seconds,
        ),
        account=Limit(
            settings.login_account_max_failures,
            settings.login_lockout_seconds,
            settings.login_account_lockout_max_seconds,
        ),
        failure_window_seconds=settings.login_failure_window_seconds,
        refusal_delay_seconds=settings.login_refusal_delay_seconds,
    )


class LoginThrottle:
    def __init__(self, maker: async_sessionmaker[AsyncSession], policy: Policy) -> None:
        self.maker = maker
        self.policy = policy
        self._locked_until: dict[str, dt.datetime] = {}

    def _keys(self, address: str | None, email: str) -> list[tuple[str, Limit]]:
        keys = [(account_key(email), self.policy.account)]
        if address:
            keys.append((address_key(address), self.policy.address))
        return [(key, limit) for key, limit in keys if limit.max_failures > 0]

    async def check(self, *, address: str | None, email: str) -> None:
        """Raise TooManyAttempts (after the refusal delay) while the address or the
        account is locked out."""
        keys = [key for key, _ in self._keys(address, email)]
        if not keys:
            return
        now = utcnow()
        ends = [end for key in keys if (end := self._locked_until.get(key)) and end > now]
        if not ends:
            ends = await self._stored_locks(keys, now)
        if ends:
            await refusal_delay(self.policy.refusal_delay_seconds)
            raise TooManyAttempts((max(ends) - utcnow()).total_seconds())

    async def _stored_locks(self, keys: list[str], now: dt.datetime) -> list[dt.datetime]:
        async with self.maker() as session:
            rows = (
                await session.execute(
                    select(LoginFailure.key, LoginFailure.locked_until).where(
                        LoginFailure.key.in_(keys), LoginFailure.locked_until > now
                    )
                )
            ).all()
        for key, end in rows:
            self._remember(key, end, now)
        return [end for _, end in rows if end is not None]

    def _remember(self, key: str, end: dt.datetime | None, now: dt.datetime) -> None:
        if end is None:
            return
        if end.tzinfo is None:  # SQLite gives back naive UTC
            end = end.replace(tzinfo=dt.UTC)
        if len(self._locked_until) >= MAX_REMEMBERED_LOCKS:
            self._locked_until = {k: v for k, v in self._locked_until.items() if v > now}
            if len(self._locked_until) >= MAX_REMEMBERED_LOCKS:
                self._locked_until.clear()
        self._locked_until[key] = end

    def forget_remembered(self) -> None:
        """Drop this process's memory of lockouts (the database is asked again)."""
        self._locked_until.clear()

    async def failed(self, *, address: str | None, email: str) -> None:
        """Count a failure; lock out what crossed its limit."""
        keys = self._keys(address, email)
        if not keys:
            return
        now = utcnow()
        forget_before = now - dt.timedelta(seconds=self.policy.failure_window_seconds)
        async with self.maker() as session, session.begin():
            dialect = (await session.connection()).dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            # Sorted: two requests locking rows in the same order cannot deadlock.
            for key, limit in sorted(keys, key=lambda item: item[0]):
                failures = await self._count(session, insert, key, now, forget_before)
                seconds = limit.lock_for(failures)
                if seconds is not None:
                    end = now + dt.timedelta(seconds=seconds)
                    await session.execute(
                        update(LoginFailure).where(LoginFailure.key == key).values(locked_until=end)
                    )
                    self._remember(key, end, now)

    @staticmethod
    async def _count(
        session: AsyncSession,
        insert: Any,
        key: str,
        now: dt.datetime,
        forget_before: dt.datetime,
    ) -> int:
        """One more failure for ``key``, in one statement (concurrent failures all count);
        a count whose last failure and lock are both older than the window starts over."""
        statement = insert(LoginFailure).values(key=key, failures=1, last_failed_at=now)
        stale = (LoginFailure.last_failed_at < forget_before) & (
            (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until < forget_before)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[LoginFailure.key],
            set_={
                "failures": case((stale, 1), else_=LoginFailure.failures + 1),
                "last_failed_at": now,
                "locked_until": case((stale, None), else_=LoginFailure.locked_until),
            },
        ).returning(LoginFailure.failures)
        return int((await session.execute(statement)).scalar_one())

    async def succeeded(self, *, email: str) -> None:
        """The account's owner is in: its count starts over (the address's does not)."""
        if self.policy.account.max_failures <= 0:
            return
        self._locked_until.pop(account_key(email), None)
        async with self.maker() as session, session.begin():
            await session.execute(
                delete(LoginFailure).where(LoginFailure.key == account_key(email))
            )
