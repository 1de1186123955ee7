"""Tokens, cost and calls by day and by model; the AI calls listed one by one.

Shared by ``GET /api/v1/usage`` / ``GET /api/v1/ai-generations`` and the usage page, so
that both read the same range and the same rows."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai.models import AIGeneration
from atelier.core.errors import field_error
from atelier.core.pagination import next_cursor, paginate_query
from atelier.projects.access import load_project

# Days summed when no range is given.
DEFAULT_DAYS = 30


def usage_days(
    from_day: dt.date | None, to_day: dt.date | None, *, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The first and last day (UTC) of a usage range: up to today, 30 days by default."""
    end_day = to_day or today
    start_day = from_day or end_day - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        raise field_error("query.from", "must not be after 'to'")
    return start_day, end_day


def day_bounds(start_day: dt.date, end_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of the first day, start of the day after the last) in UTC."""
    start = dt.datetime.combine(start_day, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return start, end


async def list_generations(
    session: AsyncSession,
    *,
    user: Principal,
    project_id: uuid.UUID | None,
    artifact_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AIGeneration], str | None]:
    """AI calls newest first: the user's own, or every call of a project they may read
    (a project they may not read is a 404)."""
    if project_id is not None:
        await load_project(session, user=user, project_id=project_id)
        query = select(AIGeneration).where(AIGeneration.project_id == project_id)
    else:
        query = select(AIGeneration).where(AIGeneration.user_id == user.id)
    if artifact_id is not None:
        query = query.where(AIGeneration.artifact_id == artifact_id)
    query = paginate_query(
        query,
        created_col=AIGeneration.created_at,
        id_col=AIGeneration.id,
        cursor=cursor,
        limit=limit,
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


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
