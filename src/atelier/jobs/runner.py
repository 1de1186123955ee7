"""Runs queued jobs with bounded concurrency, durably.

Jobs are rows (enqueued in the same transaction as the data they act on). A runner
claims a row atomically (an ``UPDATE … WHERE status = 'queued'``), beats a heartbeat
while it works, and on start and periodically gives back jobs whose heartbeat stopped
(a crashed or killed process): they run again until ``max_attempts``, then fail with a
clear reason.

How a runner learns of queued jobs depends on the back end. On SQLite it polls the
table (and is woken in-process on commit). On PostgreSQL each job has a procrastinate
delivery (see ``dispatch``) and the runner is a procrastinate worker: any number of
them (`atelier worker`, or the server itself) share the database. ``run_until_idle``
claims the given rows directly on both, for tests and `atelier run`; a delivery that
finds its row already taken does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.core.db import session_scope, utcnow
from atelier.jobs import dispatch
from atelier.jobs.dispatch import ProcrastinateDispatch
from atelier.jobs.events import EventBus, prune_progress
from atelier.jobs.models import Job, JobStatus

log = structlog.get_logger("atelier.jobs")

Handler = Callable[[uuid.UUID, "JobControl"], Awaitable[dict[str, Any] | None]]


class Claimed(NamedTuple):
    id: uuid.UUID
    kind: str
    cancel_requested: bool
    # Claimed by the request that enqueued it, in the transaction that checked what
    # could refuse it (see ``start_now``): its handler need not check that again.
    fresh: bool = False


HEARTBEAT_SECONDS = 2.0
PRUNE_SECONDS = 3600.0


class JobFailed(Exception):
    """A handler's clean failure: the job fails with this code and message, no retry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobLost(Exception):
    """This runner no longer holds the job (it was given back and runs elsewhere)."""


Finisher = Callable[..., Awaitable[bool]]
# Work a runner does every so often besides jobs: (seconds between runs, what to run).
Periodic = tuple[float, Callable[[], Awaitable[None]]]


@dataclass
class JobControl:
    """What a handler gets besides the job id: events, the cancellation flag, and a way
    to finish the job inside its own last transaction (one commit instead of two)."""

    job_id: uuid.UUID
    events: EventBus
    cancelled: asyncio.Event
    finisher: Finisher | None = None
    finished: bool = False
    # Started at once by the request that enqueued it (``JobRunner.start_now``).
    fresh: bool = False

    async def emit(self, type: str, data: dict[str, Any] | None = None) -> None:
        await self.events.emit(self.job_id, type, data)

    def add_event(
        self, session: AsyncSession, type: str, data: dict[str, Any] | None = None
    ) -> None:
        """An event written by the caller's transaction (announced when the job ends or
        the next event is emitted; followers in other processes poll anyway)."""
        self.events.add(session, self.job_id, type, data)

    async def succeed_in(self, session: AsyncSession, result: dict[str, Any]) -> None:
        """Mark the job succeeded in ``session``'s transaction; raises JobLost (so that
        the caller's writes roll back) if this runner no longer holds the job."""
        if self.finisher is None:
            return
        if not await self.finisher(session, self.job_id, JobStatus.SUCCEEDED, result=result):
            raise JobLost(str(self.job_id))
        self.finished = True


class JobRunner:
    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        events: EventBus,
        handlers: dict[str, Handler],
        *,
        concurrency: int,
        stale_seconds: float,
        dialect: str,
        queue: str = "atelier",
        delivery: ProcrastinateDispatch | None = None,
        poll_seconds: float = 1.0,
        keep_progress_seconds: float | None = None,
        periodic: tuple[Periodic, ...] = (),
    ) -> None:
        self.maker = maker
        self.events = events
        self.handlers = handlers
        self.concurrency = concurrency
        self.stale_seconds = stale_seconds
        self.dialect = dialect
        self.queue = queue
        self.delivery = delivery
        self.poll_seconds = poll_seconds
        # How long the streamed text of finished jobs is kept (None: for ever).
        self.keep_progress_seconds = keep_progress_seconds
        self.periodic = periodic
        self._periodic_last: dict[int, float] = {}
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        if delivery is not None:
            delivery.bind(self.run_one)
        self._wake = asyncio.Event()
        self._running: dict[uuid.UUID, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        # Set while the loop runs (a server's runner): only then may a request hand it a
        # job to start at once. Tests and `atelier run` run jobs when they say so.
        self.serving = False

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._loop())
            self.serving = True
            if self.delivery is not None:
                await self.delivery.start()

    async def stop(self) -> None:
        """Stop claiming; running jobs are cancelled and go back to the queue."""
        self._stopping = True
        self.serving = False
        self._wake.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        tasks = [task for task, _ in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.delivery is not None:
            await self.delivery.stop()

    def wake(self) -> None:
        self._wake.set()

    def can_start_now(self) -> bool:
        """Whether a job enqueued now can start here at once: the runner's loop runs (a
        server's, not a test's or the CLI's, which run jobs when told) and has a slot."""
        return self.serving and not self._stopping and len(self._running) < self.concurrency

    def start_now(self, claimed: Claimed) -> None:
        """Run a job that its enqueuer claimed for this runner (``jobs.service.enqueue``
        with ``start_here``), once that claim is committed. It skips the poll, the wake
        and the claim's own transaction, which is what a chat reply's first token waits
        for. A runner stopping by then leaves it RUNNING: its heartbeat never beats, so
        ``recover_abandoned`` queues it again, as after a crash."""
        if not self._stopping:
            self._spawn(claimed)

    def request_cancel(self, job_id: uuid.UUID) -> bool:
        """Cancel a job running in this process; False if it runs elsewhere (or nowhere)."""
        entry = self._running.get(job_id)
        if entry is None:
            return False
        entry[1].set()
        entry[0].cancel()
        return True

    async def run_until_idle(
        self, seconds: float = 30.0, *, only: set[uuid.UUID] | None = None
    ) -> None:
        """Tests and the CLI: run what is queued now (or just the jobs ``only``), then
        return once nothing runs."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            await self._claim_and_spawn(only)
            if not self._running:
                return
            # As soon as one finishes, claim again (not after the whole batch).
            await asyncio.wait(
                [task for task, _ in self._running.values()],
                timeout=max(0.0, deadline - asyncio.get_running_loop().time()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError("jobs still running")

    async def run_one(self, job_id: uuid.UUID) -> None:
        """Run one job if it is still queued (a delivery's task, on PostgreSQL)."""
        claimed = [] if self._stopping else await self._claim(1, {job_id})
        if not claimed:
            return
        task = self._spawn(claimed[0])
        try:
            # wait(), not await: a cancellation of the job itself ends it normally.
            await asyncio.wait([task])
        except asyncio.CancelledError:
            # The delivering worker is shutting down: the job goes back to the queue.
            self._stopping = True
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise

    # ----------------------------------------------------------------- the loop
    async def _loop(self) -> None:
        last_sweep = 0.0
        last_prune: float | None = None
        while not self._stopping:
            try:
                now = asyncio.get_running_loop().time()
                if now - last_sweep >= HEARTBEAT_SECONDS:
                    await self.recover_abandoned()
                    await self._heartbeat()
                    last_sweep = now
                if last_prune is None or now - last_prune >= PRUNE_SECONDS:
                    last_prune = now
                    await self.prune_events()
                await self._run_periodic(now)
                if self.delivery is None:
                    await self._claim_and_spawn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job_loop_error")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _run_periodic(self, now: float) -> None:
        """Each periodic task when its interval has passed (the first at start)."""
        for index, (seconds, work) in enumerate(self.periodic):
            last = self._periodic_last.get(index)
            if last is not None and now - last < seconds:
                continue
            self._periodic_last[index] = now
            try:
                await work()
            except Exception:
                log.exception("periodic_task_failed", task=getattr(work, "__name__", repr(work)))

    async def _claim_and_spawn(self, only: set[uuid.UUID] | None = None) -> None:
        free = self.concurrency - len(self._running)
        if free <= 0:
            return
        for claimed in await self._claim(free, only):
            self._spawn(claimed)

    def _spawn(self, claimed: Claimed) -> asyncio.Task[None]:
        cancelled = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._run(claimed, cancelled))
        self._running[claimed.id] = (task, cancelled)
        return task

    async def _claim(self, limit: int, only: set[uuid.UUID] | None = None) -> list[Claimed]:
        """Take up to ``limit`` queued jobs and record their "started" events, in one
        transaction."""
        now = utcnow()
        candidates = (
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED, Job.run_after <= now)
            .order_by(Job.created_at)
            .limit(limit)
        )
        if only is not None:
            candidates = candidates.where(Job.id.in_(list(only)))
        if self.dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        async with session_scope(self.maker) as session:
            rows = await session.execute(
                update(Job)
                .where(Job.id.in_(candidates.scalar_subquery()))
                .values(
                    status=JobStatus.RUNNING,
                    locked_by=self.worker_id,
                    attempts=Job.attempts + 1,
                    heartbeat_at=now,
                    started_at=now,
                    updated_at=now,
                )
                .returning(Job.id, Job.kind, Job.cancel_requested)
                .execution_options(synchronize_session=False)
            )
            claimed = [Claimed(*row) for row in rows]
            for job in claimed:
                if not job.cancel_requested:
                    self.events.add(session, job.id, "started", {"worker": self.worker_id})
        for job in claimed:
            self.events.announce(job.id)
        return claimed

    async def _heartbeat(self) -> None:
        """Beat for the jobs running here, and stop those whose cancellation was asked
        through another process (an API server whose runner is not this one)."""
        if not self._running:
            return
        running = list(self._running)
        async with session_scope(self.maker) as session:
            await session.execute(
                update(Job)
                .where(Job.id.in_(running), Job.locked_by == self.worker_id)
                .values(heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            to_cancel = (
                await session.scalars(
                    select(Job.id).where(Job.id.in_(running), Job.cancel_requested.is_(True))
                )
            ).all()
        for job_id in to_cancel:
            entry = self._running.get(job_id)
            if entry is not None and not entry[1].is_set():
                self.request_cancel(job_id)

    async def recover_abandoned(self) -> list[uuid.UUID]:
        """Jobs whose runner stopped beating: queue them again, or fail them for good."""
        cutoff = utcnow() - dt.timedelta(seconds=self.stale_seconds)
        async with session_scope(self.maker) as session:
            stale = (
                await session.scalars(
                    select(Job).where(
                        Job.status == JobStatus.RUNNING,
                        Job.heartbeat_at < cutoff,
                        Job.id.not_in(list(self._running) or [uuid.UUID(int=0)]),
                    )
                )
            ).all()
            lost_deliveries = [j.dispatch_id for j in stale if j.dispatch_id is not None]
            for job in stale:
                job.locked_by = None
                if job.attempts >= job.max_attempts:
                    job.status = JobStatus.FAILED
                    job.error_code = "worker_lost"
                    job.error_message = (
                        f"the process running this job stopped {job.attempts} times "
                        "(crash or restart); giving up"
                    )
                    job.finished_at = utcnow()
                else:
                    job.status = JobStatus.QUEUED
                    job.run_after = utcnow()
                    await self._redeliver(session, job)
                self.events.add(
                    session,
                    job.id,
                    "failed" if job.status == JobStatus.FAILED else "requeued",
                    {
                        "reason": "worker_lost",
                        "attempts": job.attempts,
                        "message": job.error_message,
                    },
                )
            await dispatch.drop(session, lost_deliveries)
        for job in stale:
            self.events.announce(job.id)
        return [job.id for job in stale]

    async def prune_events(self) -> int:
        """Drop the progress events of jobs finished longer ago than the setting."""
        if self.keep_progress_seconds is None:
            return 0
        cutoff = utcnow() - dt.timedelta(seconds=self.keep_progress_seconds)
        removed = await prune_progress(self.maker, finished_before=cutoff)
        if removed:
            log.info("job_events_pruned", removed=removed)
        return removed

    # ----------------------------------------------------------------- one job
    async def _run(self, claimed: Claimed, cancelled: asyncio.Event) -> None:
        job_id = claimed.id
        control = JobControl(
            job_id=job_id,
            events=self.events,
            cancelled=cancelled,
            finisher=self._finish_in,
            fresh=claimed.fresh,
        )
        try:
            if claimed.cancel_requested:
                await self._finish(job_id, JobStatus.CANCELLED, error=("cancelled", "cancelled"))
                return
            handler = self.handlers.get(claimed.kind)
            if handler is None:
                await self._finish(
                    job_id,
                    JobStatus.FAILED,
                    error=("unknown_job", f"no handler for {claimed.kind!r}"),
                )
                return
            result = await handler(job_id, control)
            if control.finished:
                self.events.announce(job_id)
            else:
                await self._finish(job_id, JobStatus.SUCCEEDED, result=result)
        except JobLost:
            log.warning("job_lost", job_id=str(job_id))
        except asyncio.CancelledError:
            if cancelled.is_set():
                await asyncio.shield(
                    self._finish(job_id, JobStatus.CANCELLED, error=("cancelled", "cancelled"))
                )
            elif self._stopping:
                await asyncio.shield(self._requeue(job_id))
            raise
        except JobFailed as failure:
            await self._finish(job_id, JobStatus.FAILED, error=(failure.code, failure.message))
        except Exception as exc:
            log.exception("job_crashed", job_id=str(job_id))
            await self._finish(
                job_id, JobStatus.FAILED, error=("internal_error", f"{type(exc).__name__}")
            )
        finally:
            self._running.pop(job_id, None)
            self._wake.set()

    async def _redeliver(self, session: AsyncSession, job: Job) -> None:
        """PostgreSQL: a job queued again needs a new delivery (its old one is taken)."""
        if self.dialect == "postgresql":
            job.dispatch_id = await dispatch.defer(session, job_id=job.id, queue=self.queue)

    async def _requeue(self, job_id: uuid.UUID) -> None:
        async with session_scope(self.maker) as session:
            job = await session.get(Job, job_id)
            if job is None or job.locked_by != self.worker_id:
                return
            job.status = JobStatus.QUEUED
            job.locked_by = None
            job.run_after = utcnow()
            await self._redeliver(session, job)

    async def _finish(
        self,
        job_id: uuid.UUID,
        status: JobStatus,
        *,
        result: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        """The final status and its event in one transaction: a follower that sees the job
        finished always finds the closing event too."""
        async with session_scope(self.maker) as session:
            held = await self._finish_in(session, job_id, status, result=result, error=error)
        if held:
            self.events.announce(job_id)

    async def _finish_in(
        self,
        session: AsyncSession,
        job_id: uuid.UUID,
        status: JobStatus,
        *,
        result: dict[str, Any] | None = None,
        error: tuple[str, str] | None = None,
    ) -> bool:
        """Write the final status in ``session``; False if this runner lost the job."""
        now = utcnow()
        data: dict[str, Any] = {"status": status.value}
        if result:
            data["result"] = result
        if error:
            data["error"] = error[0]
            data["message"] = error[1]
        # Only while this runner still holds the job: one that was given back (our
        # heartbeat looked dead) belongs to whoever runs it now.
        held = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.locked_by == self.worker_id)
            .values(
                status=status,
                result=result,
                error_code=error[0] if error else None,
                error_message=error[1] if error else None,
                finished_at=now,
                updated_at=now,
                locked_by=None,
                progress=1.0 if status == JobStatus.SUCCEEDED else None,
            )
            .execution_options(synchronize_session=False)
        )
        if held.rowcount == 0:  # type: ignore[attr-defined]
            return False
        self.events.add(session, job_id, status.value, data)
        return True
