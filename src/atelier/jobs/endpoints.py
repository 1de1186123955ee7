"""/jobs: status, live events (SSE), cancellation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.sse import EventSourceResponse

from atelier.accounts.deps import CurrentUser
from atelier.core.deps import DB, Paging
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.jobs import service
from atelier.jobs.deps import Events, Runner
from atelier.jobs.models import JobStatus
from atelier.jobs.schemas import JobOut, job_out
from atelier.jobs.sse import EVENT_SCHEMA, event_id_of, stream_job_events

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=Page[JobOut])
async def list_jobs(
    user: CurrentUser,
    session: DB,
    page: Paging,
    status: JobStatus | None = None,
    artifact_id: uuid.UUID | None = None,
) -> Page[JobOut]:
    rows, cursor = await service.list_jobs(
        session,
        user=user,
        cursor=page.cursor,
        limit=page.limit,
        status=status,
        artifact_id=artifact_id,
    )
    return Page(items=[job_out(j) for j in rows], next_cursor=cursor)


@router.get("/{job_id}", response_model=JobOut)
async def get_job(job_id: uuid.UUID, user: CurrentUser, session: DB) -> JobOut:
    return job_out(await service.load_job(session, user=user, job_id=job_id))


@router.post("/{job_id}/cancel", response_model=JobOut, responses=error_responses(409))
async def cancel_job(
    job_id: uuid.UUID, user: CurrentUser, session: DB, runner: Runner, events: Events
) -> JobOut:
    job = await service.load_job(session, user=user, job_id=job_id)
    return job_out(await service.cancel(session, job=job, events=events, runner=runner))


@router.get(
    "/{job_id}/events",
    response_class=Response,
    responses={
        200: {
            "description": "an SSE stream: `id:`, `event:` and `data:` (JSON) lines per event",
            "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
        }
    },
)
async def job_events(
    job_id: uuid.UUID,
    user: CurrentUser,
    session: DB,
    events: Events,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, description="resume after this event id")] = None,
) -> Response:
    """Server-Sent Events: queued, started, progress, attempt_failed, quality_findings,
    then succeeded, failed or cancelled (the stream ends after those). Resumable with
    Last-Event-ID."""
    job = await service.load_job(session, user=user, job_id=job_id)
    start = after if after is not None else event_id_of(last_event_id)
    # The stream outlives this request's session: it reads with sessions of its own.
    return EventSourceResponse(stream_job_events(events, job.id, job.status, start))
