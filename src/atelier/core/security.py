"""Password hashing and bearer tokens.

Tokens are random and only their SHA-256 digest is stored: a leaked database
does not leak usable credentials, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from atelier.core.errors import AtelierError

T = TypeVar("T")

SESSION_TOKEN_PREFIX = "ats_"
API_KEY_PREFIX = "atk_"

_hasher = PasswordHasher()
# Verifying against this when the email is unknown makes login take the same
# time whether or not the account exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class HashingBusy(AtelierError):
    status_code = 429
    code = "server_busy"
    headers = {"Retry-After": "1"}


def default_hash_concurrency() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class PasswordGate:
    """Password hashing (argon2: tens of milliseconds of CPU and 64 MiB each) on at most
    ``concurrency`` threads at once, with at most ``queue`` more waiting; past that a
    login or signup is refused with 429 at once.

    Without the bound, a flood of wrong passwords ran one hash per request on the default
    thread pool (40 threads) and took every core: ``GET /me`` went from a 3 ms p99 to
    2.3 s under 32 login clients. With it, the flood queues behind its slots and the rest
    of the server keeps a core (``bench/login_flood.py``).
    """

    def __init__(self, concurrency: int | None = None, queue: int = 16) -> None:
        self.configure(concurrency, queue)

    def configure(self, concurrency: int | None, queue: int) -> None:
        self.concurrency = concurrency or default_hash_concurrency()
        self.queue = queue
        self._limiter: CapacityLimiter | None = None
        self._inside = 0

    async def run(self, func: Callable[..., T], *args: object) -> T:
        if self._inside >= self.concurrency + self.queue:
            raise HashingBusy("too many sign-ins at once; try again in a second")
        if self._limiter is None:
            # Made on first use: a limiter belongs to the event loop that uses it.
            self._limiter = CapacityLimiter(self.concurrency)
        self._inside += 1
        try:
            return await to_thread.run_sync(func, *args, limiter=self._limiter)
        finally:
            self._inside -= 1


# One per process: the CPU it protects is the process's. create_app configures it.
password_gate = PasswordGate()


async def hash_password_async(password: str) -> str:
    return await password_gate.run(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await password_gate.run(verify_password, password_hash, password)
