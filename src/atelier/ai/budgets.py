"""Monthly limits per user and per organization, from their plan.

Checked before any provider call (when a generation is requested and again when its
job starts), so a generation that would go over is refused with 402 and costs nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import (
    Organization,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
)
from atelier.ai.models import MonthlyUsage, UsageScope
from atelier.config import Settings
from atelier.core.db import utcnow
from atelier.core.errors import AtelierError


class BudgetExceeded(AtelierError):
    status_code = 402
    code = "budget_exceeded"


@dataclass(frozen=True, slots=True)
class Limit:
    tokens: int  # 0 = unlimited
    usd: Decimal  # 0 = unlimited


def plan_limits(settings: Settings) -> dict[str, Limit]:
    limits = {}
    for part in settings.plan_limits.split(","):
        plan, _, values = part.strip().partition("=")
        tokens, _, usd = values.partition(":")
        limits[plan.strip().upper()] = Limit(tokens=int(tokens or 0), usd=Decimal(usd or 0))
    return limits


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    now = now or utcnow()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Spend:
    tokens: int
    usd: Decimal


async def spent_this_month(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, org_id: uuid.UUID | None = None
) -> Spend:
    """A user's or (``org_id``) an organization's AI spend this month (UTC), from its
    running total in ``ai_monthly_usage``."""
    if (user_id is None) == (org_id is None):
        raise ValueError("give one of user_id and org_id")
    scope, owner = (
        (UsageScope.USER, user_id) if user_id is not None else (UsageScope.ORGANIZATION, org_id)
    )
    row = (
        await session.execute(
            select(MonthlyUsage.total_tokens, MonthlyUsage.estimated_cost).where(
                MonthlyUsage.scope == scope,
                MonthlyUsage.owner_id == owner,
                MonthlyUsage.month == month_start().date(),
            )
        )
    ).first()
    if row is None:
        return Spend(tokens=0, usd=Decimal(0))
    return Spend(tokens=int(row[0]), usd=Decimal(str(row[1])))


def _over(spend: Spend, limit: Limit) -> str | None:
    """What is used up, naming the metric, the period and when it resets."""
    resets = f"the monthly count starts again on {next_month_start():%Y-%m-%d} (UTC)"
    if limit.tokens and spend.tokens >= limit.tokens:
        return f"{spend.tokens} of {limit.tokens} tokens used this month (ai_tokens); {resets}"
    if limit.usd and spend.usd >= limit.usd:
        return f"${spend.usd:.2f} of ${limit.usd:.2f} used this month (ai_cost_usd); {resets}"
    return None


def next_month_start(now: dt.datetime | None = None) -> dt.datetime:
    start = month_start(now)
    return (start + dt.timedelta(days=32)).replace(day=1)


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
    """From the organization's subscription if it has one, else its tier and status."""
    plan = await _subscription_plan(session, Subscription.organization_id == organization_id)
    if plan is not None:
        return plan
    row = (
        await session.execute(
            select(Organization.subscription_tier, Organization.subscription_status).where(
                Organization.id == organization_id
            )
        )
    ).first()
    return effective_plan(*row) if row is not None else SubscriptionPlan.FREE.value


async def check_budget(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
) -> None:
    limits = plan_limits(settings)
    plan = await user_plan(session, user_id)
    unlimited = Limit(0, Decimal(0))
    over = _over(await spent_this_month(session, user_id=user_id), limits.get(plan, unlimited))
    if over:
        raise BudgetExceeded(f"your {plan} plan's monthly AI budget is used up: {over}")
    if organization_id is not None:
        org_plan = await organization_plan(session, organization_id)
        over = _over(
            await spent_this_month(session, org_id=organization_id),
            limits.get(org_plan, unlimited),
        )
        if over:
            raise BudgetExceeded(
                f"the organization's {org_plan} plan's monthly AI budget is used up: {over}"
            )
