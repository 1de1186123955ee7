"""Plan limits, enforced before the work they limit: 402 ``budget_exceeded`` naming the
metric, the period and when its count starts again.

Two kinds of metric. Those whose amount is known before the work (a chat message, a
generation, an upload's bytes, a project) are *charged*: checked with the amount added,
then counted in the same transaction as the work (``charge``). AI tokens, dollars and
calls are only known after the call, so a call is refused once they are used up
(``check`` with ``ai=True``) and the audit rows count them (``ai/usage_rollup.py``).

Both the user and, for work done in an organization's project, the organization pay:
each one's own plan is checked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import metering
from atelier.accounts.metering import Owner, owners_of
from atelier.accounts.models import (
    Organization,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
)
from atelier.accounts.plans import METRICS, PERIODS, Period, limits_of
from atelier.config import Settings
from atelier.core.db import utcnow
from atelier.core.errors import AtelierError

AI_METRICS = ("ai_tokens", "ai_cost_usd", "ai_calls")


class BudgetExceeded(AtelierError):
    status_code = 402
    code = "budget_exceeded"


_PLAN_HOLDS = {SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE}


def effective_plan(
    plan: SubscriptionPlan | None,
    status: SubscriptionStatus | None,
    period_end: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The plan whose limits apply. A plan holds while it is on trial, paid, or late with a
    payment (the grace a billing system gives before it cancels); a cancelled one until the
    end of the period already paid for; a pending or expired one not at all (free plan)."""
    if plan is None:
        return SubscriptionPlan.FREE.value
    if status is None or status in _PLAN_HOLDS:
        return plan.value
    if status == SubscriptionStatus.CANCELLED and period_end is not None:
        end = period_end if period_end.tzinfo else period_end.replace(tzinfo=dt.UTC)
        if end > (now or utcnow()):
            return plan.value
    return SubscriptionPlan.FREE.value


async def _subscription_plan(session: AsyncSession, owner: ColumnElement[bool]) -> str | None:
    row = (
        await session.execute(
            select(Subscription.plan, Subscription.status, Subscription.current_period_end).where(
                owner
            )
        )
    ).first()
    return effective_plan(*row) if row is not None else None


async def user_plan(session: AsyncSession, user_id: uuid.UUID) -> str:
    plan = await _subscription_plan(session, Subscription.user_id == user_id)
    return plan or SubscriptionPlan.FREE.value


async def organization_plan(session: AsyncSession, organization_id: uuid.UUID) -> str:
    """From the organization's own tier and status (seed 003's columns, which the admin
    console, the billing webhook and the lifecycle sweep set; its subscription row repeats
    them), with the paid period's end from its subscription row, if any."""
    row = (
        await session.execute(
            select(
                Organization.subscription_tier,
                Organization.subscription_status,
                Subscription.current_period_end,
            )
            .outerjoin(Subscription, Subscription.organization_id == Organization.id)
            .where(Organization.id == organization_id)
        )
    ).first()
    return effective_plan(*row) if row is not None else SubscriptionPlan.FREE.value


async def plan_of(session: AsyncSession, owner: Owner) -> str:
    if owner.kind == "user":
        return await user_plan(session, owner.id)
    return await organization_plan(session, owner.id)


def settings_of(session: AsyncSession) -> Settings:
    """The settings of the app whose sessionmaker made ``session`` (core/db.py puts them
    in every session's info), so deep code can read the plan catalogue."""
    settings = session.info.get("settings")
    if not isinstance(settings, Settings):
        raise RuntimeError("this session was not made by make_sessionmaker(engine, settings)")
    return settings


async def check(
    session: AsyncSession,
    *,
    owners: Sequence[Owner],
    adding: Mapping[str, int] | None = None,
    ai: bool = False,
    settings: Settings | None = None,
    now: dt.datetime | None = None,
    added: bool = False,
) -> None:
    """Refuse (402) if adding ``adding`` (stored units) would pass a limit of an owner's
    plan, or, with ``ai``, if its AI tokens, dollars or calls are used up. With ``added``
    the amounts are already in the counters (``charge``)."""
    settings = settings or settings_of(session)
    adding = adding or {}
    now = now or utcnow()
    for owner in owners:
        plan = await plan_of(session, owner)
        limits = limits_of(settings, plan)
        metrics = [m for m in METRICS if m in limits and (m in adding or (ai and m in AI_METRICS))]
        if not metrics:
            continue
        used = await metering.usage(session, owner, metrics, now=now)
        for metric in metrics:
            for period in PERIODS:
                cap = limits[metric].get(period)
                if not cap:
                    continue
                have, more = used[(metric, period)], adding.get(metric, 0)
                if added:
                    have -= more
                limit = metering.stored(metric, cap)
                if (have + more > limit) if metric in adding else (have >= limit):
                    raise BudgetExceeded(
                        _message(owner, plan, metric, period, have, more, limit, now)
                    )


async def charge(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    amounts: Mapping[str, int | Decimal],
    ai: bool = False,
    settings: Settings | None = None,
) -> None:
    """Count ``amounts`` in the session's transaction (a rollback takes them back), then
    refuse (402) if that passed a limit of the user's or the organization's plan, taking
    them back first (a caller that catches the refusal may still commit).

    Counting first makes the edge exact under concurrency: the counter rows stay locked
    by this transaction (PostgreSQL's row lock, SQLite's single writer) until it ends, so
    two requests for the last unit cannot both see it free."""
    owners = owners_of(user_id, organization_id)
    stored = {metric: metering.stored(metric, amount) for metric, amount in amounts.items()}
    now = utcnow()
    await metering.add(session, dict.fromkeys(owners, stored), now=now)
    try:
        await check(
            session, owners=owners, adding=stored, ai=ai, settings=settings, now=now, added=True
        )
    except BudgetExceeded:
        taken_back = {metric: -value for metric, value in stored.items()}
        await metering.add(session, dict.fromkeys(owners, taken_back), now=now)
        raise


_WINDOW = {"daily": "today", "monthly": "this month", "yearly": "this year"}
_UNIT = {
    "ai_tokens": "tokens",
    "ai_calls": "AI calls",
    "generations": "generations",
    "analyses": "analyses",
    "chat_messages": "messages",
    "upload_bytes": "bytes",
    "projects": "projects",
}


def _amount(metric: str, value: int) -> str:
    if metric == "ai_cost_usd":
        return f"${metering.shown(metric, value):.2f}"
    return str(value)


def _message(
    owner: Owner,
    plan: str,
    metric: str,
    period: Period,
    have: int,
    more: int,
    limit: int,
    now: dt.datetime,
) -> str:
    who = f"your {plan} plan" if owner.kind == "user" else f"the organization's {plan} plan"
    unit = f" {_UNIT[metric]}" if metric in _UNIT else ""
    used = f"{_amount(metric, have)} of {_amount(metric, limit)}{unit} used {_WINDOW[period]}"
    if more:
        used += f", and this needs {_amount(metric, more)} more"
    resets = metering.resets_at(period, now)
    return (
        f"{who}'s {period} limit on {metric} is reached: {used}; "
        f"the {period} count starts again on {resets:%Y-%m-%d} (UTC)"
    )
