"""Server-Sent Events of a job, as stored: any process can serve them, and a client
that reconnects with ``Last-Event-ID`` gets what it missed (used by /jobs and by
/conversations, whose replies are jobs)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
from fastapi.sse import format_sse_event

from atelier.core.db import session_scope
from atelier.jobs.events import EventBus, events_after
from atelier.jobs.models import Job, JobStatus

KEEPALIVE_SECONDS = 15.0

# One event of the stream, as SSE clients (and OpenAPI tools) read it; comment lines
# (keep-alives) are not events.
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "description": "queued, started, progress, ..."},
        "id": {"type": "string", "description": "resume after it with Last-Event-ID"},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "id", "data"],
}


def event_id_of(raw: str | None) -> int:
    """A Last-Event-ID header as an event id (0, from the start, when it is not one)."""
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 19 else 0


async def stream_job_events(
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
