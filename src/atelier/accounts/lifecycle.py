"""Subscriptions that end by the calendar, moved on by a periodic sweep (the job runner
runs it every ``SWEEP_SECONDS`` in every process; the updates are idempotent).

* a trial whose end has passed (``current_period_end`` of a TRIAL subscription, as a
  billing system sets it, or an organization's ``trial_ends_at``) becomes ACTIVE when
  the billing system marked it paid (``metadata.paid``), else EXPIRED;
* a cancelled subscription becomes EXPIRED once the period it paid for is over;
* a PAST_DUE one becomes EXPIRED when its period ended more than the grace period ago
  (``ATELIER_PAST_DUE_GRACE_DAYS``): the billing system had that long to collect.

Plans stop applying at EXPIRED (``accounts.limits.effective_plan``). An organization's
own status columns and its subscription row say the same after a sweep.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.accounts.models import Organization, Subscription, SubscriptionStatus
from atelier.core.db import session_scope, utcnow

log = structlog.get_logger("atelier.accounts")

SWEEP_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Swept:
    trials_paid: int = 0
    trials_expired: int = 0
    cancelled_expired: int = 0
    past_due_expired: int = 0
    organizations_expired: int = 0

    @property
    def total(self) -> int:
        return (
            self.trials_paid
            + self.trials_expired
            + self.cancelled_expired
            + self.past_due_expired
            + self.organizations_expired
        )


async def sweep(session: AsyncSession, *, now: dt.datetime, grace: dt.timedelta) -> Swept:
    """Move every subscription whose date has come; returns how many of each."""
    paid = expired = cancelled = late = orgs = 0
    due = await session.scalars(
        select(Subscription).where(
            Subscription.current_period_end.is_not(None),
            or_(
                and_(
                    Subscription.status.in_(
                        [SubscriptionStatus.TRIAL, SubscriptionStatus.CANCELLED]
                    ),
                    Subscription.current_period_end <= now,
                ),
                and_(
                    Subscription.status == SubscriptionStatus.PAST_DUE,
                    Subscription.current_period_end <= now - grace,
                ),
            ),
        )
    )
    moved_orgs: dict[uuid.UUID, SubscriptionStatus] = {}
    for subscription in due.all():
        if subscription.status == SubscriptionStatus.TRIAL:
            if (subscription.metadata_ or {}).get("paid") is True:
                subscription.status = SubscriptionStatus.ACTIVE
                paid += 1
            else:
                subscription.status = SubscriptionStatus.EXPIRED
                expired += 1
        else:
            if subscription.status == SubscriptionStatus.CANCELLED:
                cancelled += 1
            else:
                late += 1
            subscription.status = SubscriptionStatus.EXPIRED
        if subscription.organization_id is not None:
            moved_orgs[subscription.organization_id] = subscription.status
    for org_id, status in moved_orgs.items():
        await session.execute(
            update(Organization).where(Organization.id == org_id).values(subscription_status=status)
        )
    trials = await session.scalars(
        select(Organization).where(
            Organization.subscription_status == SubscriptionStatus.TRIAL,
            Organization.trial_ends_at.is_not(None),
            Organization.trial_ends_at <= now,
        )
    )
    for org in trials.all():
        org.subscription_status = SubscriptionStatus.EXPIRED
        orgs += 1
        await session.execute(
            update(Subscription)
            .where(Subscription.organization_id == org.id)
            .values(status=SubscriptionStatus.EXPIRED)
        )
    await session.flush()
    return Swept(paid, expired, cancelled, late, orgs)


def sweeper(maker: async_sessionmaker[AsyncSession], *, grace_days: int) -> SweepTask:
    """The periodic task the job runner runs."""
    return SweepTask(maker, dt.timedelta(days=grace_days))


class SweepTask:
    def __init__(self, maker: async_sessionmaker[AsyncSession], grace: dt.timedelta) -> None:
        self.maker = maker
        self.grace = grace

    async def __call__(self) -> None:
        async with session_scope(self.maker) as session:
            swept = await sweep(session, now=utcnow(), grace=self.grace)
        if swept.total:
            log.info("subscriptions_swept", **{k: getattr(swept, k) for k in swept.__slots__})
