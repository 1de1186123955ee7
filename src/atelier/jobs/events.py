"""Job events: stored (so any process can serve them and a client can resume) and
announced in-process (so a follower in the same process wakes at once)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.core.db import session_scope
from atelier.jobs.models import Job, JobEvent

PRUNE_BATCH = 2000
# The streamed text: a generation's "progress" deltas and a chat reply's "token" ones.
STREAMED_TEXT = ("progress", "token")


class EventBus:
    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.maker = maker
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)

    async def emit(self, job_id: uuid.UUID, type: str, data: dict[str, Any] | None = None) -> None:
        async with session_scope(self.maker) as session:
            self.add(session, job_id, type, data)
        self.announce(job_id)

    @staticmethod
    def add(
        session: AsyncSession, job_id: uuid.UUID, type: str, data: dict[str, Any] | None = None
    ) -> None:
        """Record an event in the caller's transaction (announce it after the commit)."""
        session.add(JobEvent(job_id=job_id, type=type, data=data or {}))

    def announce(self, job_id: uuid.UUID) -> None:
        for waiter in self._waiters.get(job_id, ()):
            waiter.set()

    async def wait(self, job_id: uuid.UUID, seconds: float) -> None:
        """Return when something happens to the job here, or after ``seconds``
        (events written by another process are found by the next read)."""
        waiter = asyncio.Event()
        self._waiters[job_id].add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), seconds)
        finally:
            waiters = self._waiters.get(job_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    self._waiters.pop(job_id, None)


async def events_after(
    session: AsyncSession, job_id: uuid.UUID, after_id: int, limit: int = 500
) -> list[JobEvent]:
    rows = await session.scalars(
        select(JobEvent)
        .where(JobEvent.job_id == job_id, JobEvent.id > after_id)
        .order_by(JobEvent.id)
        .limit(limit)
    )
    return list(rows.all())


async def prune_progress(
    maker: async_sessionmaker[AsyncSession],
    *,
    finished_before: dt.datetime,
    batch: int = PRUNE_BATCH,
) -> int:
    """Delete the streamed text ("progress" and "token" events) of jobs that finished
    before ``finished_before``: most of the table, which nobody follows once a job is
    over (a chat reply's text is in its message). The job rows and their other events
    (started, attempt_failed, message, the final one) stay. In
    batches, each its own short transaction, so that writers are not held up."""
    total = 0
    while True:
        doomed = (
            select(JobEvent.id)
            .join(Job, Job.id == JobEvent.job_id)
            .where(JobEvent.type.in_(STREAMED_TEXT), Job.finished_at < finished_before)
            .limit(batch)
        )
        async with session_scope(maker) as session:
            result = await session.execute(
                delete(JobEvent)
                .where(JobEvent.id.in_(doomed.scalar_subquery()))
                .execution_options(synchronize_session=False)
            )
        count = int(result.rowcount)  # type: ignore[attr-defined]
        total += count
        if count < batch:
            return total
        await asyncio.sleep(0)  # requests get their turn between batches
