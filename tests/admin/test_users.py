"""The console's users: search, pages, role, plan and status, and the inputs it refuses."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from atelier.accounts.models import Subscription
from atelier.core.db import session_scope
from tests.factories import Api, admin, error_code

pytestmark = pytest.mark.anyio

USERS = "/api/v1/admin/users"


async def test_search_by_email_or_name_any_case_and_page_through(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    tag = uuid.uuid4().hex[:8]
    made = [
        await api.signup(f"Zed {tag} {i}", email=f"zed-{i}-{tag}@example.com") for i in range(5)
    ]
    other = await api.signup("Somebody Else")

    r = await api.client.get(USERS, params={"q": tag.upper()}, headers=boss.headers)
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["items"]] == [m.id for m in reversed(made)]
    assert other.id not in r.text
    # By a piece of the email only, and by the name only.
    r = await api.client.get(USERS, params={"q": f"zed-3-{tag}"}, headers=boss.headers)
    assert [u["id"] for u in r.json()["items"]] == [made[3].id]
    r = await api.client.get(USERS, params={"q": f"zed {tag} 1"}, headers=boss.headers)
    assert [u["id"] for u in r.json()["items"]] == [made[1].id]
    # LIKE's wildcards are searched for as themselves.
    r = await api.client.get(USERS, params={"q": f"{tag}%"}, headers=boss.headers)
    assert r.json()["items"] == []

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"q": tag, "limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(USERS, params=params, headers=boss.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) <= 2
        seen += [u["id"] for u in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [m.id for m in reversed(made)]


async def test_filter_by_role_and_by_state(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    tag = uuid.uuid4().hex[:8]
    quiet = await api.signup(f"Quiet {tag}")
    r = await api.client.patch(
        f"{USERS}/{quiet.id}", json={"is_active": False}, headers=boss.headers
    )
    assert r.status_code == 200, r.text
    r = await api.client.get(USERS, params={"q": tag, "active": "false"}, headers=boss.headers)
    assert [u["id"] for u in r.json()["items"]] == [quiet.id]
    r = await api.client.get(USERS, params={"q": tag, "active": "true"}, headers=boss.headers)
    assert r.json()["items"] == []
    r = await api.client.get(USERS, params={"role": "ADMIN", "limit": 1000}, headers=boss.headers)
    ids = [u["id"] for u in r.json()["items"]]
    assert boss.id in ids and quiet.id not in ids
    assert {u["role"] for u in r.json()["items"]} == {"ADMIN"}


async def test_change_role_and_read_it_back(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    who = await api.signup("Mod To Be")
    r = await api.client.patch(
        f"{USERS}/{who.id}", json={"role": "MODERATOR"}, headers=boss.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "MODERATOR" and r.json()["is_active"] is True
    r = await api.client.get("/api/v1/me", headers=who.headers)
    assert r.json()["role"] == "MODERATOR"
    r = await api.client.get(f"{USERS}/{who.id}", headers=boss.headers)
    assert r.json()["role"] == "MODERATOR" and r.json()["email"] == who.email


async def test_plan_and_status_make_the_subscription_when_missing(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    who = await api.signup("Payer")
    r = await api.client.get(f"{USERS}/{who.id}", headers=boss.headers)
    assert (r.json()["plan"], r.json()["subscription_status"]) == (None, None)

    r = await api.client.patch(
        f"{USERS}/{who.id}", json={"subscription_status": "TRIAL"}, headers=boss.headers
    )
    assert r.status_code == 200, r.text
    assert (r.json()["plan"], r.json()["subscription_status"]) == ("FREE", "TRIAL")
    r = await api.client.patch(
        f"{USERS}/{who.id}",
        json={"plan": "PRO", "subscription_status": "PAST_DUE"},
        headers=boss.headers,
    )
    assert (r.json()["plan"], r.json()["subscription_status"]) == ("PRO", "PAST_DUE")
    r = await api.client.patch(
        f"{USERS}/{who.id}", json={"plan": "ENTERPRISE"}, headers=boss.headers
    )
    assert (r.json()["plan"], r.json()["subscription_status"]) == ("ENTERPRISE", "PAST_DUE")
    # One row, the user's, holds it; nothing else of the user changed.
    async with session_scope(app.state.sessionmaker) as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.user_id == uuid.UUID(who.id))
        )
    assert rows == 1
    assert r.json()["role"] == "USER" and r.json()["is_active"] is True


async def test_an_empty_change_changes_nothing(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    who = await api.signup("Same")
    before = (await api.client.get(f"{USERS}/{who.id}", headers=boss.headers)).json()
    r = await api.client.patch(f"{USERS}/{who.id}", json={}, headers=boss.headers)
    assert r.status_code == 200 and r.json() == before
    r = await api.client.patch(
        f"{USERS}/{who.id}", json={"role": None, "plan": None}, headers=boss.headers
    )
    assert r.status_code == 200 and r.json() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "SUPERUSER"}, "body.role"),
        ({"role": "admin"}, "body.role"),
        ({"is_active": "maybe"}, "body.is_active"),
        ({"plan": "GOLD"}, "body.plan"),
        ({"subscription_status": "PAUSED"}, "body.subscription_status"),
        ({"email": "new@example.com"}, "body.email"),
    ],
)
async def test_invalid_changes_are_422_naming_the_field(
    api: Api, app: Any, body: dict[str, Any], field: str
) -> None:
    boss = await admin(api, app)
    who = await api.signup()
    r = await api.client.patch(f"{USERS}/{who.id}", json=body, headers=boss.headers)
    assert r.status_code == 422, r.text
    assert error_code(r) == "validation_error"
    assert [e["field"] for e in r.json()["detail"]] == [field]
    r = await api.client.get(f"{USERS}/{who.id}", headers=boss.headers)
    assert r.json()["role"] == "USER" and r.json()["plan"] is None


async def test_invalid_list_parameters_are_422_naming_them(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    for params, field in (
        ({"role": "BOSS"}, "query.role"),
        ({"active": "perhaps"}, "query.active"),
        ({"q": "x" * 256}, "query.q"),
        ({"q": "a\x00b"}, "query.q"),
        ({"limit": "0"}, "query.limit"),
        ({"cursor": "garbage"}, "query.cursor"),
    ):
        r = await api.client.get(USERS, params=params, headers=boss.headers)
        assert r.status_code == 422, (params, r.text)
        assert [e["field"] for e in r.json()["detail"]] == [field], params


async def test_unknown_and_malformed_users(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    missing = uuid.uuid4()
    r = await api.client.get(f"{USERS}/{missing}", headers=boss.headers)
    assert r.status_code == 404 and error_code(r) == "user_not_found"
    r = await api.client.patch(f"{USERS}/{missing}", json={"role": "USER"}, headers=boss.headers)
    assert r.status_code == 404 and error_code(r) == "user_not_found"
    r = await api.client.get(f"{USERS}/nope", headers=boss.headers)
    assert r.status_code == 404 and error_code(r) == "invalid_id"
