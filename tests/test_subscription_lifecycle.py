"""Subscriptions that end by the calendar, on both back ends: trials (paid or not),
cancellations and late payments past their grace, organizations' own trials; and the
job runner running the sweep on its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from atelier.accounts.lifecycle import SweepTask, sweep
from atelier.accounts.models import (
    Organization,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
)
from atelier.ai.budgets import organization_plan, user_plan
from atelier.core.db import session_scope, utcnow
from atelier.jobs.runner import JobRunner
from tests.factories import Api, set_subscription

pytestmark = pytest.mark.anyio

DAY = dt.timedelta(days=1)
GRACE = dt.timedelta(days=7)
S = SubscriptionStatus


async def subscribed(
    api: Api, app: Any, status: S, period_end: dt.datetime, **meta: Any
) -> uuid.UUID:
    who = await api.signup()
    user_id = uuid.UUID(who.id)
    await set_subscription(
        app,
        user_id=user_id,
        plan=SubscriptionPlan.PRO,
        status=status,
        current_period_end=period_end,
        metadata_=meta,
    )
    return user_id


async def test_the_sweep_moves_what_is_due_and_nothing_else(api: Api, app: Any) -> None:
    now = utcnow()
    cases = {
        "trial over": (await subscribed(api, app, S.TRIAL, now - DAY), S.EXPIRED, "FREE"),
        "trial over, paid": (
            await subscribed(api, app, S.TRIAL, now - DAY, paid=True),
            S.ACTIVE,
            "PRO",
        ),
        "trial running": (await subscribed(api, app, S.TRIAL, now + DAY), S.TRIAL, "PRO"),
        "cancelled, period over": (
            await subscribed(api, app, S.CANCELLED, now - DAY),
            S.EXPIRED,
            "FREE",
        ),
        "cancelled, period running": (
            await subscribed(api, app, S.CANCELLED, now + DAY),
            S.CANCELLED,
            "PRO",
        ),
        "late, in grace": (
            await subscribed(api, app, S.PAST_DUE, now - GRACE + DAY),
            S.PAST_DUE,
            "PRO",
        ),
        "late, grace over": (
            await subscribed(api, app, S.PAST_DUE, now - GRACE - DAY),
            S.EXPIRED,
            "FREE",
        ),
        "active": (await subscribed(api, app, S.ACTIVE, now - DAY), S.ACTIVE, "PRO"),
    }
    owner = await api.signup()
    org_over = await api.organization(owner, name="Over")
    org_running = await api.organization(owner, name="Running")
    async with session_scope(app.state.sessionmaker) as session:
        for org_id, end in ((org_over["id"], now - DAY), (org_running["id"], now + DAY)):
            org = await session.get(Organization, uuid.UUID(org_id))
            assert org is not None
            org.subscription_tier = SubscriptionPlan.PROFESSIONAL
            org.subscription_status = S.TRIAL
            org.trial_ends_at = end

    async with session_scope(app.state.sessionmaker) as session:
        swept = await sweep(session, now=now, grace=GRACE)
    assert swept.trials_paid >= 1 and swept.trials_expired >= 1
    assert swept.cancelled_expired >= 1 and swept.past_due_expired >= 1
    assert swept.organizations_expired >= 1

    for sweep_number in (1, 2):  # a second sweep leaves them all where they are
        async with session_scope(app.state.sessionmaker) as session:
            for name, (user_id, status, plan) in cases.items():
                row = await session.scalar(
                    select(Subscription).where(Subscription.user_id == user_id)
                )
                assert row is not None and row.status == status, (name, sweep_number)
                assert await user_plan(session, user_id) == plan, name
            over = uuid.UUID(org_over["id"])
            assert await organization_plan(session, over) == "FREE"
            running = uuid.UUID(org_running["id"])
            assert await organization_plan(session, running) == "PROFESSIONAL"
            await sweep(session, now=now, grace=GRACE)


async def test_the_runner_runs_the_sweep_periodically(app: Any) -> None:
    ran = asyncio.Event()
    task = SweepTask(app.state.sessionmaker, GRACE)

    async def watched() -> None:
        await task()
        ran.set()

    runner = JobRunner(
        app.state.sessionmaker,
        app.state.jobs.events,
        {},
        concurrency=1,
        stale_seconds=60,
        dialect="sqlite",  # polls: no delivery needed for this check
        poll_seconds=0.05,
        periodic=((3600.0, watched),),
    )
    await runner.start()
    try:
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        await runner.stop()


async def test_an_organizations_columns_and_subscription_row_move_together(
    api: Api, app: Any
) -> None:
    """An organization's row made by counting its work repeats its tier and status; the
    sweep moves both, whichever of the two carries the date."""
    now = utcnow()
    owner = await api.signup()
    by_trial = await api.organization(owner, name="By trial end")
    by_period = await api.organization(owner, name="By period end")
    for org in (by_trial, by_period):
        await api.project(owner, organization_id=org["id"])  # counted: its row is made
    async with session_scope(app.state.sessionmaker) as session:
        trial = await session.get(Organization, uuid.UUID(by_trial["id"]))
        assert trial is not None
        trial.trial_ends_at = now - DAY
        await session.execute(
            update(Subscription)
            .where(Subscription.organization_id == uuid.UUID(by_period["id"]))
            .values(status=S.CANCELLED, current_period_end=now - DAY)
        )
        await session.execute(
            update(Organization)
            .where(Organization.id == uuid.UUID(by_period["id"]))
            .values(subscription_tier=SubscriptionPlan.PRO, subscription_status=S.CANCELLED)
        )
    async with session_scope(app.state.sessionmaker) as session:
        await sweep(session, now=now, grace=GRACE)
    async with session_scope(app.state.sessionmaker) as session:
        for org in (by_trial, by_period):
            org_id = uuid.UUID(org["id"])
            row = await session.scalar(
                select(Subscription).where(Subscription.organization_id == org_id)
            )
            columns = await session.get(Organization, org_id)
            assert row is not None and columns is not None
            assert row.status == columns.subscription_status == S.EXPIRED, org["name"]
            assert await organization_plan(session, org_id) == "FREE"
