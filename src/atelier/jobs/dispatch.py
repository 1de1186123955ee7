"""On PostgreSQL, jobs are delivered to workers through procrastinate.

Our ``jobs`` table stays the record a client reads (status, events, cancellation,
attempts); procrastinate carries the *delivery*: a procrastinate job holding our job's
id is inserted by the same transaction that creates the job row and the data it acts
on (so a rolled-back request leaves neither), and any number of `atelier worker`
processes, on any host, fetch them (LISTEN/NOTIFY, ``SKIP LOCKED``). A procrastinate
task only claims our row and runs it; everything after that, including retries after a
crash, is the runner's, so both back ends behave the same.

The procrastinate schema is created by our own Alembic migrations (0003), pinned to the
procrastinate release in ``pyproject.toml``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
import procrastinate
import structlog
from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import BigInteger

log = structlog.get_logger("atelier.jobs")

TASK_NAME = "atelier.run_job"
# The worker waits this long for running jobs at shutdown before it cancels them (they
# go back to the queue and run again elsewhere).
SHUTDOWN_GRACE_SECONDS = 5.0

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST(:queue AS varchar), CAST(:task AS varchar), 0, NULL, NULL, "
    "CAST(:args AS jsonb), NULL)]::procrastinate_job_to_defer_v1[]))"
)
# Give up a delivery whose worker died: the job row is queued again (with a new
# delivery) or failed by the runner's sweep.
_DROP = text(
    "SELECT procrastinate_finish_job_v1(id, 'failed', false) FROM procrastinate_jobs "
    "WHERE id IN :ids AND status IN ('todo', 'doing')"
).bindparams(bindparam("ids", expanding=True, type_=BigInteger()))


async def defer(session: AsyncSession, *, job_id: uuid.UUID, queue: str) -> int:
    """Insert the delivery of ``job_id`` in the session's transaction; its id."""
    args = orjson.dumps({"job_id": str(job_id)}).decode()
    result = await session.execute(_DEFER, {"queue": queue, "task": TASK_NAME, "args": args})
    return int(result.scalar_one())


async def drop(session: AsyncSession, dispatch_ids: Sequence[int]) -> None:
    if dispatch_ids:
        await session.execute(_DROP, {"ids": list(dispatch_ids)})


def conninfo(database_url: str) -> str:
    """The libpq form of our SQLAlchemy URL (procrastinate talks psycopg directly)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ProcrastinateDispatch:
    """A procrastinate worker whose one task hands our job ids to ``run_one``."""

    def __init__(
        self, *, database_url: str, queue: str, concurrency: int, worker_name: str
    ) -> None:
        self.queue = queue
        self.concurrency = concurrency
        self.worker_name = worker_name
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=conninfo(database_url),
                min_size=1,
                # LISTEN holds one; fetching and finishing share the rest.
                max_size=max(2, min(8, concurrency // 4 + 2)),
            )
        )
        self._worker: asyncio.Task[None] | None = None

    def bind(self, run_one: Callable[[uuid.UUID], Awaitable[None]]) -> None:
        async def run_job(job_id: str) -> None:
            await run_one(uuid.UUID(job_id))

        self.app.task(name=TASK_NAME, queue=self.queue, pass_context=False)(run_job)

    async def start(self) -> None:
        if self._worker is not None:
            return
        await self.app.open_async()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        options: dict[str, Any] = {
            "queues": [self.queue],
            "concurrency": self.concurrency,
            "name": self.worker_name,
            "install_signal_handlers": False,
            "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
            # Our jobs table is the record; delivered jobs need not be kept twice.
            "delete_jobs": "successful",
        }
        while True:
            try:
                await self.app.run_worker_async(**options)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                # A lost connection must not end job processing for the process.
                log.exception("procrastinate_worker_error")
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        await self.app.close_async()
