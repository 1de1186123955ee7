"""Deactivation and role changes take effect at once in every server process.

Two apps on one database stand for two processes: each has its own auth cache. A token
used on app B is cached there; an administrator then acts through app A, and app B's very
next request must see it, not after the cache's seconds.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PASSWORD, Account, Api, admin, error_code

pytestmark = pytest.mark.anyio

API = "/api/v1"


async def api_key(api: Api, who: Account) -> dict[str, str]:
    r = await api.client.post(f"{API}/api-keys", json={"label": "ci"}, headers=who.headers)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


async def set_user(api: Api, boss: Account, who: Account, **changes: Any) -> dict[str, Any]:
    r = await api.client.patch(f"{API}/admin/users/{who.id}", json=changes, headers=boss.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_deactivation_stops_sessions_and_keys_at_once_in_another_process(
    api: Api, app: Any, other_process: tuple[Any, Api]
) -> None:
    app_b, api_b = other_process
    assert app_b.state.settings.auth_cache_seconds > 0  # the caches are on
    boss = await admin(api, app)
    who = await api.signup("Soon Gone")
    key = await api_key(api, who)
    # B has both cached now.
    for _ in range(2):
        assert (await api_b.client.get(f"{API}/me", headers=who.headers)).status_code == 200
        assert (await api_b.client.get(f"{API}/projects", headers=key)).status_code == 200

    r = await api.client.patch(
        f"{API}/admin/users/{who.id}", json={"is_active": False}, headers=boss.headers
    )
    assert r.status_code == 200 and r.json()["is_active"] is False

    for headers in (who.headers, key):
        r = await api_b.client.get(f"{API}/me", headers=headers)
        assert r.status_code == 401 and error_code(r) == "invalid_token", r.text
        r = await api.client.get(f"{API}/me", headers=headers)
        assert r.status_code == 401
    # Nor can they sign in again.
    r = await api_b.client.post(
        f"{API}/auth/login", json={"email": who.email, "password": PASSWORD}
    )
    assert r.status_code == 403 and error_code(r) == "account_disabled"


async def test_reactivation_brings_keys_back_but_not_the_revoked_sessions(
    api: Api, app: Any, other_process: tuple[Any, Api]
) -> None:
    _, api_b = other_process
    boss = await admin(api, app)
    who = await api.signup("Back Again")
    key = await api_key(api, who)
    assert (await api_b.client.get(f"{API}/me", headers=who.headers)).status_code == 200
    assert (await api_b.client.get(f"{API}/me", headers=key)).status_code == 200

    await set_user(api, boss, who, is_active=False)
    await set_user(api, boss, who, is_active=True)

    # The key works again at once, in both processes; the session was revoked for good,
    # even in B, whose cache entry predates the deactivation.
    assert (await api_b.client.get(f"{API}/me", headers=key)).status_code == 200
    assert (await api.client.get(f"{API}/me", headers=key)).status_code == 200
    assert (await api_b.client.get(f"{API}/me", headers=who.headers)).status_code == 401
    r = await api_b.client.post(
        f"{API}/auth/login", json={"email": who.email, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await api.client.get(f"{API}/me", headers=fresh)).status_code == 200


async def test_a_role_taken_away_stops_working_at_once_in_another_process(
    api: Api, app: Any, other_process: tuple[Any, Api]
) -> None:
    _, api_b = other_process
    boss = await admin(api, app)
    deputy = await admin(api, app, "Deputy")
    key = await api_key(api, deputy)
    for headers in (deputy.headers, key):
        r = await api_b.client.get(f"{API}/admin/users", params={"limit": 1}, headers=headers)
        assert r.status_code == 200, r.text

    await set_user(api, boss, deputy, role="USER")

    for headers in (deputy.headers, key):
        r = await api_b.client.get(f"{API}/admin/users", params={"limit": 1}, headers=headers)
        assert r.status_code == 404, r.text
        # Still signed in: only the role went.
        r = await api_b.client.get(f"{API}/me", headers=headers)
        assert r.status_code == 200 and r.json()["role"] == "USER"

    # And a role given is usable at once too.
    await set_user(api, boss, deputy, role="ADMIN")
    r = await api_b.client.get(f"{API}/admin/users", params={"limit": 1}, headers=key)
    assert r.status_code == 200, r.text


async def test_deactivating_one_user_leaves_the_others_signed_in(
    api: Api, app: Any, other_process: tuple[Any, Api]
) -> None:
    _, api_b = other_process
    boss = await admin(api, app)
    gone, stays = await api.signup("Gone"), await api.signup("Stays")
    for who in (gone, stays):
        assert (await api_b.client.get(f"{API}/me", headers=who.headers)).status_code == 200
    await set_user(api, boss, gone, is_active=False)
    assert (await api_b.client.get(f"{API}/me", headers=gone.headers)).status_code == 401
    assert (await api_b.client.get(f"{API}/me", headers=stays.headers)).status_code == 200
    assert (await api_b.client.get(f"{API}/me", headers=boss.headers)).status_code == 200
