"""ai_monthly_usage: the running totals budgets read, kept in step with the audit rows."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from atelier.ai.budgets import month_start, spent_this_month
from atelier.ai.models import AIGeneration, MonthlyUsage, UsageScope
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.usage_rollup import month_of
from atelier.core.db import session_scope
from tests.conftest import run_jobs
from tests.factories import BRIEF_OUTPUT, Api, error_code
from tests.test_budgets_usage import add_usage, brief, generate, limits  # noqa: F401

pytestmark = pytest.mark.anyio


async def totals(app: Any, scope: UsageScope, owner: str) -> tuple[int, Decimal, int] | None:
    async with session_scope(app.state.sessionmaker) as session:
        row = (
            await session.execute(
                select(
                    MonthlyUsage.total_tokens, MonthlyUsage.estimated_cost, MonthlyUsage.calls
                ).where(
                    MonthlyUsage.scope == scope,
                    MonthlyUsage.owner_id == uuid.UUID(owner),
                    MonthlyUsage.month == month_start().date(),
                )
            )
        ).first()
    return None if row is None else (int(row[0]), Decimal(row[1]), int(row[2]))


async def audit_sums(app: Any, **owner: str) -> tuple[int, Decimal, int]:
    column = AIGeneration.user_id if "user_id" in owner else AIGeneration.organization_id
    async with session_scope(app.state.sessionmaker) as session:
        tokens, cost, calls = (
            await session.execute(
                select(
                    func.coalesce(func.sum(AIGeneration.total_tokens), 0),
                    func.coalesce(func.sum(AIGeneration.estimated_cost), 0),
                    func.count(),
                ).where(
                    column == uuid.UUID(next(iter(owner.values()))),
                    AIGeneration.created_at >= month_start(),
                )
            )
        ).one()
    return int(tokens), Decimal(str(cost)).quantize(Decimal("0.000001")), int(calls)


async def test_generations_add_up_per_user_and_organization(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    owner = await api.signup()
    org = await api.organization(owner)
    await api.provider(owner, options={"input_usd_per_mtok": 3, "output_usd_per_mtok": 15})
    in_org = await brief(api, owner, (await api.project(owner, organization_id=org["id"]))["id"])
    mine = await brief(api, owner, (await api.project(owner))["id"])
    fake_ai.push(BRIEF_OUTPUT, "not json", BRIEF_OUTPUT, BRIEF_OUTPUT)  # one repaired answer
    jobs = [(await generate(api, owner, a["id"])).json()["id"] for a in (in_org, in_org, mine)]
    await run_jobs(app, *jobs)

    user_sums = await audit_sums(app, user_id=owner.id)
    org_sums = await audit_sums(app, organization_id=org["id"])
    assert user_sums[2] == 4 and org_sums[2] == 3  # the failed attempt is a call too
    assert user_sums[0] > org_sums[0] > 0
    assert await totals(app, UsageScope.USER, owner.id) == user_sums
    assert await totals(app, UsageScope.ORGANIZATION, org["id"]) == org_sums
    async with session_scope(app.state.sessionmaker) as session:
        spend = await spent_this_month(session, user_id=uuid.UUID(owner.id))
    assert (spend.tokens, spend.usd) == user_sums[:2]


async def test_calls_count_in_the_month_they_were_made(api: Api, app: Any) -> None:
    ann = await api.signup()
    last_month = month_start() - dt.timedelta(seconds=1)
    await add_usage(app, ann, tokens=70, cost="0.5", when=last_month)
    await add_usage(app, ann, tokens=30, cost="0.25")
    await add_usage(app, ann, tokens=5, cost="0.125")
    assert await totals(app, UsageScope.USER, ann.id) == (35, Decimal("0.375"), 2)
    async with session_scope(app.state.sessionmaker) as session:
        earlier = await session.scalar(
            select(MonthlyUsage.total_tokens).where(
                MonthlyUsage.owner_id == uuid.UUID(ann.id),
                MonthlyUsage.month == month_of(last_month),
            )
        )
    assert earlier == 70


async def test_deleting_audit_rows_does_not_refund_the_budget(
    api: Api,
    app: Any,
    fake_ai: FakeProvider,
    limits: Any,  # noqa: F811
) -> None:
    """Those calls were paid for: removing their rows (a project's go with it) must not
    make room for more."""
    limits(FREE="1000:0")
    ann = await api.signup()
    await api.provider(ann)
    art = await brief(api, ann, (await api.project(ann))["id"])
    await add_usage(app, ann, tokens=1000)
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(delete(AIGeneration).where(AIGeneration.user_id == uuid.UUID(ann.id)))
    r = await generate(api, ann, art["id"])
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    assert fake_ai.requests == []


async def test_spend_needs_exactly_one_owner(app: Any) -> None:
    async with session_scope(app.state.sessionmaker) as session:
        for owners in ({}, {"user_id": uuid.uuid4(), "org_id": uuid.uuid4()}):
            with pytest.raises(ValueError):
                await spent_this_month(session, **owners)
