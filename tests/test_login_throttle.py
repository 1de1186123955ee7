"""Login throttling: lockout with Retry-After, per address first, reset on success, the
same limits on the web form, and a bounded number of password hashes at once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import update

from atelier.accounts.models import LoginFailure
from atelier.accounts.throttle import (
    Limit,
    LoginThrottle,
    TooManyAttempts,
    account_key,
    address_key,
)
from atelier.core import security
from tests.factories import PASSWORD, Api

pytestmark = pytest.mark.anyio

LOGIN = "/api/v1/auth/login"
_addresses = itertools.count(1)


def new_address() -> str:
    """A client address of its own for each client, so tests do not share counts."""
    n = next(_addresses)
    return f"10.77.{n // 250}.{n % 250 + 1}"


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=(address, 40000))
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def login(http: AsyncClient, email: str, password: str) -> Response:
    return await http.post(LOGIN, json={"email": email, "password": password})


async def end_locks(app: FastAPI, *keys: str) -> None:
    """As if the lockout had run out (instead of sleeping through it)."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(LoginFailure).where(LoginFailure.key.in_(keys)).values(locked_until=past)
        )
    app.state.login_throttle.forget_remembered()


def test_lockout_doubles_and_is_capped() -> None:
    limit = Limit(max_failures=5, lockout_seconds=60, lockout_max_seconds=900)
    assert [limit.lock_for(n) for n in range(1, 10)] == [
        None, None, None, None, 60, 120, 240, 480, 900
    ]  # fmt: skip
    assert Limit(0, 60, 900).lock_for(100) is None


async def test_address_is_locked_out_after_five_failures(app: FastAPI, api: Api) -> None:
    ann = await api.signup()
    address = new_address()
    async with client_from(app, address) as http:
        for _ in range(5):
            r = await login(http, ann.email, "wrong password")
            assert r.status_code == 401, r.text
        r = await login(http, ann.email, "wrong password")
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "too_many_attempts"
        assert 55 <= int(r.headers["retry-after"]) <= 60
        # Even the right password waits: the lock is checked before any hashing.
        r = await login(http, ann.email, PASSWORD)
        assert r.status_code == 429
    # Another address is not held up by this one (the account has 5 of its 10).
    async with client_from(app, new_address()) as http:
        assert (await login(http, ann.email, PASSWORD)).status_code == 200

    # When the lock runs out, the next failure locks for twice as long.
    await end_locks(app, address_key(address))
    async with client_from(app, address) as http:
        assert (await login(http, ann.email, "wrong password")).status_code == 401
        r = await login(http, ann.email, "wrong password")
        assert r.status_code == 429
        assert 115 <= int(r.headers["retry-after"]) <= 120


async def test_account_is_locked_after_failures_from_many_addresses(app: FastAPI, api: Api) -> None:
    ann = await api.signup()
    for _ in range(5):  # two failures each from five addresses: no address is locked
        async with client_from(app, new_address()) as http:
            for _ in range(2):
                assert (await login(http, ann.email, "guess")).status_code == 401
    async with client_from(app, new_address()) as http:
        r = await login(http, ann.email, PASSWORD)
        assert r.status_code == 429, r.text
        assert int(r.headers["retry-after"]) <= 60
    # Other accounts are not affected.
    bob = await api.signup()
    async with client_from(app, new_address()) as http:
        assert (await login(http, bob.email, PASSWORD)).status_code == 200


async def test_a_successful_login_resets_the_account_count(app: FastAPI, api: Api) -> None:
    ann = await api.signup()

    async def fail_from_new_addresses(times: int) -> None:
        for _ in range(times):
            async with client_from(app, new_address()) as http:
                assert (await login(http, ann.email, "guess")).status_code == 401

    await fail_from_new_addresses(9)
    async with client_from(app, new_address()) as http:
        assert (await login(http, ann.email, PASSWORD)).status_code == 200
    # Without the reset, the first of these would be the tenth failure and lock the account.
    await fail_from_new_addresses(9)
    async with client_from(app, new_address()) as http:
        assert (await login(http, ann.email, PASSWORD)).status_code == 200


async def test_unknown_accounts_are_throttled_alike(app: FastAPI) -> None:
    """The answer does not tell which emails have accounts."""
    async with client_from(app, new_address()) as http:
        statuses = [
            (await login(http, "nobody-here@example.com", "guess")).status_code for _ in range(6)
        ]
    assert statuses == [401] * 5 + [429]


async def test_counts_are_stored_as_digests(app: FastAPI, api: Api) -> None:
    ann = await api.signup()
    address = new_address()
    async with client_from(app, address) as http:
        await login(http, ann.email, "guess")
    async with app.state.sessionmaker() as session:
        row = await session.get(LoginFailure, account_key(ann.email))
        assert row is not None and row.failures == 1
        assert await session.get(LoginFailure, address_key(address)) is not None
        assert ann.email not in row.key and address not in address_key(address)


async def test_a_lockout_made_by_another_process_is_enforced(app: FastAPI, api: Api) -> None:
    """Each process remembers the lockouts it has seen; one it has not seen (made by
    another server process) is found in the database."""
    ann = await api.signup()
    address = new_address()
    async with client_from(app, address) as http:
        for _ in range(5):
            assert (await login(http, ann.email, "guess")).status_code == 401
    other_process = LoginThrottle(app.state.sessionmaker, app.state.login_throttle.policy)
    with pytest.raises(TooManyAttempts) as refused:
        await other_process.check(address=address, email=ann.email)
    assert 55 <= refused.value.retry_after <= 60


async def test_a_refusal_is_held_before_it_is_answered(app: FastAPI, api: Api) -> None:
    """A locked-out client that retries at once gets its 429 only after the delay: its
    retries cannot spin the server."""
    ann = await api.signup()
    address = new_address()
    async with client_from(app, address) as http:
        for _ in range(5):
            await login(http, ann.email, "guess")
    policy = dataclasses.replace(app.state.login_throttle.policy, refusal_delay_seconds=0.2)
    throttle = LoginThrottle(app.state.sessionmaker, policy)
    held_before = security._held_refusals
    refusal = asyncio.ensure_future(throttle.check(address=address, email=ann.email))
    while security._held_refusals == held_before and not refusal.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # (nothing to wait on: the count is all it shows)
    assert not refusal.done()  # being held, not answered
    with pytest.raises(TooManyAttempts):
        await refusal
    assert security._held_refusals == held_before


async def test_the_web_form_shares_the_limits(app: FastAPI, api: Api) -> None:
    ann = await api.signup()
    address = new_address()
    async with client_from(app, address) as http:
        page = await http.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"email": ann.email, "password": "wrong", "csrf_token": token}
        statuses = [(await http.post("/login", data=form)).status_code for _ in range(5)]
        assert statuses == [401] * 5
        r = await http.post("/login", data=form)
        assert r.status_code == 429
        assert "retry-after" in r.headers
        assert "too many failed logins" in r.text
        # And the API, from the same address, is locked out too.
        assert (await login(http, ann.email, PASSWORD)).status_code == 429


async def test_logins_waiting_for_a_hash_do_not_use_up_the_database_pool(app: FastAPI) -> None:
    """More logins waiting to hash than the pool has connections: none may hold one while
    it waits. When they did, the waiting logins held the whole pool, the throttle could
    not record a failure, and every request stalled for 30 s and failed with 500."""
    pool = app.state.engine.pool
    connections = pool.size() + pool._max_overflow
    gate = security.password_gate
    saved = (gate.concurrency, gate.queue, gate.busy_delay)
    gate.configure(1, connections + 2, 0)

    async def attempt(n: int) -> int:
        async with client_from(app, new_address()) as http:
            email = f"nobody-{n}-{uuid.uuid4().hex}@example.com"
            return (await login(http, email, "x")).status_code

    try:
        statuses = await asyncio.gather(*(attempt(n) for n in range(connections + 6)))
    finally:
        gate.configure(*saved)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) > connections


# --- the hashing bound ----------------------------------------------------------------------


def _slow(
    seconds: float, seen: list[int], lock: threading.Lock, inside: list[int]
) -> Callable[[], int]:
    def run() -> int:
        with lock:
            inside[0] += 1
            seen.append(inside[0])
        time.sleep(seconds)
        with lock:
            inside[0] -= 1
        return 1

    return run


async def test_hashing_runs_at_most_n_at_once_and_refuses_past_the_queue() -> None:
    gate = security.PasswordGate(concurrency=2, queue=3)
    seen: list[int] = []
    inside = [0]
    lock = threading.Lock()
    work = _slow(0.2, seen, lock, inside)
    results: list[Any] = await asyncio.gather(
        *(gate.run(work) for _ in range(8)), return_exceptions=True
    )
    done = [r for r in results if r == 1]
    refused = [r for r in results if isinstance(r, security.HashingBusy)]
    assert len(done) == 5 and len(refused) == 3, results
    assert max(seen) == 2  # never more than two hashes at once
    assert refused[0].status_code == 429 and refused[0].headers == {"Retry-After": "1"}


async def test_hashing_overlaps_when_allowed() -> None:
    """The check above can fail: with room for all, they do run together."""
    gate = security.PasswordGate(concurrency=4, queue=0)
    seen: list[int] = []
    inside = [0]
    lock = threading.Lock()
    work = _slow(0.3, seen, lock, inside)
    await asyncio.gather(*(gate.run(work) for _ in range(4)))
    assert max(seen) > 2
