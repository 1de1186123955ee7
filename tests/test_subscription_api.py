"""GET /subscription and an organization's, on both back ends: the plan on record, the
one that applies, the period, and each limit with its use, reset time and what it
applies to; another user's organization is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from atelier.accounts.metering import resets_at
from atelier.accounts.models import Subscription, SubscriptionPlan, SubscriptionStatus
from atelier.accounts.plans import METRICS
from atelier.ai.providers.fake import FakeProvider
from atelier.core.db import session_scope, utcnow
from tests.conftest import run_jobs
from tests.factories import Api, error_code, set_subscription

pytestmark = pytest.mark.anyio


def limits_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["metric"]: item for item in body["limits"]}


async def test_a_new_users_free_plan_and_its_use(
    api: Api, app: Any, fake_ai: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.settings, "plan_limits", "FREE=1000:5,PRO=0:0")
    me = await api.signup()
    r = await api.client.get("/api/v1/subscription", headers=me.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "user" and body["plan"] == "FREE" and body["effective_plan"] == "FREE"
    tokens = limits_of(body)["ai_tokens"]
    assert tokens["limit"] == 1000 and tokens["used"] == 0 and tokens["remaining"] == 1000
    assert tokens["period"] == "monthly" and "local model" in tokens["applies_to"]
    assert dt.datetime.fromisoformat(tokens["resets_at"]) == resets_at("monthly")
    assert "costs nothing" in limits_of(body)["ai_cost_usd"]["applies_to"]

    # A chat reply's tokens count at once.
    await api.provider(me)
    r = await api.client.post("/api/v1/conversations", json={"title": "T"}, headers=me.headers)
    chat_id = r.json()["id"]
    fake_ai.push("An answer of some length to count.")
    r = await api.client.post(
        f"/api/v1/conversations/{chat_id}/messages", json={"content": "Hi"}, headers=me.headers
    )
    await run_jobs(app, r.json()["reply_job"]["id"])
    body = (await api.client.get("/api/v1/subscription", headers=me.headers)).json()
    used = limits_of(body)["ai_tokens"]["used"]
    assert used > 0 and limits_of(body)["ai_tokens"]["remaining"] == 1000 - used
    # Every metric is listed; the message sent counts against the daily chat limit.
    assert set(limits_of(body)) == set(METRICS)
    messages = limits_of(body)["chat_messages"]
    assert messages["period"] == "daily" and messages["used"] == 1
    assert messages["limit"] == 500 and messages["remaining"] == 499
    assert dt.datetime.fromisoformat(messages["resets_at"]) == resets_at("daily")
    assert limits_of(body)["ai_calls"]["limit"] is None  # not limited on FREE

    # A paid plan on record: its limits (none, here) apply; lapsed, FREE's do again.
    row_id = await set_subscription(
        app,
        user_id=me.id,
        plan=SubscriptionPlan.PRO,
        status=SubscriptionStatus.CANCELLED,
        current_period_end=utcnow() + dt.timedelta(days=3),
        cancel_at_period_end=True,
    )
    body = (await api.client.get("/api/v1/subscription", headers=me.headers)).json()
    assert body["plan"] == "PRO" and body["effective_plan"] == "PRO"
    assert body["cancel_at_period_end"] is True and limits_of(body)["ai_tokens"]["limit"] is None
    async with session_scope(app.state.sessionmaker) as session:
        stored = await session.get(Subscription, row_id)
        assert stored is not None
        stored.status = SubscriptionStatus.EXPIRED
    body = (await api.client.get("/api/v1/subscription", headers=me.headers)).json()
    assert body["status"] == "EXPIRED" and body["effective_plan"] == "FREE"


async def test_an_organizations_subscription_is_for_its_members(api: Api) -> None:
    owner, stranger = await api.signup(), await api.signup()
    org = await api.organization(owner)
    r = await api.client.get(
        f"/api/v1/organizations/{org['id']}/subscription", headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "organization" and r.json()["owner_id"] == org["id"]
    r = await api.client.get(
        f"/api/v1/organizations/{org['id']}/subscription", headers=stranger.headers
    )
    assert r.status_code == 404 and error_code(r) == "organization_not_found"
