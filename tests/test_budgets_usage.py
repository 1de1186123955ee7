"""Monthly budgets per plan (user and organization), /usage and /ai-generations."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text, update

from atelier.accounts.models import (
    Organization,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
)
from atelier.ai.budgets import effective_plan
from atelier.ai.models import AIGeneration, GenerationStatus
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.usage import usage_summary
from atelier.core.db import session_scope, utcnow
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Account, Api, error_code, set_subscription

pytestmark = pytest.mark.anyio


def month_start() -> dt.datetime:
    return utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


UNLIMITED = "FREE=0:0,BASIC=0:0,STARTER=0:0,PRO=0:0,PROFESSIONAL=0:0,ENTERPRISE=0:0"


@pytest.fixture
def limits(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the plan limits for one test (restored afterwards)."""
    settings = app.state.ai.settings
    assert settings is app.state.settings

    def set_limits(**plans: str) -> None:
        spec = ",".join(f"{plan}={value}" for plan, value in plans.items())
        monkeypatch.setattr(settings, "plan_limits", f"{UNLIMITED},{spec}" if spec else UNLIMITED)

    return set_limits


async def add_usage(
    app: Any,
    who: Account,
    *,
    tokens: int = 100,
    cost: str = "0",
    model: str = "m-a",
    project_id: str | None = None,
    organization_id: str | None = None,
    when: dt.datetime | None = None,
    input_tokens: int | None = None,
) -> None:
    inp = tokens // 2 if input_tokens is None else input_tokens
    async with session_scope(app.state.sessionmaker) as session:
        session.add(
            AIGeneration(
                user_id=uuid.UUID(who.id),
                organization_id=uuid.UUID(organization_id) if organization_id else None,
                project_id=uuid.UUID(project_id) if project_id else None,
                provider="custom",
                model=model,
                prompt_template="brief@1",
                input_tokens=inp,
                output_tokens=tokens - inp,
                total_tokens=tokens,
                estimated_cost=Decimal(cost),
                status=GenerationStatus.SUCCESS,
                created_at=when or utcnow(),
            )
        )


async def brief(api: Api, who: Account, project_id: str) -> dict[str, Any]:
    r = await api.client.post(
        f"/api/v1/projects/{project_id}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def generate(api: Api, who: Account, artifact_id: str) -> Any:
    return await api.client.post(f"/api/v1/artifacts/{artifact_id}/generate", headers=who.headers)


async def jobs_of(api: Api, who: Account) -> list[dict[str, Any]]:
    return list((await api.client.get("/api/v1/jobs", headers=who.headers)).json()["items"])


# --- budgets --------------------------------------------------------------------------------


async def test_a_user_over_the_plans_tokens_is_refused_before_any_call(
    api: Api, app: Any, fake_ai: FakeProvider, limits: Any
) -> None:
    limits()
    ann = await api.signup()
    await api.provider(ann)
    project = await api.project(ann)
    art = await brief(api, ann, project["id"])
    fake_ai.push(BRIEF_OUTPUT)
    r = await generate(api, ann, art["id"])
    assert r.status_code == 202, r.text
    await run_jobs(app, r.json()["id"])
    r = await api.client.get("/api/v1/usage", headers=ann.headers)
    used = r.json()["totals"]["total_tokens"]
    assert used > 0

    limits(FREE=f"{used}:0")  # exactly used up
    calls = len(fake_ai.requests)
    r = await generate(api, ann, art["id"])
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    assert "FREE" in r.json()["detail"] and f"{used} of {used} tokens" in r.json()["detail"]
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "B2", "input_data": BRIEF_INPUT, "generate": True},
        headers=ann.headers,
    )
    assert r.status_code == 402 and error_code(r) == "budget_exceeded"
    assert len(fake_ai.requests) == calls
    assert len(await jobs_of(api, ann)) == 1  # only the first one
    r = await api.client.get(f"/api/v1/projects/{project['id']}/artifacts", headers=ann.headers)
    assert [a["id"] for a in r.json()["items"]] == [art["id"]]

    # Another user on the same plan is not affected; a higher limit lets Ann go on.
    bob = await api.signup()
    await api.provider(bob)
    bobs = await brief(api, bob, (await api.project(bob))["id"])
    assert (await generate(api, bob, bobs["id"])).status_code == 202
    limits(FREE=f"{used + 1}:0")
    assert (await generate(api, ann, art["id"])).status_code == 202


async def test_a_dollar_limit(api: Api, app: Any, fake_ai: FakeProvider, limits: Any) -> None:
    limits(FREE="0:0.05")
    ann = await api.signup()
    await api.provider(ann)
    art = await brief(api, ann, (await api.project(ann))["id"])
    await add_usage(app, ann, tokens=10, cost="0.049999")
    assert (await generate(api, ann, art["id"])).status_code == 202
    await add_usage(app, ann, tokens=10, cost="0.000001")
    r = await generate(api, ann, art["id"])
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    assert "$0.05 of $0.05" in r.json()["detail"]
    assert fake_ai.requests == []


async def test_only_this_months_usage_counts(
    api: Api, app: Any, fake_ai: FakeProvider, limits: Any
) -> None:
    limits(FREE="1000:0")
    ann = await api.signup()
    await api.provider(ann)
    art = await brief(api, ann, (await api.project(ann))["id"])
    await add_usage(app, ann, tokens=10_000, when=month_start() - dt.timedelta(seconds=1))
    assert (await generate(api, ann, art["id"])).status_code == 202
    await add_usage(app, ann, tokens=1000, when=month_start())
    assert (await generate(api, ann, art["id"])).status_code == 402


async def test_the_users_plan_sets_the_limit(
    api: Api, app: Any, fake_ai: FakeProvider, limits: Any
) -> None:
    limits(FREE="10:0", PRO="0:0")
    ann = await api.signup()
    await api.provider(ann)
    art = await brief(api, ann, (await api.project(ann))["id"])
    await add_usage(app, ann, tokens=500)
    assert (await generate(api, ann, art["id"])).status_code == 402
    await set_subscription(app, user_id=ann.id, plan=SubscriptionPlan.PRO)
    assert (await generate(api, ann, art["id"])).status_code == 202


async def test_a_job_queued_before_the_budget_ran_out_does_not_call(
    api: Api, app: Any, fake_ai: FakeProvider, limits: Any
) -> None:
    limits(FREE="1000:0")
    ann = await api.signup()
    await api.provider(ann)
    art = await brief(api, ann, (await api.project(ann))["id"])
    r = await generate(api, ann, art["id"])
    assert r.status_code == 202, r.text
    await add_usage(app, ann, tokens=1000)
    fake_ai.push(BRIEF_OUTPUT)
    await run_jobs(app, r.json()["id"])
    job = (await api.client.get(f"/api/v1/jobs/{r.json()['id']}", headers=ann.headers)).json()
    assert job["status"] == "failed" and job["error_code"] == "budget_exceeded"
    assert fake_ai.requests == []


async def test_an_organizations_budget(
    api: Api, app: Any, fake_ai: FakeProvider, limits: Any
) -> None:
    limits(FREE="1000:0")
    owner, member = await api.signup(), await api.signup()
    org = await api.organization(owner)
    await api.add_member(owner, org["id"], member, "MEMBER")
    await api.provider(owner)
    org_project = await api.project(owner, organization_id=org["id"])
    own_project = await api.project(owner)
    in_org = await brief(api, owner, org_project["id"])
    mine = await brief(api, owner, own_project["id"])
    # The organization's usage so far, all by another member.
    await add_usage(
        app, member, tokens=999, organization_id=org["id"], project_id=org_project["id"]
    )
    assert (await generate(api, owner, in_org["id"])).status_code == 202
    await add_usage(app, member, tokens=1, organization_id=org["id"])

    r = await generate(api, owner, in_org["id"])
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    assert "organization" in r.json()["detail"] and "1000 of 1000" in r.json()["detail"]
    # Owner's own budget is untouched: a personal project still generates.
    assert (await generate(api, owner, mine["id"])).status_code == 202
    # The organization's tier sets its limit.
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == uuid.UUID(org["id"]))
            .values(subscription_tier=SubscriptionPlan.PRO)
        )
    assert (await generate(api, owner, in_org["id"])).status_code == 202
    assert fake_ai.requests == []


# --- usage ----------------------------------------------------------------------------------


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


async def test_usage_totals_by_day_and_by_model(api: Api, app: Any) -> None:
    ann, bob = await api.signup(), await api.signup()
    p1, p2 = await api.project(ann), await api.project(ann)
    today = utcnow().date()
    d2, d3 = today - dt.timedelta(days=2), today - dt.timedelta(days=3)
    await add_usage(
        app,
        ann,
        tokens=150,
        input_tokens=100,
        cost="0.001",
        model="m-a",
        project_id=p1["id"],
        when=_at(d2, 0, 1),
    )
    await add_usage(
        app,
        ann,
        tokens=15,
        input_tokens=10,
        cost="0.0005",
        model="m-b",
        project_id=p1["id"],
        when=_at(d2, 23, 59),
    )
    await add_usage(
        app,
        ann,
        tokens=2,
        input_tokens=1,
        cost="0",
        model="m-a",
        project_id=p2["id"],
        when=_at(d3, 12),
    )
    await add_usage(app, ann, tokens=10**6, model="m-a", when=_at(today - dt.timedelta(days=40), 9))
    await add_usage(app, bob, tokens=777, model="m-a", when=_at(d2, 12))

    r = await api.client.get("/api/v1/usage", headers=ann.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"] == {
        "scope": "all",
        "input_tokens": 111,
        "output_tokens": 56,
        "total_tokens": 167,
        "cost_usd": "0.001500",
        "calls": 3,
    }
    assert [(d["day"], d["total_tokens"], d["calls"]) for d in body["by_day"]] == [
        (d3.isoformat(), 2, 1),
        (d2.isoformat(), 165, 2),
    ]
    by_model = [
        (m["model"], m["total_tokens"], m["calls"], m["cost_usd"]) for m in body["by_model"]
    ]
    assert by_model == [("m-a", 152, 2, "0.001000"), ("m-b", 15, 1, "0.000500")]

    r = await api.client.get("/api/v1/usage", params={"project_id": p1["id"]}, headers=ann.headers)
    assert r.json()["totals"]["total_tokens"] == 165 and r.json()["project_id"] == p1["id"]
    r = await api.client.get(
        "/api/v1/usage",
        params={"from": d2.isoformat(), "to": d2.isoformat()},
        headers=ann.headers,
    )
    assert r.json()["totals"]["calls"] == 2
    r = await api.client.get(
        "/api/v1/usage",
        params={"from": (today - dt.timedelta(days=41)).isoformat()},
        headers=ann.headers,
    )
    assert r.json()["totals"]["calls"] == 4

    r = await api.client.get("/api/v1/usage", headers=bob.headers)
    assert r.json()["totals"]["total_tokens"] == 777


async def test_usage_of_a_new_user_is_zero(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.get("/api/v1/usage", headers=ann.headers)
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["calls"] == 0 and r.json()["totals"]["cost_usd"] == "0.000000"
    assert r.json()["by_day"] == [] and r.json()["by_model"] == []


async def test_usage_refusals(api: Api) -> None:
    ann, bob = await api.signup(), await api.signup()
    bobs = await api.project(bob)
    r = await api.client.get(
        "/api/v1/usage", params={"project_id": bobs["id"]}, headers=ann.headers
    )
    assert r.status_code == 404 and error_code(r) == "project_not_found"
    r = await api.client.get(
        "/api/v1/usage", params={"from": "2024-02-02", "to": "2024-02-01"}, headers=ann.headers
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["detail"]] == ["query.from"]
    r = await api.client.get("/api/v1/usage", params={"from": "yesterday"}, headers=ann.headers)
    assert r.status_code == 422
    r = await api.client.get("/api/v1/usage")
    assert r.status_code == 401


async def test_days_are_utc_days_whatever_the_database_time_zone(
    api: Api, app: Any, backend: str
) -> None:
    ann = await api.signup()
    day = utcnow().date() - dt.timedelta(days=5)
    await add_usage(app, ann, tokens=10, when=_at(day, 12))
    start = _at(day, 0)
    async with app.state.sessionmaker() as session:
        if backend == "postgresql":
            # UTC+14: the row's local date there is the next day.
            await session.execute(text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))
        summary = await usage_summary(
            session,
            user_id=uuid.UUID(ann.id),
            project_id=None,
            start=start,
            end=start + dt.timedelta(days=1),
        )
        await session.rollback()
    assert [d["day"] for d in summary["by_day"]] == [day.isoformat()]


# --- /ai-generations ------------------------------------------------------------------------


async def test_ai_generations_lists_only_mine(api: Api, app: Any) -> None:
    ann, bob = await api.signup(), await api.signup()
    mine = await api.project(ann)
    bobs = await api.project(bob)
    await add_usage(app, ann, tokens=1, project_id=mine["id"])
    await add_usage(app, ann, tokens=2)
    await add_usage(app, bob, tokens=3, project_id=bobs["id"])

    r = await api.client.get("/api/v1/ai-generations", headers=ann.headers)
    assert r.status_code == 200, r.text
    assert sorted(g["total_tokens"] for g in r.json()["items"]) == [1, 2]
    assert {g["user_id"] for g in r.json()["items"]} == {ann.id}
    r = await api.client.get(
        "/api/v1/ai-generations", params={"project_id": mine["id"]}, headers=ann.headers
    )
    assert [g["total_tokens"] for g in r.json()["items"]] == [1]
    r = await api.client.get(
        "/api/v1/ai-generations", params={"project_id": bobs["id"]}, headers=ann.headers
    )
    assert r.status_code == 404 and error_code(r) == "project_not_found"
    r = await api.client.get("/api/v1/ai-generations", params={"limit": 1}, headers=ann.headers)
    assert len(r.json()["items"]) == 1 and r.json()["next_cursor"]
    r2 = await api.client.get(
        "/api/v1/ai-generations",
        params={"limit": 1, "cursor": r.json()["next_cursor"]},
        headers=ann.headers,
    )
    assert len(r2.json()["items"]) == 1 and r2.json()["next_cursor"] is None
    assert r2.json()["items"][0]["id"] != r.json()["items"][0]["id"]
    r = await api.client.get("/api/v1/ai-generations")
    assert r.status_code == 401


async def test_org_members_see_the_projects_generations(api: Api, app: Any) -> None:
    owner, member = await api.signup(), await api.signup()
    org = await api.organization(owner)
    await api.add_member(owner, org["id"], member, "VIEWER")
    project = await api.project(owner, organization_id=org["id"])
    await add_usage(app, owner, tokens=5, project_id=project["id"], organization_id=org["id"])
    r = await api.client.get(
        "/api/v1/ai-generations", params={"project_id": project["id"]}, headers=member.headers
    )
    assert r.status_code == 200 and [g["total_tokens"] for g in r.json()["items"]] == [5]
    r = await api.client.get(
        "/api/v1/usage", params={"project_id": project["id"]}, headers=member.headers
    )
    assert r.json()["totals"]["total_tokens"] == 5


async def test_a_provider_test_call_is_audited_and_budgeted(
    api: Api, fake_ai: FakeProvider, limits: Any
) -> None:
    limits()
    ann = await api.signup()
    config = await api.provider(ann)
    fake_ai.push('{"ok": true}')
    r = await api.client.post(f"/api/v1/ai-providers/{config['id']}/test", headers=ann.headers)
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    r = await api.client.get("/api/v1/ai-generations", headers=ann.headers)
    (row,) = r.json()["items"]
    assert row["prompt_template"] == "provider_test@1" and row["status"] == "success"
    assert row["provider_id"] == config["id"] and row["total_tokens"] > 0
    used = row["total_tokens"]

    limits(FREE=f"{used}:0")  # used up by the test call itself
    calls = len(fake_ai.requests)
    r = await api.client.post(f"/api/v1/ai-providers/{config['id']}/test", headers=ann.headers)
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    assert len(fake_ai.requests) == calls


@pytest.mark.parametrize(
    ("status", "period_end_days", "expected"),
    [
        ("TRIAL", None, "PRO"),
        ("ACTIVE", None, "PRO"),
        ("PAST_DUE", None, "PRO"),  # the grace before billing gives up
        ("CANCELLED", 3, "PRO"),  # paid until the end of the period
        ("CANCELLED", -1, "FREE"),
        ("CANCELLED", None, "FREE"),
        ("PENDING", None, "FREE"),
        ("EXPIRED", 3, "FREE"),
    ],
)
def test_which_plan_applies(status: str, period_end_days: int | None, expected: str) -> None:
    now = dt.datetime(2026, 5, 10, tzinfo=dt.UTC)
    end = None if period_end_days is None else now + dt.timedelta(days=period_end_days)
    plan = effective_plan(SubscriptionPlan.PRO, SubscriptionStatus(status), end, now)
    assert plan == expected
    assert effective_plan(None, SubscriptionStatus.ACTIVE) == "FREE"


async def test_a_lapsed_subscription_gets_the_free_plans_limit(
    api: Api, app: Any, fake_ai: FakeProvider, limits: Any
) -> None:
    limits(FREE="10:0", PRO="0:0")
    ann = await api.signup()
    await api.provider(ann)
    art = await brief(api, ann, (await api.project(ann))["id"])
    await add_usage(app, ann, tokens=500)
    ended = utcnow() - dt.timedelta(days=1)
    await set_subscription(
        app,
        user_id=ann.id,
        plan=SubscriptionPlan.PRO,
        status=SubscriptionStatus.CANCELLED,
        current_period_end=ended,
    )
    r = await generate(api, ann, art["id"])
    assert r.status_code == 402 and "FREE plan" in r.json()["detail"], r.text
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.user_id == uuid.UUID(ann.id))
            .values(current_period_end=utcnow() + dt.timedelta(days=5))
        )
    assert (await generate(api, ann, art["id"])).status_code == 202

    # An organization's expired tier counts as free too.
    owner = await api.signup()
    await api.provider(owner)
    org = await api.organization(owner)
    project = await api.project(owner, organization_id=org["id"])
    in_org = await brief(api, owner, project["id"])
    await add_usage(app, owner, tokens=500, organization_id=org["id"])
    await set_subscription(app, user_id=owner.id, plan=SubscriptionPlan.PRO)
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == uuid.UUID(org["id"]))
            .values(subscription_tier=SubscriptionPlan.PRO, subscription_status="EXPIRED")
        )
    r = await generate(api, owner, in_org["id"])
    assert r.status_code == 402 and "organization's FREE plan" in r.json()["detail"], r.text
