"""The billing webhook on both back ends: a good event sets the plan, status, period and
customer id (user and organization); unsigned, badly signed, stale and malformed events
are 400 and change nothing; a duplicate changes nothing again; a signature is checked
over the exact bytes received."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from atelier.accounts.billing_models import BillingEvent
from atelier.accounts.billing_signature import sign
from atelier.accounts.models import Organization, Subscription
from atelier.ai.budgets import user_plan
from atelier.core.db import session_scope
from tests.factories import Api, error_code

pytestmark = pytest.mark.anyio

URL = "/api/v1/billing/webhook"
SECRET = "whsec_test_0123456789"
PERIOD_START, PERIOD_END = 1_800_000_000, 1_802_592_000


@pytest.fixture
def webhook_on(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.state.settings, "billing_webhook_secret", SecretStr(SECRET))


def event(kind: str = "customer.subscription.updated", **obj: Any) -> dict[str, Any]:
    return {"id": f"evt_{uuid.uuid4().hex}", "type": kind, "data": {"object": obj}}


async def post(
    api: Api,
    payload: Any,
    *,
    at: int | None = None,
    secret: str = SECRET,
    header: str = "Atelier-Signature",
) -> Any:
    body = json.dumps(payload).encode()
    signature = sign(secret, body, int(time.time()) if at is None else at)
    return await api.client.post(
        URL, content=body, headers={header: signature, "Content-Type": "application/json"}
    )


async def subscription_of(app: Any, **owner: uuid.UUID) -> Subscription | None:
    async with session_scope(app.state.sessionmaker) as session:
        ((column, value),) = owner.items()
        return await session.scalar(
            select(Subscription).where(getattr(Subscription, column) == value)
        )


async def test_an_event_sets_a_users_plan_and_a_retry_changes_nothing(
    api: Api, app: Any, webhook_on: None
) -> None:
    me = await api.signup()
    sent = event(
        id="sub_1",
        customer="cus_ann",
        status="active",
        current_period_start=PERIOD_START,
        current_period_end=PERIOD_END,
        cancel_at_period_end=True,
        metadata={"atelier_user_id": me.id},
        items={"data": [{"price": {"lookup_key": "pro"}}]},
    )
    r = await post(api, sent)
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "outcome": "applied", "duplicate": False}
    row = await subscription_of(app, user_id=uuid.UUID(me.id))
    assert row is not None and row.plan.value == "PRO" and row.status.value == "ACTIVE"
    assert row.current_period_end is not None
    assert int(row.current_period_end.timestamp()) == PERIOD_END and row.cancel_at_period_end
    assert row.metadata_["stripe_customer_id"] == "cus_ann"
    async with session_scope(app.state.sessionmaker) as session:
        assert await user_plan(session, uuid.UUID(me.id)) == "PRO"

    # The same event again (the sender retries): 200, and nothing changes even if the
    # account was changed meanwhile by hand.
    async with session_scope(app.state.sessionmaker) as session:
        stored = await session.get(Subscription, row.id)
        assert stored is not None
        stored.plan = stored.plan.__class__("BASIC")
    r = await post(api, sent)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    again = await subscription_of(app, user_id=uuid.UUID(me.id))
    assert again is not None and again.plan.value == "BASIC"

    # Later events find the user by the customer id alone (Stripe-Signature works too).
    later = event(customer="cus_ann", status="past_due", metadata={})
    r = await post(api, later, header="Stripe-Signature")
    assert r.status_code == 200 and r.json()["outcome"] == "applied"
    latest = await subscription_of(app, user_id=uuid.UUID(me.id))
    assert latest is not None and latest.status.value == "PAST_DUE" and latest.plan.value == "BASIC"


async def test_an_organizations_tier_status_trial_and_customer(
    api: Api, app: Any, webhook_on: None
) -> None:
    owner = await api.signup()
    org = await api.organization(owner)
    trial_end = 1_801_000_000
    r = await post(
        api,
        event(
            "customer.subscription.created",
            customer="cus_org",
            status="trialing",
            trial_end=trial_end,
            metadata={"atelier_organization_id": org["id"], "atelier_plan": "professional"},
        ),
    )
    assert r.status_code == 200 and r.json()["outcome"] == "applied", r.text
    async with session_scope(app.state.sessionmaker) as session:
        row = await session.get(Organization, uuid.UUID(org["id"]))
        assert row is not None
        assert row.subscription_tier.value == "PROFESSIONAL"
        assert row.subscription_status.value == "TRIAL"
        assert row.stripe_customer_id == "cus_org"
        assert row.trial_ends_at is not None and int(row.trial_ends_at.timestamp()) == trial_end
    r = await post(api, event("customer.subscription.deleted", customer="cus_org"))
    assert r.status_code == 200 and r.json()["outcome"] == "applied"
    sub = await subscription_of(app, organization_id=uuid.UUID(org["id"]))
    assert sub is not None and sub.status.value == "CANCELLED"


async def test_bad_events_are_400_and_change_nothing(api: Api, app: Any, webhook_on: None) -> None:
    me = await api.signup()
    good = event(status="active", metadata={"atelier_user_id": me.id, "atelier_plan": "PRO"})
    body = json.dumps(good).encode()
    now = int(time.time())
    cases = [
        ({}, "missing_signature"),
        ({"Atelier-Signature": "garbage"}, "bad_signature"),
        ({"Atelier-Signature": sign("wrong-secret", body, now)}, "bad_signature"),
        # Signed for other bytes (one space more): the signature covers the raw body.
        ({"Atelier-Signature": sign(SECRET, body + b" ", now)}, "bad_signature"),
        # Replayed ten minutes later, or signed in the future.
        ({"Atelier-Signature": sign(SECRET, body, now - 600)}, "stale_event"),
        ({"Atelier-Signature": sign(SECRET, body, now + 600)}, "stale_event"),
    ]
    for headers, code in cases:
        r = await api.client.post(URL, content=body, headers=headers)
        assert r.status_code == 400 and error_code(r) == code, (headers, r.text)
    for payload in ([1, 2], {"type": "x"}, {"id": "", "type": "x"}, {"id": "e", "type": 3}):
        r = await post(api, payload)
        assert r.status_code == 400 and error_code(r) == "invalid_event", (payload, r.text)
    r = await api.client.post(
        URL, content=b"not json", headers={"Atelier-Signature": sign(SECRET, b"not json", now)}
    )
    assert r.status_code == 400 and error_code(r) == "invalid_event"
    assert await subscription_of(app, user_id=uuid.UUID(me.id)) is None
    async with session_scope(app.state.sessionmaker) as session:
        assert await session.get(BillingEvent, good["id"]) is None
    # The same event, properly signed, then goes through.
    r = await post(api, good)
    assert r.status_code == 200 and r.json()["outcome"] == "applied"


async def test_events_that_do_not_apply_are_recorded_and_ignored(
    api: Api, app: Any, webhook_on: None
) -> None:
    me = await api.signup()
    for payload, why in (
        (event("invoice.paid"), "change nothing"),
        (event(customer="cus_nobody", status="active"), "no user or organization"),
        (event(status="weird", metadata={"atelier_user_id": me.id}), "unknown subscription"),
        (
            event(status="active", metadata={"atelier_user_id": me.id, "atelier_plan": "GOLD"}),
            "plan this instance",
        ),
    ):
        r = await post(api, payload)
        assert r.status_code == 200 and r.json()["outcome"] == "ignored", r.text
        async with session_scope(app.state.sessionmaker) as session:
            row = await session.get(BillingEvent, payload["id"])
            assert row is not None and why in (row.detail or "")
    assert await subscription_of(app, user_id=uuid.UUID(me.id)) is None


async def test_without_a_secret_the_webhook_is_off(api: Api) -> None:
    r = await post(api, event(status="active"))
    assert r.status_code == 404 and error_code(r) == "billing_webhook_disabled"
