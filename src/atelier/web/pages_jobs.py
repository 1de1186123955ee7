"""The jobs page: the user's background jobs (as ``GET /api/v1/jobs`` lists them), newest
first, filtered by status, with a cancel form for the ones not finished yet.

The cancel form cancels as ``POST /api/v1/jobs/{id}/cancel`` does, then redirects back with
a ``?msg=`` code (PRG, like the settings pages)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.artifacts.models import Artifact
from atelier.core.deps import DB
from atelier.core.errors import Conflict
from atelier.jobs import service as job_service
from atelier.jobs.deps import Events, Runner
from atelier.jobs.models import Job, JobStatus
from atelier.projects.access import visible_to
from atelier.projects.models import Project
from atelier.web.cursors import cursor_or_none
from atelier.web.flash import FormText, Notices, back, notice_of
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

JOBS_PAGE, MAX_PAGE = 25, 100

NOTICES: Notices = {
    "job-cancelled": ("ok", "Job cancelled."),
    "job-stopping": ("ok", "Cancel requested: the job stops at its next step."),
    "job-finished": ("warn", "That job had already finished; nothing was cancelled."),
    "expired": ("error", "The form expired. Please try again."),
}

STATUS_FILTERS: tuple[tuple[str, str], ...] = (
    ("", "All"),
    *((s.value, s.value.capitalize()) for s in JobStatus),
)

# Job kinds as people read them; an unknown kind is shown as it is.
KIND_NAMES = {"generate": "Generation", "smart_populate": "Smart populate"}


@router.get("/jobs", response_class=HTMLResponse)
async def jobs(
    request: Request,
    user: WebUser,
    session: DB,
    status: str = "",
    cursor: str | None = None,
    limit: str = "",
    msg: str | None = None,
) -> Response:
    # Query values are read leniently: an edited address shows a page, never an error.
    current = status if status in {s.value for s in JobStatus} else ""
    size = min(max(int(limit), 1), MAX_PAGE) if limit.isdigit() else JOBS_PAGE
    cursor = cursor_or_none(cursor)
    wanted = JobStatus(current) if current else None
    rows, more = await job_service.list_jobs(
        session, user=user, cursor=cursor, limit=size, status=wanted
    )
    return render(
        request,
        "jobs/list.html",
        {
            "nav": "usage",
            "jobs": rows,
            "artifacts": await _artifacts(session, user, rows),
            "status": current,
            "filters": [(value, text, _url(value, None, size)) for value, text in STATUS_FILTERS],
            "first_url": _url(current, None, size) if cursor else None,
            "next_url": _url(current, more, size) if more else None,
            "kind_names": KIND_NAMES,
            "flash": notice_of(NOTICES, msg),
        },
    )


def _url(status: str, cursor: str | None, size: int) -> str:
    query: dict[str, Any] = {"status": status, "cursor": cursor}
    if size != JOBS_PAGE:
        query["limit"] = size
    params = urlencode({k: v for k, v in query.items() if v})
    return f"/jobs?{params}" if params else "/jobs"


async def _artifacts(
    session: AsyncSession, user: Principal, rows: list[Job]
) -> dict[uuid.UUID, tuple[str, str]]:
    """(artifact name, project name) of the listed jobs' artifacts the user can still open
    (a deleted one, or a project no longer shared with them, gets no link)."""
    ids = {row.artifact_id for row in rows if row.artifact_id is not None}
    if not ids:
        return {}
    found = await session.execute(
        select(Artifact.id, Artifact.name, Project.name)
        .join(Project, Project.id == Artifact.project_id)
        .where(
            Artifact.id.in_(ids),
            Artifact.deleted_at.is_(None),
            Project.deleted_at.is_(None),
            visible_to(user),
        )
    )
    return {aid: (name, project) for aid, name, project in found.all()}


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(
    request: Request,
    job_id: uuid.UUID,
    user: WebUser,
    session: DB,
    runner: Runner,
    events: Events,
    csrf_token: FormText = "",
) -> Response:
    """As POST /api/v1/jobs/{id}/cancel; another user's job is a 404."""
    if not csrf_ok(request, csrf_token):
        return back("/jobs", "expired")
    job = await job_service.load_job(session, user=user, job_id=job_id)
    try:
        job = await job_service.cancel(session, job=job, events=events, runner=runner)
    except Conflict:
        # It finished between the page and the click: say so rather than show an error.
        return back("/jobs", "job-finished")
    return back("/jobs", "job-cancelled" if job.status == JobStatus.CANCELLED else "job-stopping")
