"""PostgreSQL: jobs are delivered to workers through procrastinate.

The delivery is written by the transaction that writes the job (a rollback leaves
neither); a procrastinate worker (here, the runner of a second app on a queue of its
own, so it never picks up another test's jobs) runs generations end to end; cancelling
a queued job gives up its delivery; an abandoned job gets a new delivery.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, text, update

from atelier.ai.providers.fake import FakeProvider
from atelier.ai.runtime import ProviderPool
from atelier.app import create_app
from atelier.config import Settings
from atelier.core.db import session_scope, utcnow
from atelier.jobs.dispatch import TASK_NAME, conninfo
from atelier.jobs.models import Job, JobStatus
from atelier.jobs.service import enqueue
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Api

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("procrastinate delivers jobs on PostgreSQL only")


async def deliveries(app: Any, job_id: uuid.UUID | str) -> list[tuple[str, str, str]]:
    """(status, queue, task) of the procrastinate jobs that deliver ``job_id``."""
    async with session_scope(app.state.sessionmaker) as session:
        rows = await session.execute(
            text(
                "SELECT status::text, queue_name, task_name FROM procrastinate_jobs "
                "WHERE args->>'job_id' = :id ORDER BY id"
            ),
            {"id": str(job_id)},
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def brief(api: Api, **extra: Any) -> tuple[Any, dict[str, Any]]:
    who = await api.signup()
    await api.provider(who)
    project = await api.project(who)
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, **extra},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    return who, r.json()


async def test_the_delivery_commits_or_rolls_back_with_the_job(app: Any, api: Api) -> None:
    who = await api.signup()
    user_id = uuid.UUID(who.id)
    maker = app.state.sessionmaker

    async with maker() as session:
        job = await enqueue(session, user_id=user_id, kind="generate", payload={}, queue="q-r")
        assert job.dispatch_id is not None
        await session.rollback()
    async with maker() as session:
        assert await session.get(Job, job.id) is None
    assert await deliveries(app, job.id) == []

    async with maker() as session:
        job = await enqueue(session, user_id=user_id, kind="generate", payload={}, queue="q-c")
        await session.commit()
    assert await deliveries(app, job.id) == [("todo", "q-c", TASK_NAME)]


async def test_generation_requests_are_delivered_on_the_configured_queue(
    app: Any, api: Api
) -> None:
    who, artifact = await brief(api, generate=True)
    job_id = artifact["job"]["id"]
    queue = app.state.settings.job_queue
    assert await deliveries(app, job_id) == [("todo", queue, TASK_NAME)]

    # Cancelled while queued: finished at once, and its delivery given up.
    r = await api.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=who.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert await deliveries(app, job_id) == [("failed", queue, TASK_NAME)]


@pytest.fixture
async def worker_app(settings: Settings) -> AsyncIterator[Any]:
    """A second app on the same database with a queue of its own and its procrastinate
    worker running, its providers all one FakeProvider."""
    own = settings.model_copy(update={"job_queue": f"test-{uuid.uuid4().hex[:8]}"})
    application = create_app(own)
    fake = FakeProvider()
    application.state.ai.providers = ProviderPool(factory=lambda _settings: fake)
    application.state.fake = fake
    await application.state.jobs.start()
    try:
        yield application
    finally:
        await application.state.jobs.stop()
        await application.state.engine.dispose()


async def wait_finished(app: Any, job_id: str, seconds: float = 30.0) -> Job:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        async with session_scope(app.state.sessionmaker) as session:
            job = await session.get(Job, uuid.UUID(job_id))
            assert job is not None
            if job.status.finished:
                return job
        assert asyncio.get_running_loop().time() < deadline, f"job still {job.status}"
        await asyncio.sleep(0.05)


async def test_a_procrastinate_worker_runs_generations(worker_app: Any) -> None:
    fake: FakeProvider = worker_app.state.fake
    transport = ASGITransport(app=worker_app)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        api = Api(http)
        jobs = []
        for n in range(3):
            fake.push({**BRIEF_OUTPUT, "title": f"Delivered {n}"})
            who, artifact = await brief(api, generate=True)
            jobs.append((who, artifact))
        for who, artifact in jobs:
            job = await wait_finished(worker_app, artifact["job"]["id"])
            assert job.status == JobStatus.SUCCEEDED, (job.error_code, job.error_message)
            assert job.locked_by is None and job.attempts == 1
            r = await http.get(f"/api/v1/artifacts/{artifact['id']}", headers=who.headers)
            assert r.json()["output_data"]["title"].startswith("Delivered")
            # Delivered and done: procrastinate keeps no copy of a successful delivery.
            assert await deliveries(worker_app, artifact["job"]["id"]) == []
    assert len(fake.requests) == 3


async def test_an_abandoned_job_gets_a_new_delivery(app: Any, api: Api) -> None:
    _, artifact = await brief(api, generate=True)
    job_id = uuid.UUID(artifact["job"]["id"])
    queue = app.state.settings.job_queue
    # As if a worker took it (procrastinate: doing) and died long ago.
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing' WHERE args->>'job_id' = :id"),
            {"id": str(job_id)},
        )
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=JobStatus.RUNNING,
                attempts=1,
                locked_by="gone:1:dead",
                heartbeat_at=utcnow() - dt.timedelta(hours=1),
            )
        )
    recovered = await app.state.jobs.recover_abandoned()
    assert job_id in recovered
    async with session_scope(app.state.sessionmaker) as session:
        job = (await session.scalars(select(Job).where(Job.id == job_id))).one()
        assert job.status == JobStatus.QUEUED and job.locked_by is None
        new_delivery = job.dispatch_id
    assert await deliveries(app, job_id) == [
        ("failed", queue, TASK_NAME),
        ("todo", queue, TASK_NAME),
    ]
    assert new_delivery is not None


def test_conninfo_is_the_libpq_form_of_the_database_url() -> None:
    url = "postgresql+psycopg://ann:s3cret@db.example:5433/atelier"
    assert conninfo(url) == "postgresql://ann:s3cret@db.example:5433/atelier"
