"""Keeps ``ai_monthly_usage`` in step with the audit rows.

Budgets are checked before every generation. Summing the month's ``ai_generations`` rows
each time grew with the month: a team's thousandth call of the month summed a thousand
rows. Instead each flush that inserts AIGeneration rows adds them to their user's and
organization's row for the month, in the same transaction, with one upsert per row
touched; a budget check then reads one row.

It is a session hook, so every writer of audit rows is covered without having to call
anything: the engine, the provider test, tests that insert rows directly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from atelier.ai.models import AIGeneration, MonthlyUsage, UsageScope

Key = tuple[UsageScope, uuid.UUID, dt.date]


def month_of(when: dt.datetime) -> dt.date:
    """The first day of ``when``'s month, in UTC."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.date().replace(day=1)


def _totals(rows: list[AIGeneration]) -> dict[Key, list[Any]]:
    totals: dict[Key, list[Any]] = defaultdict(lambda: [0, Decimal(0), 0])
    for row in rows:
        month = month_of(row.created_at)
        owners = [(UsageScope.USER, row.user_id)]
        if row.organization_id is not None:
            owners.append((UsageScope.ORGANIZATION, row.organization_id))
        for scope, owner in owners:
            total = totals[(scope, owner, month)]
            total[0] += row.total_tokens or 0
            total[1] += Decimal(row.estimated_cost or 0)
            total[2] += 1
    return totals


@event.listens_for(Session, "after_flush")
def _add_new_calls(session: Session, _context: Any) -> None:
    rows = [obj for obj in session.new if isinstance(obj, AIGeneration)]
    if not rows:
        return
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for (scope, owner, month), (tokens, cost, calls) in sorted(_totals(rows).items()):
        statement = insert(MonthlyUsage).values(
            scope=scope,
            owner_id=owner,
            month=month,
            total_tokens=tokens,
            estimated_cost=cost,
            calls=calls,
        )
        added = statement.excluded
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[MonthlyUsage.scope, MonthlyUsage.owner_id, MonthlyUsage.month],
                set_={
                    "total_tokens": MonthlyUsage.total_tokens + added.total_tokens,
                    "estimated_cost": MonthlyUsage.estimated_cost + added.estimated_cost,
                    "calls": MonthlyUsage.calls + added.calls,
                },
            )
        )
