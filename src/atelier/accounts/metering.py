"""Usage counters: ``subscription_usage``, one row per subscription, metric and period
window ("2026-12-08", "2026-12", "2026").

Work adds to its owner's counters in the transaction that does the work, so a rollback
takes the count back with it: AI calls through a session hook on their audit rows
(``ai/usage_rollup.py``), generations, chat messages, uploads and projects where they are
created (``accounts/limits.py``'s ``charge``). Each addition writes the day's, the
month's and the year's row at once, so reading a window's use is one row, however busy
the period was.

A user or organization gets a subscription row the first time something is counted
(the free plan for a user; an organization's row repeats its tier and status, which stay
in step: the admin console, the billing webhook and the lifecycle sweep set both).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import (
    Organization,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
    SubscriptionUsage,
)
from atelier.accounts.plans import PERIODS, SCALE, Period
from atelier.core.db import utcnow
from atelier.core.ids import new_id

# The tables, for Core upserts (the ORM would load rows it does not need).
_USAGE = cast(Table, SubscriptionUsage.__table__)
_SUBSCRIPTIONS = cast(Table, Subscription.__table__)


@dataclass(frozen=True, slots=True, order=True)
class Owner:
    kind: Literal["organization", "user"]
    id: uuid.UUID


def owners_of(user_id: uuid.UUID, organization_id: uuid.UUID | None) -> list[Owner]:
    """Who pays for a user's work: the user, and the organization it is done in, if any."""
    found = [Owner("user", user_id)]
    if organization_id is not None:
        found.append(Owner("organization", organization_id))
    return found


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or utcnow()
    return now.astimezone(dt.UTC) if now.tzinfo else now.replace(tzinfo=dt.UTC)


def windows(now: dt.datetime | None = None) -> dict[Period, str]:
    """The keys of the windows ``now`` falls in (UTC)."""
    day = _utc(now).date()
    return {"daily": day.isoformat(), "monthly": f"{day:%Y-%m}", "yearly": f"{day:%Y}"}


def resets_at(period: Period, now: dt.datetime | None = None) -> dt.datetime:
    """When the window ``now`` falls in ends and its count starts again."""
    day = _utc(now).date()
    if period == "daily":
        start = day + dt.timedelta(days=1)
    elif period == "monthly":
        start = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    else:
        start = dt.date(day.year + 1, 1, 1)
    return dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)


def stored(metric: str, amount: int | float | Decimal) -> int:
    """An amount as counted (dollars as millionths)."""
    scale = SCALE.get(metric)
    return round(Decimal(str(amount)) * scale) if scale else int(amount)


def shown(metric: str, value: int) -> float:
    """A counted value in its unit (dollars for ai_cost_usd)."""
    scale = SCALE.get(metric)
    return float(Decimal(value) / scale) if scale else float(value)


Amounts = Mapping[str, int]  # metric -> amount, as stored


def add_usage(
    connection: Connection,
    amounts: Mapping[Owner, Amounts],
    *,
    now: dt.datetime | None = None,
) -> None:
    """Add to the owners' counters for the day, month and year of ``now`` (one upsert)."""
    keys = windows(now)
    rows = []
    for owner in sorted(amounts):
        added = {metric: value for metric, value in amounts[owner].items() if value}
        if not added:
            continue
        subscription = subscription_id(connection, owner)
        for metric in sorted(added):
            for period in PERIODS:
                rows.append((subscription, metric, keys[period], added[metric]))
    if not rows:
        return
    # Rows in one order in every transaction, so two never wait on each other in a cycle.
    rows.sort()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    created = utcnow()
    statement = insert(_USAGE).values(
        [
            {
                "id": new_id(),
                "subscription_id": sub,
                "metric": metric,
                "period": period,
                "value": value,
                "created_at": created,
            }
            for sub, metric, period, value in rows
        ]
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["subscription_id", "metric", "period"],
            set_={"value": _USAGE.c.value + statement.excluded.value},
        )
    )


def subscription_id(connection: Connection, owner: Owner) -> uuid.UUID:
    """The owner's subscription, made on first use."""
    column = Subscription.user_id if owner.kind == "user" else Subscription.organization_id
    found = connection.execute(select(Subscription.id).where(column == owner.id)).scalar()
    if found is not None:
        return found
    plan, status = SubscriptionPlan.FREE, SubscriptionStatus.ACTIVE
    if owner.kind == "organization":
        org = connection.execute(
            select(Organization.subscription_tier, Organization.subscription_status).where(
                Organization.id == owner.id
            )
        ).first()
        if org is not None:
            plan, status = org[0], org[1]
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(_SUBSCRIPTIONS)
        .values(
            id=new_id(),
            user_id=owner.id if owner.kind == "user" else None,
            organization_id=owner.id if owner.kind == "organization" else None,
            plan=plan,
            status=status,
            cancel_at_period_end=False,
            metadata={},
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )
    return connection.execute(select(Subscription.id).where(column == owner.id)).scalar_one()


async def add(
    session: AsyncSession, amounts: Mapping[Owner, Amounts], *, now: dt.datetime | None = None
) -> None:
    """``add_usage`` in the session's transaction."""
    connection = await session.connection()
    await connection.run_sync(lambda sync: add_usage(sync, amounts, now=now))


async def usage(
    session: AsyncSession,
    owner: Owner,
    metrics: Iterable[str],
    *,
    now: dt.datetime | None = None,
) -> dict[tuple[str, Period], int]:
    """The owner's use of each metric in the windows ``now`` falls in (0 where none)."""
    wanted = sorted(set(metrics))
    keys = windows(now)
    period_of = {key: period for period, key in keys.items()}
    found = {(metric, period): 0 for metric in wanted for period in PERIODS}
    if not wanted:
        return found
    column = Subscription.user_id if owner.kind == "user" else Subscription.organization_id
    rows = await session.execute(
        select(SubscriptionUsage.metric, SubscriptionUsage.period, SubscriptionUsage.value)
        .join(Subscription, Subscription.id == SubscriptionUsage.subscription_id)
        .where(
            column == owner.id,
            SubscriptionUsage.metric.in_(wanted),
            SubscriptionUsage.period.in_(list(keys.values())),
        )
    )
    for metric, key, value in rows:
        found[(metric, period_of[key])] = int(value)
    return found
