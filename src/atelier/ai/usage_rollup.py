"""Counts every AI call into its owners' usage counters (accounts/metering.py).

Each flush that inserts AIGeneration rows adds their tokens, estimated dollars and
number of calls to their user's and organization's counters for the day, month and
year, in the same transaction, with one upsert; a budget check then reads one row per
window instead of summing the period's audit rows.

It is a session hook, so every writer of audit rows is covered without having to call
anything: the engine, the provider test, tests that insert rows directly. Deleting
audit rows (a project's, with the project) does not lower the counters: those calls were
paid for all the same.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from atelier.accounts.metering import Owner, add_usage, owners_of, stored
from atelier.ai.models import AIGeneration


def _amounts(rows: list[AIGeneration]) -> dict[Owner, dict[str, int]]:
    totals: dict[Owner, dict[str, Any]] = defaultdict(
        lambda: {"ai_tokens": 0, "ai_cost_usd": Decimal(0), "ai_calls": 0}
    )
    for row in rows:
        for owner in owners_of(row.user_id, row.organization_id):
            total = totals[owner]
            total["ai_tokens"] += row.total_tokens or 0
            total["ai_cost_usd"] += Decimal(row.estimated_cost or 0)
            total["ai_calls"] += 1
    return {
        owner: {metric: stored(metric, value) for metric, value in total.items()}
        for owner, total in totals.items()
    }


@event.listens_for(Session, "after_flush")
def _add_new_calls(session: Session, _context: Any) -> None:
    rows = [obj for obj in session.new if isinstance(obj, AIGeneration)]
    if not rows:
        return
    # Each call counts in the windows of its own time (rows are written as they are made,
    # but tests back-date some).
    by_day: dict[dt.date, list[AIGeneration]] = defaultdict(list)
    for row in rows:
        by_day[row.created_at.date()].append(row)
    for day_rows in by_day.values():
        add_usage(session.connection(), _amounts(day_rows), now=day_rows[0].created_at)
