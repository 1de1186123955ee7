"""Tokens, cost and calls by day and by model."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.ai.models import AIGeneration


async def usage_summary(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    project_id: uuid.UUID | None,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, Any]:
    base = select(AIGeneration).where(
        AIGeneration.created_at >= start, AIGeneration.created_at < end
    )
    if project_id is not None:
        base = base.where(AIGeneration.project_id == project_id)
    else:
        base = base.where(AIGeneration.user_id == user_id)
    sub = base.subquery()
    measures = (
        func.coalesce(func.sum(sub.c.input_tokens), 0),
        func.coalesce(func.sum(sub.c.output_tokens), 0),
        func.coalesce(func.sum(sub.c.total_tokens), 0),
        func.coalesce(func.sum(sub.c.estimated_cost), 0),
        func.count(),
    )
    # created_at is a timestamp on PostgreSQL and ISO text (UTC) on SQLite: date() reads
    # both. On PostgreSQL, date() of a timestamptz takes the session's time zone, so the
    # value is first read as UTC: days are UTC days, like the from/to range.
    created: Any = sub.c.created_at
    if session.get_bind().dialect.name == "postgresql":
        created = func.timezone("UTC", created)
    day = func.date(created)

    def rows_to(items: Any, key: str) -> list[dict[str, Any]]:
        return [
            {
                key: str(k),
                "input_tokens": int(i),
                "output_tokens": int(o),
                "total_tokens": int(t),
                "cost_usd": str(Decimal(str(c)).quantize(Decimal("0.000001"))),
                "calls": int(n),
            }
            for k, i, o, t, c, n in items
        ]

    by_day = (await session.execute(select(day, *measures).group_by(day).order_by(day))).all()
    by_model = (
        await session.execute(
            select(sub.c.model, *measures).group_by(sub.c.model).order_by(sub.c.model)
        )
    ).all()
    totals = (await session.execute(select(*measures).select_from(sub))).one()
    return {
        "from": start,
        "to": end,
        "project_id": project_id,
        "totals": rows_to([("all", *totals)], "scope")[0],
        "by_day": rows_to(by_day, "day"),
        "by_model": rows_to(by_model, "model"),
    }
