"""The usage page, ``/usage``: cost and tokens per day and per model, the budget left this
month, and every AI call one by one.

It takes what ``GET /api/v1/usage`` takes (``project_id``, ``from``, ``to``; or ``days``,
a 7/30/90-day preset) and lists the calls as ``GET /api/v1/ai-generations`` does
(``project_id``, ``limit``, ``cursor``), through the same service functions. The charts are
drawn by ``pages_account``'s chart helpers."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai.models import AIGeneration
from atelier.ai.usage import day_bounds, list_generations, usage_days, usage_summary
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.core.errors import InvalidInput
from atelier.projects import service as projects
from atelier.projects.access import load_project, visible_to
from atelier.projects.models import Project
from atelier.web.ai_readiness import ai_ready
from atelier.web.cursors import cursor_or_none
from atelier.web.paging import page_size, page_url
from atelier.web.session import WebUser
from atelier.web.templating import render
from atelier.web.usage_budget import LABELS, PERIOD_WORDS, plan_usage
from atelier.web.usage_charts import format_tokens, format_usd, usage_charts

router = APIRouter(include_in_schema=False)

USAGE_PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
GENERATIONS_PAGE = 25
# The charts draw one bar per day: past a year they would be too thin to read.
MAX_RANGE_DAYS = 366
# Dates outside these bounds cannot hold any call, and would overflow the date arithmetic.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(9998, 12, 31)
# Projects offered in the filter (the one chosen is always among them).
PROJECT_CHOICES = 200

BAD_DATE = "Enter a date as YYYY-MM-DD, for example 2025-03-31."


@dataclass(slots=True)
class UsageFilter:
    """What the page shows: a preset or a custom range, maybe one project; ``from_text``
    and ``to_text`` are the dates as typed, shown again next to their errors."""

    start_day: dt.date
    end_day: dt.date
    days: int | None = DEFAULT_PERIOD  # the preset; None for a custom range
    from_text: str = ""
    to_text: str = ""
    project: Project | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def from_value(self) -> str:
        """The From field: as typed, else a custom range's first day; empty for a preset."""
        return self.from_text or ("" if self.days else self.start_day.isoformat())

    @property
    def to_value(self) -> str:
        return self.to_text or ("" if self.days else self.end_day.isoformat())

    @property
    def filtered(self) -> bool:
        """Anything else than the page's plain address shows (so Reset means something)."""
        return bool(self.errors) or any(self.params().values())

    def params(self) -> dict[str, str | int | None]:
        """The query that shows this filter again (for the pager's links)."""
        return {
            "days": self.days if self.days != DEFAULT_PERIOD else None,
            "from": None if self.days else self.start_day.isoformat(),
            "to": None if self.days else self.end_day.isoformat(),
            "project_id": str(self.project.id) if self.project else None,
        }


def preset(days: str, today: dt.date) -> UsageFilter:
    period = int(days) if days.isdigit() and int(days) in USAGE_PERIODS else DEFAULT_PERIOD
    return UsageFilter(today - dt.timedelta(days=period - 1), today, period)


def _parse_day(text: str) -> dt.date | str:
    """The date, or what is wrong with it."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return BAD_DATE
    if not FIRST_DAY <= day <= LAST_DAY:
        return f"Enter a date between {FIRST_DAY.year} and {LAST_DAY.year}."
    return day


def read_range(days: str, from_text: str, to_text: str, today: dt.date) -> UsageFilter:
    """A custom range when a date is given (the other defaults as in the API), else a
    preset. With an error the preset's numbers are shown, and the dates as typed."""
    from_text, to_text = from_text.strip(), to_text.strip()
    if not from_text and not to_text:
        return preset(days, today)
    parsed = {"from": _parse_day(from_text) if from_text else None}
    parsed["to"] = _parse_day(to_text) if to_text else None
    errors = {name: value for name, value in parsed.items() if isinstance(value, str)}
    if not errors:
        start, end = parsed["from"], parsed["to"]
        assert not isinstance(start, str) and not isinstance(end, str)
        try:
            start_day, end_day = usage_days(start, end, today=today)
        except InvalidInput:
            errors["from"] = "The start must be on or before the end."
        else:
            if (end_day - start_day).days < MAX_RANGE_DAYS:
                return UsageFilter(start_day, end_day, None, from_text, to_text)
            errors["from"] = f"Choose a range of at most {MAX_RANGE_DAYS} days."
    fallback = preset(days, today)
    fallback.from_text, fallback.to_text, fallback.errors = from_text, to_text, errors
    return fallback


async def read_project(
    session: AsyncSession, user: Principal, raw: str, chosen: UsageFilter
) -> uuid.UUID | None:
    """The project to filter by: one the user may read (else a 404 page, as the API
    answers); a value that is no id at all is an error next to the field."""
    if not raw.strip():
        return None
    try:
        project_id = uuid.UUID(raw.strip())
    except ValueError:
        chosen.errors["project_id"] = "Choose one of your projects."
        return None
    chosen.project = (await load_project(session, user=user, project_id=project_id)).project
    return project_id


@router.get("/usage", response_class=HTMLResponse)
async def usage(
    request: Request,
    user: WebUser,
    session: DB,
    days: str = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
    project_id: str = "",
    cursor: str | None = None,
    limit: str = "",
) -> Response:
    chosen = read_range(days, from_, to, utcnow().date())
    wanted = await read_project(session, user, project_id, chosen)
    start, end = day_bounds(chosen.start_day, chosen.end_day)
    summary = await usage_summary(session, user_id=user.id, project_id=wanted, start=start, end=end)
    cursor = cursor_or_none(cursor)
    size = page_size(limit, GENERATIONS_PAGE)
    generations, more = await list_generations(
        session, user=user, project_id=wanted, artifact_id=None, cursor=cursor, limit=size
    )
    listed = {**chosen.params(), "limit": size if size != GENERATIONS_PAGE else None}
    return render(
        request,
        "account/usage.html",
        {
            "nav": "usage",
            "filter": chosen,
            "presets": [
                (n, page_url("/usage", days=n, project_id=listed["project_id"]))
                for n in USAGE_PERIODS
            ],
            "projects": await _project_choices(session, user, chosen.project),
            "summary": summary,
            "totals": summary["totals"],
            "charts": usage_charts(summary, chosen.start_day, chosen.end_day),
            "budget": await plan_usage(session, request.app.state.settings, user),
            "limit_labels": LABELS,
            "period_words": PERIOD_WORDS,
            "generations": generations,
            "project_names": await _project_names(session, user, generations),
            "cursor": cursor,
            "first_url": page_url("/usage", "#generations", **listed) if cursor else None,
            "next_url": page_url("/usage", "#generations", **listed, cursor=more) if more else None,
            "ready": await ai_ready(request, session, user),
            "fmt_tokens": format_tokens,
            "fmt_usd": format_usd,
        },
        status=422 if chosen.errors else 200,
    )


async def _project_choices(
    session: AsyncSession, user: Principal, chosen: Project | None
) -> list[Project]:
    """The projects the user can see, by name, for the filter."""
    rows, _ = await projects.list_projects(session, user=user, cursor=None, limit=PROJECT_CHOICES)
    if chosen is not None and all(row.id != chosen.id for row in rows):
        rows.append(chosen)
    return sorted(rows, key=lambda row: row.name.casefold())


async def _project_names(
    session: AsyncSession, user: Principal, rows: list[AIGeneration]
) -> dict[uuid.UUID, str]:
    """Names of the listed generations' projects the user can still open."""
    ids = {row.project_id for row in rows if row.project_id is not None}
    if not ids:
        return {}
    found = await session.execute(
        select(Project.id, Project.name).where(
            Project.id.in_(ids), Project.deleted_at.is_(None), visible_to(user)
        )
    )
    return {pid: name for pid, name in found.all()}
