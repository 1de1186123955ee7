"""Enqueue, read and cancel jobs. Enqueueing joins the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from atelier.accounts.principal import Principal
from atelier.core.db import utcnow
from atelier.core.errors import Conflict, NotFound
from atelier.core.pagination import next_cursor, paginate_query
from atelier.jobs import dispatch
from atelier.jobs.events import EventBus
from atelier.jobs.models import Job, JobStatus
from atelier.jobs.runner import Claimed, JobRunner

_AFTER_COMMIT = "atelier_after_commit"


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


async def enqueue(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: str,
    payload: dict[str, Any],
    project_id: uuid.UUID | None = None,
    artifact_id: uuid.UUID | None = None,
    queue: str = "atelier",
    notify: Callable[[], None] | None = None,
    start_here: JobRunner | None = None,
) -> Job:
    """Add a job to the current transaction; ``notify`` runs once it is committed.

    On PostgreSQL its procrastinate delivery joins the same transaction: both exist
    after the commit, or neither.

    With ``start_here`` (the server's own runner) and a free slot in it, the job is
    claimed for that runner in this transaction, with its "started" event, and starts
    the moment the transaction commits: no delivery, no poll, no claim of its own. For
    work a person watches start (a chat reply); a rollback takes the claim back with
    the rest."""
    now = utcnow()
    claim = start_here is not None and start_here.can_start_now()
    job = Job(
        user_id=user_id,
        kind=kind,
        payload=payload,
        project_id=project_id,
        artifact_id=artifact_id,
    )
    if claim and start_here is not None:
        job.status = JobStatus.RUNNING
        job.locked_by = start_here.worker_id
        job.attempts = 1
        job.heartbeat_at = job.started_at = job.updated_at = now
    session.add(job)
    await session.flush()
    callbacks = session.sync_session.info.setdefault(_AFTER_COMMIT, [])
    if claim and start_here is not None:
        EventBus.add(session, job.id, "started", {"worker": start_here.worker_id})
        runner = start_here
        callbacks.append(lambda: runner.start_now(Claimed(job.id, kind, False, fresh=True)))
    elif session.get_bind().dialect.name == "postgresql":
        job.dispatch_id = await dispatch.defer(session, job_id=job.id, queue=queue)
    if notify is not None:
        callbacks.append(notify)
    return job


async def load_job(session: AsyncSession, *, user: Principal, job_id: uuid.UUID) -> Job:
    job = await session.get(Job, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound("no such job", code="job_not_found")
    return job


async def list_jobs(
    session: AsyncSession,
    *,
    user: Principal,
    cursor: str | None,
    limit: int,
    status: JobStatus | None = None,
    artifact_id: uuid.UUID | None = None,
) -> tuple[list[Job], str | None]:
    query = select(Job).where(Job.user_id == user.id)
    if status is not None:
        query = query.where(Job.status == status)
    if artifact_id is not None:
        query = query.where(Job.artifact_id == artifact_id)
    query = paginate_query(
        query, created_col=Job.created_at, id_col=Job.id, cursor=cursor, limit=limit
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


async def request_cancel(session: AsyncSession, *, job: Job) -> Job:
    """A queued job is cancelled here and now (a runner never starts it); a running
    one is stopped by the runner that holds it, which checks the flag with its
    heartbeat (or at once, when it runs in this process)."""
    if job.status.finished:
        raise Conflict(f"the job is already {job.status.value}", code="job_finished")
    job.cancel_requested = True
    if job.status == JobStatus.QUEUED:
        # Only if no runner claimed it in the meantime (then the flag stops it).
        now = utcnow()
        unclaimed = await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.CANCELLED,
                cancel_requested=True,
                error_code="cancelled",
                error_message="cancelled",
                finished_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if unclaimed.rowcount:  # type: ignore[attr-defined]
            EventBus.add(
                session,
                job.id,
                "cancelled",
                {"status": "cancelled", "error": "cancelled", "message": "cancelled"},
            )
            if job.dispatch_id is not None:
                await dispatch.drop(session, [job.dispatch_id])
    await session.flush()
    await session.refresh(job)
    return job


async def cancel(
    session: AsyncSession, *, job: Job, events: EventBus, runner: JobRunner | None
) -> Job:
    """:func:`request_cancel`, committed, then told to event readers and to this process's
    runner: after the commit, so that both see the flag."""
    job = await request_cancel(session, job=job)
    await session.commit()
    events.announce(job.id)
    if runner is not None:
        runner.request_cancel(job.id)
    return job
