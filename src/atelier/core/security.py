"""Password hashing and bearer tokens.

Tokens are random and only their SHA-256 digest is stored: a leaked database
does not leak usable credentials, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

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


# How much lower the hashing threads' CPU priority is than the rest of the process's (a
# nice value: 10 gives a busy hashing thread about a tenth of a core that the event loop
# also wants). Linux applies nice values per thread.
HASH_THREAD_NICENESS = 10


def _lower_this_threads_priority() -> None:
    """A hashing thread's start: on Linux, make it yield the CPU to the event loop."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), current + HASH_THREAD_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: normal priority
        pass


class PasswordGate:
    """Password hashing (argon2: tens of milliseconds of CPU and 64 MiB each) on at most
    ``concurrency`` threads of its own, with at most ``queue`` more waiting; past that a
    login or signup is refused with 429, after ``busy_delay`` seconds.

    Without the bound, a flood of wrong passwords ran one hash per request on the default
    thread pool (40 threads) and took every core: ``GET /me`` went from a 3 ms p99 to
    2.3 s under 32 login clients. With it, the flood queues behind its slots, and the
    slots run at a lower CPU priority, so the rest of the server keeps its cores
    (``bench/login_flood.py``). The delay before a refusal keeps a client that retries at
    once from turning refusals into a flood of their own; waiting costs a timer, not CPU.
    """

    def __init__(
        self, concurrency: int | None = None, queue: int = 16, busy_delay: float = 0.0
    ) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self.configure(concurrency, queue, busy_delay)

    def configure(self, concurrency: int | None, queue: int, busy_delay: float = 0.0) -> None:
        if self._executor is not None:
            # Running hashes finish on the old threads; new ones go to the new pool.
            self._executor.shutdown(wait=False)
            self._executor = None
        self.concurrency = concurrency or default_hash_concurrency()
        self.queue = queue
        self.busy_delay = busy_delay
        self._inside = 0

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.concurrency,
                thread_name_prefix="password-hash",
                initializer=_lower_this_threads_priority,
            )
        return self._executor

    async def run(self, func: Callable[..., T], *args: object) -> T:
        if self._inside >= self.concurrency + self.queue:
            await refusal_delay(self.busy_delay)
            raise HashingBusy("too many sign-ins at once; try again in a second")
        self._inside += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool(), func, *args)
        finally:
            self._inside -= 1


# Refusals being held at most at once (each is a sleeping task and an open connection);
# past that they are answered at once.
MAX_HELD_REFUSALS = 1024
_held_refusals = 0


async def refusal_delay(seconds: float) -> None:
    """Wait ``seconds`` before answering a refusal (429) to a client that would otherwise
    retry at once, unless too many refusals are being held already."""
    global _held_refusals
    if seconds <= 0 or _held_refusals >= MAX_HELD_REFUSALS:
        return
    _held_refusals += 1
    try:
        await asyncio.sleep(seconds)
    finally:
        _held_refusals -= 1


# One per process: the CPU it protects is the process's. create_app configures it.
password_gate = PasswordGate()


async def hash_password_async(password: str) -> str:
    return await password_gate.run(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await password_gate.run(verify_password, password_hash, password)
