"""The console's organizations: every one of them, searched and paged, and their tier,
subscription status and trial end."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from atelier.accounts.models import Subscription, SubscriptionPlan, SubscriptionStatus
from atelier.ai.budgets import organization_plan
from atelier.core.db import session_scope
from tests.factories import Api, admin, error_code

pytestmark = pytest.mark.anyio

ORGS = "/api/v1/admin/organizations"


async def test_list_every_organization_with_search_and_pages(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    tag = uuid.uuid4().hex[:8]
    owners = [await api.signup(f"Owner {i}") for i in range(3)]
    made = [await api.organization(owner, f"Guild {tag} {i}") for i, owner in enumerate(owners)]
    await api.add_member(owners[0], made[0]["id"], owners[1], "MEMBER")

    r = await api.client.get(ORGS, params={"q": f"GUILD {tag}"}, headers=boss.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    # Not the admin's organizations: all of them, newest first, with their members.
    assert [o["id"] for o in items] == [o["id"] for o in reversed(made)]
    assert [o["members"] for o in items] == [1, 1, 2]
    r = await api.client.get(ORGS, params={"q": made[1]["slug"]}, headers=boss.headers)
    assert [o["id"] for o in r.json()["items"]] == [made[1]["id"]]

    r = await api.client.get(ORGS, params={"q": tag, "limit": 2}, headers=boss.headers)
    first = r.json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    r = await api.client.get(
        ORGS, params={"q": tag, "limit": 2, "cursor": first["next_cursor"]}, headers=boss.headers
    )
    assert [o["id"] for o in r.json()["items"]] == [made[0]["id"]]
    assert r.json()["next_cursor"] is None


async def test_set_tier_status_and_trial_end(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    org = await api.organization(await api.signup("Owner"))
    url = f"{ORGS}/{org['id']}"
    r = await api.client.get(url, headers=boss.headers)
    assert (r.json()["subscription_tier"], r.json()["subscription_status"]) == ("FREE", "TRIAL")

    r = await api.client.patch(
        url,
        json={
            "subscription_tier": "PRO",
            "subscription_status": "ACTIVE",
            "trial_ends_at": "2031-05-01T12:00:00+02:00",
        },
        headers=boss.headers,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["subscription_tier"], out["subscription_status"]) == ("PRO", "ACTIVE")
    assert out["trial_ends_at"].startswith("2031-05-01T10:00:00")  # stored in UTC
    # Left out: unchanged. Null: the trial end is cleared.
    r = await api.client.patch(url, json={"subscription_status": "PAST_DUE"}, headers=boss.headers)
    assert r.json()["subscription_tier"] == "PRO" and r.json()["trial_ends_at"] is not None
    r = await api.client.patch(url, json={"trial_ends_at": None}, headers=boss.headers)
    assert r.json()["trial_ends_at"] is None and r.json()["subscription_status"] == "PAST_DUE"
    # Budgets go by what was set.
    async with session_scope(app.state.sessionmaker) as session:
        assert await organization_plan(session, uuid.UUID(org["id"])) == "PRO"


async def test_an_organizations_own_subscription_follows(api: Api, app: Any) -> None:
    """Budgets read an organization's subscription before its tier: one that exists is
    changed with it, or the administrator's change would not count."""
    boss = await admin(api, app)
    org = await api.organization(await api.signup("Owner"))
    async with session_scope(app.state.sessionmaker) as session:
        session.add(
            Subscription(
                organization_id=uuid.UUID(org["id"]),
                plan=SubscriptionPlan.BASIC,
                status=SubscriptionStatus.ACTIVE,
            )
        )
    r = await api.client.patch(
        f"{ORGS}/{org['id']}", json={"subscription_tier": "ENTERPRISE"}, headers=boss.headers
    )
    assert r.status_code == 200, r.text
    async with session_scope(app.state.sessionmaker) as session:
        sub = await session.scalar(
            select(Subscription).where(Subscription.organization_id == uuid.UUID(org["id"]))
        )
        assert sub is not None and sub.plan == SubscriptionPlan.ENTERPRISE
        assert await organization_plan(session, uuid.UUID(org["id"])) == "ENTERPRISE"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subscription_tier": "PLATINUM"}, "body.subscription_tier"),
        ({"subscription_status": "paused"}, "body.subscription_status"),
        ({"trial_ends_at": "next tuesday"}, "body.trial_ends_at"),
        ({"trial_ends_at": "9999-12-31T23:59:59-05:00"}, "body.trial_ends_at"),
        ({"trial_ends_at": "0001-01-01T00:00:00+05:00"}, "body.trial_ends_at"),
        ({"name": "Renamed"}, "body.name"),
    ],
)
async def test_invalid_changes_are_422_naming_the_field(
    api: Api, app: Any, body: dict[str, Any], field: str
) -> None:
    boss = await admin(api, app)
    org = await api.organization(await api.signup("Owner"))
    r = await api.client.patch(f"{ORGS}/{org['id']}", json=body, headers=boss.headers)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["detail"]] == [field]
    r = await api.client.get(f"{ORGS}/{org['id']}", headers=boss.headers)
    assert r.json()["subscription_tier"] == "FREE" and r.json()["name"] == org["name"]


async def test_unknown_organization(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    r = await api.client.patch(
        f"{ORGS}/{uuid.uuid4()}", json={"subscription_tier": "PRO"}, headers=boss.headers
    )
    assert r.status_code == 404 and error_code(r) == "organization_not_found"
