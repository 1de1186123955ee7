"""metered usage: subscription_usage counts every metric per day, month and year
(value widened to BIGINT: dollars are counted in millionths); the AI monthly totals move
into it and ai_monthly_usage goes, so budgets have one source

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import atelier.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = atelier.core.db.UTCDateTime(timezone=True)
_MICRO = Decimal(1_000_000)
_AI = ("ai_tokens", "ai_cost_usd", "ai_calls")

_monthly = sa.table(
    "ai_monthly_usage",
    sa.column("scope", sa.String),
    sa.column("owner_id", sa.Uuid),
    sa.column("month", sa.Date),
    sa.column("total_tokens", sa.BigInteger),
    sa.column("estimated_cost", sa.Numeric(18, 6)),
    sa.column("calls", sa.Integer),
)
_calls = sa.table(
    "ai_generations",
    sa.column("user_id", sa.Uuid),
    sa.column("organization_id", sa.Uuid),
    sa.column("created_at", _WHEN),
    sa.column("total_tokens", sa.Integer),
    sa.column("estimated_cost", sa.Numeric(14, 6)),
)
_subscriptions = sa.table(
    "subscriptions",
    sa.column("id", sa.Uuid),
    sa.column("user_id", sa.Uuid),
    sa.column("organization_id", sa.Uuid),
    sa.column("plan", sa.String),
    sa.column("status", sa.String),
    sa.column("cancel_at_period_end", sa.Boolean),
    sa.column("metadata", sa.JSON),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)
_organizations = sa.table(
    "organizations",
    sa.column("id", sa.Uuid),
    sa.column("subscription_tier", sa.String),
    sa.column("subscription_status", sa.String),
)
_usage = sa.table(
    "subscription_usage",
    sa.column("id", sa.Uuid),
    sa.column("subscription_id", sa.Uuid),
    sa.column("metric", sa.String),
    sa.column("period", sa.String),
    sa.column("value", sa.BigInteger),
    sa.column("created_at", _WHEN),
)


def upgrade() -> None:
    with op.batch_alter_table("subscription_usage") as batch:
        batch.alter_column("value", existing_type=sa.Integer(), type_=sa.BigInteger())
    bind = op.get_bind()
    counts: dict[tuple[str, uuid.UUID, str, str], int] = defaultdict(int)
    # Months and years from the running totals (they outlive deleted audit rows)...
    for scope, owner, month, tokens, cost, calls in bind.execute(sa.select(_monthly)):
        for key in (f"{month:%Y-%m}", f"{month:%Y}"):
            counts[(scope, owner, "ai_tokens", key)] += int(tokens)
            counts[(scope, owner, "ai_cost_usd", key)] += int(Decimal(cost) * _MICRO)
            counts[(scope, owner, "ai_calls", key)] += int(calls)
    # ...days from the audit rows, which are all there is to tell days apart.
    for user, org, when, tokens, cost in bind.execute(sa.select(_calls)):
        day = when.astimezone(dt.UTC).date().isoformat()
        for scope, owner in (("user", user), ("organization", org)):
            if owner is None:
                continue
            counts[(scope, owner, "ai_tokens", day)] += int(tokens or 0)
            counts[(scope, owner, "ai_cost_usd", day)] += int(Decimal(cost or 0) * _MICRO)
            counts[(scope, owner, "ai_calls", day)] += 1
    now = dt.datetime.now(dt.UTC)
    subscriptions: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
    rows = []
    for (scope, owner, metric, key), value in sorted(counts.items()):
        if (scope, owner) not in subscriptions:
            subscriptions[(scope, owner)] = _subscription(bind, scope, owner, now)
        rows.append(
            {
                "id": uuid.uuid4(),
                "subscription_id": subscriptions[(scope, owner)],
                "metric": metric,
                "period": key,
                "value": value,
                "created_at": now,
            }
        )
    if rows:
        op.bulk_insert(_usage, rows)
    op.drop_table("ai_monthly_usage")


def _subscription(bind: Any, scope: str, owner: uuid.UUID, now: dt.datetime) -> uuid.UUID:
    column = _subscriptions.c.user_id if scope == "user" else _subscriptions.c.organization_id
    found = bind.scalar(sa.select(_subscriptions.c.id).where(column == owner))
    if found is not None:
        return found  # type: ignore[no-any-return]
    plan, status = "FREE", "ACTIVE"
    if scope == "organization":
        org = bind.execute(
            sa.select(
                _organizations.c.subscription_tier, _organizations.c.subscription_status
            ).where(_organizations.c.id == owner)
        ).first()
        if org is not None:
            plan, status = org[0], org[1]
    new = uuid.uuid4()
    bind.execute(
        _subscriptions.insert().values(
            id=new,
            user_id=owner if scope == "user" else None,
            organization_id=owner if scope == "organization" else None,
            plan=plan,
            status=status,
            cancel_at_period_end=False,
            metadata={},
            created_at=now,
            updated_at=now,
        )
    )
    return new


def downgrade() -> None:
    op.create_table(
        "ai_monthly_usage",
        sa.Column(
            "scope",
            sa.Enum(
                "user",
                "organization",
                name="usage_scope",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("estimated_cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "owner_id", "month", name=op.f("pk_ai_monthly_usage")),
    )
    bind = op.get_bind()
    totals: dict[tuple[str, uuid.UUID, dt.date], dict[str, int]] = defaultdict(dict)
    query = (
        sa.select(
            _subscriptions.c.user_id,
            _subscriptions.c.organization_id,
            _usage.c.metric,
            _usage.c.period,
            _usage.c.value,
        )
        .join(_subscriptions, _subscriptions.c.id == _usage.c.subscription_id)
        .where(_usage.c.metric.in_(_AI))
    )
    for user, org, metric, key, value in bind.execute(query):
        if len(key) != 7:  # only the months ("2026-12") go back
            continue
        scope, owner = ("user", user) if user is not None else ("organization", org)
        month = dt.date(int(key[:4]), int(key[5:]), 1)
        totals[(scope, owner, month)][metric] = int(value)
    if totals:
        op.bulk_insert(
            _monthly,
            [
                {
                    "scope": scope,
                    "owner_id": owner,
                    "month": month,
                    "total_tokens": found.get("ai_tokens", 0),
                    "estimated_cost": Decimal(found.get("ai_cost_usd", 0)) / _MICRO,
                    "calls": found.get("ai_calls", 0),
                }
                for (scope, owner, month), found in totals.items()
            ],
        )
    bind.execute(_usage.delete().where(_usage.c.metric.in_(_AI)))
    with op.batch_alter_table("subscription_usage") as batch:
        batch.alter_column("value", existing_type=sa.BigInteger(), type_=sa.Integer())
