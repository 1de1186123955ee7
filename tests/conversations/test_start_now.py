"""A chat reply started at once by the server's runner (jobs.service.enqueue with
start_here), on both back ends: claimed in the request's own transaction, its events in
order (the "calling" event, written while the provider is called, before any token); a
full runner leaves the reply queued as before; a claim whose process died is recovered
like any abandoned job."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import update

from atelier.ai.providers.fake import FakeProvider
from atelier.core.db import session_scope, utcnow
from atelier.jobs.models import Job, JobStatus
from atelier.jobs.runner import JobRunner
from tests.conftest import run_jobs
from tests.conversations.helpers import conversation, detail, say, stream, wait_for_event
from tests.factories import Api

pytestmark = pytest.mark.anyio


def serving_runner(app: Any, backend: str, *, concurrency: int = 4) -> JobRunner:
    """A runner like the server's, marked serving without its polling loop (which would
    also claim other tests' queued jobs in the shared database)."""
    runner = JobRunner(
        app.state.sessionmaker,
        app.state.jobs.events,
        app.state.jobs.handlers,
        concurrency=concurrency,
        stale_seconds=60,
        dialect=backend,
        queue=app.state.settings.job_queue,
    )
    runner.serving = True
    return runner


@pytest.fixture
def use_runner(app: Any) -> Iterator[Callable[[JobRunner], None]]:
    """Put a runner in the app's place for one test (monkeypatch would delete the app's
    own on the way out: Starlette's state keeps attributes in a dict of its own)."""
    own = app.state.jobs

    def use(runner: JobRunner) -> None:
        app.state.jobs = runner

    yield use
    app.state.jobs = own


async def job_row(app: Any, job_id: str) -> Job:
    async with session_scope(app.state.sessionmaker) as session:
        job = await session.get(Job, uuid.UUID(job_id))
        assert job is not None
        return job


async def test_a_reply_starts_at_once_when_the_runner_has_room(
    api: Api, app: Any, fake_ai: FakeProvider, backend: str, use_runner: Any
) -> None:
    runner = serving_runner(app, backend)
    use_runner(runner)
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="Named")
    fake_ai.push("Ask three renters what they pay.")
    r = await say(api, me, chat["id"], "Where do I start?")
    assert r.status_code == 202, r.text
    job_id = r.json()["reply_job"]["id"]
    assert r.json()["reply_job"]["status"] == "running"
    claimed = await job_row(app, job_id)
    assert claimed.locked_by == runner.worker_id and claimed.attempts == 1
    assert claimed.dispatch_id is None  # no delivery: nobody else is to take it
    await wait_for_event(app, job_id, "succeeded")

    kinds = [kind for _, kind, _ in await stream(api, me, chat["id"])]
    assert kinds.count("started") == 1
    calling = kinds.index("progress")
    assert calling < kinds.index("token") < kinds.index("message") < kinds.index("succeeded")
    replies = [
        m for m in (await detail(api, me, chat["id"]))["messages"] if m["role"] == "ASSISTANT"
    ]
    assert [m["content"] for m in replies] == ["Ask three renters what they pay."]


async def test_a_full_runner_leaves_the_reply_queued(
    api: Api, app: Any, fake_ai: FakeProvider, backend: str, use_runner: Any
) -> None:
    own = app.state.jobs
    use_runner(serving_runner(app, backend, concurrency=0))
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="Named")
    fake_ai.push("Later, then.")
    r = await say(api, me, chat["id"], "Busy?")
    job_id = r.json()["reply_job"]["id"]
    queued = await job_row(app, job_id)
    assert queued.status == JobStatus.QUEUED and queued.locked_by is None
    assert (queued.dispatch_id is not None) == (backend == "postgresql")
    await own.run_until_idle(30, only={uuid.UUID(job_id)})
    assert (await job_row(app, job_id)).status == JobStatus.SUCCEEDED


async def test_a_claim_whose_process_died_is_queued_again(
    api: Api,
    app: Any,
    fake_ai: FakeProvider,
    backend: str,
    use_runner: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = app.state.jobs
    runner = serving_runner(app, backend)
    # The process dies between its commit and starting the job: nothing runs it.
    monkeypatch.setattr(runner, "start_now", lambda _claimed: None)
    use_runner(runner)
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="Named")
    r = await say(api, me, chat["id"], "Anyone there?")
    job_id = r.json()["reply_job"]["id"]
    await asyncio.sleep(0)
    assert (await job_row(app, job_id)).status == JobStatus.RUNNING
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(job_id))
            .values(heartbeat_at=utcnow() - dt.timedelta(seconds=own.stale_seconds * 2))
        )
    assert uuid.UUID(job_id) in await own.recover_abandoned()
    again = await job_row(app, job_id)
    assert again.status == JobStatus.QUEUED
    assert (again.dispatch_id is not None) == (backend == "postgresql")
    use_runner(own)
    fake_ai.push("Yes, here.")
    await run_jobs(app, job_id)
    assert (await job_row(app, job_id)).status == JobStatus.SUCCEEDED
