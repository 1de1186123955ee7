"""/jobs: status, live events (SSE), cancellation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Response
from fastapi.sse import EventSourceResponse, format_sse_event

from atelier.accounts.deps import CurrentUser
from atelier.core.db import session_scope
from atelier.core.deps import DB, Paging
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.jobs import service
from atelier.jobs.deps import Events, Runner
from atelier.jobs.events import EventBus, events_after
from atelier.jobs.models import Job, JobStatus
from atelier.jobs.schemas import JobOut, job_out

router = APIRouter(prefix="/jobs", tags=["jobs"])

KEEPALIVE_SECONDS = 15.0

# One event of the stream, as SSE clients (and OpenAPI tools) read it; comment lines
# (keep-alives) are not events.
_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "description": "queued, started, progress, ..."},
        "id": {"type": "string", "description": "resume after it with Last-Event-ID"},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "id", "data"],
}


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
            "content": {"text/event-stream": {"schema": _EVENT_SCHEMA}},
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
    start = after if after is not None else _event_id(last_event_id)
    # The stream outlives this request's session: it reads with sessions of its own.
    return EventSourceResponse(_stream(events, job.id, job.status, start))


def _event_id(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 19 else 0


async def _stream(
    events: EventBus, job_id: uuid.UUID, status: JobStatus, after: int
) -> AsyncIterator[bytes]:
    if after == 0:
        yield format_sse_event(
            data_str=orjson.dumps({"status": status.value}).decode(), event="queued", id="0"
        )
    idle = 0.0
    while True:
        async with session_scope(events.maker) as session:
            # The status first: a job seen finished has its closing event committed with
            # it, so the read that follows finds that event (the other order could miss
            # an event committed between the two reads and end the stream without it).
            job = await session.get(Job, job_id)
            finished = job is None or job.status.finished
            rows = await events_after(session, job_id, after)
        for row in rows:
            after = row.id
            yield format_sse_event(
                data_str=orjson.dumps(row.data).decode(), event=row.type, id=str(row.id)
            )
        if finished and not rows:
            return
        if rows:
            idle = 0.0
            continue
        await events.wait(job_id, 1.0)
        idle += 1.0
        if idle >= KEEPALIVE_SECONDS:
            idle = 0.0
            yield b": keep-alive\n\n"
