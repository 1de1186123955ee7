"""The short-lived auth cache: hits skip the database, revocation is honoured."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from atelier.accounts.models import UserRole, UserSession
from atelier.accounts.principal import AuthCache, Principal
from atelier.core.security import token_digest
from tests.factories import Api

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("atelier.accounts.principal.time.monotonic", fake)
    return fake


def test_entries_expire_after_ttl_or_token_expiry(clock: Clock) -> None:
    cache = AuthCache(ttl=5)
    who = Principal(id=uuid.uuid4(), role=UserRole.USER)
    cache.put("a", who, seconds_left=100)
    cache.put("b", who, seconds_left=2)  # the token itself expires sooner than the TTL
    clock.now += 3
    assert cache.get("a") == who
    assert cache.get("b") is None
    clock.now += 3
    assert cache.get("a") is None


def test_zero_ttl_disables_and_size_is_bounded(clock: Clock) -> None:
    off = AuthCache(ttl=0)
    off.put("a", Principal(id=uuid.uuid4(), role=UserRole.USER), seconds_left=100)
    assert off.get("a") is None
    small = AuthCache(ttl=5, max_entries=2)
    for key in "abc":
        small.put(key, Principal(id=uuid.uuid4(), role=UserRole.USER), seconds_left=100)
    assert small.get("a") is None and small.get("c") is not None


def test_forget_user_drops_all_of_their_tokens(clock: Clock) -> None:
    cache = AuthCache(ttl=5)
    ann, bob = (Principal(id=uuid.uuid4(), role=UserRole.USER) for _ in range(2))
    cache.put("a1", ann, seconds_left=100)
    cache.put("a2", ann, seconds_left=100)
    cache.put("b1", bob, seconds_left=100)
    cache.forget_user(ann.id)
    assert cache.get("a1") is None and cache.get("a2") is None and cache.get("b1") == bob


async def test_revoked_elsewhere_stops_working_within_ttl(
    api: Api, app: object, clock: Clock
) -> None:
    """A session revoked by another process (straight in the database) is refused once
    the cache entry's few seconds are up; logout here is refused at once."""
    ann = await api.signup()
    assert (await api.client.get("/api/v1/me", headers=ann.headers)).status_code == 200
    async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        await session.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_digest(ann.token))
            .values(is_active=False)
        )
        await session.commit()
    assert (await api.client.get("/api/v1/me", headers=ann.headers)).status_code == 200
    clock.now += app.state.settings.auth_cache_seconds + 0.1  # type: ignore[attr-defined]
    r = await api.client.get("/api/v1/me", headers=ann.headers)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


async def test_logout_is_immediate_despite_the_cache(api: Api, clock: Clock) -> None:
    ann = await api.signup()
    assert (await api.client.get("/api/v1/me", headers=ann.headers)).status_code == 200
    assert (await api.client.post("/api/v1/auth/logout", headers=ann.headers)).status_code == 204
    assert (await api.client.get("/api/v1/me", headers=ann.headers)).status_code == 401
