"""/jobs: listing, ownership, cancellation (queued and running, here or in another
process), the SSE stream and resuming it, crash recovery, atomic enqueueing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from atelier.accounts.models import UserRole
from atelier.accounts.principal import Principal
from atelier.ai.models import AIGeneration
from atelier.ai.providers.fake import FakeProvider
from atelier.app import build_runner
from atelier.artifacts import service as artifacts_service
from atelier.artifacts.models import Artifact
from atelier.core.db import session_scope, utcnow
from atelier.jobs import sse as job_sse
from atelier.jobs.events import EventBus
from atelier.jobs.models import Job, JobEvent, JobStatus
from atelier.jobs.runner import JobRunner
from atelier.jobs.service import enqueue
from atelier.projects.models import Project
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Account, Api, error_code

pytestmark = pytest.mark.anyio

JOBS = "/api/v1/jobs"
AI_OUTPUT = {**BRIEF_OUTPUT, "title": "Generated"}

Event = tuple[int, str, dict[str, Any]]


def parse_sse(text: str) -> list[Event]:
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                continue  # keep-alive comment
            name, _, value = line.partition(": ")
            fields[name] = value
        if "event" in fields:
            events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return events


async def stream(
    api: Api,
    who: Account,
    job_id: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> list[Event]:
    # Bounded, so that a stream that never ends fails the test instead of hanging it.
    r = await asyncio.wait_for(
        api.client.get(
            f"{JOBS}/{job_id}/events", headers={**who.headers, **(headers or {})}, params=params
        ),
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return parse_sse(r.text)


async def setup(api: Api) -> tuple[Account, dict[str, Any]]:
    """A user with a (faked) provider and a brief artifact."""
    who = await api.signup()
    await api.provider(who)
    project = await api.project(who)
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    return who, r.json()


async def start_job(api: Api, who: Account, artifact_id: str) -> dict[str, Any]:
    r = await api.client.post(f"/api/v1/artifacts/{artifact_id}/generate", headers=who.headers)
    assert r.status_code == 202, r.text
    return dict(r.json())


async def get_job(api: Api, who: Account, job_id: str) -> dict[str, Any]:
    r = await api.client.get(f"{JOBS}/{job_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def artifact_state(api: Api, who: Account, artifact_id: str) -> tuple[Any, Any]:
    a = await api.client.get(f"/api/v1/artifacts/{artifact_id}", headers=who.headers)
    v = await api.client.get(f"/api/v1/artifacts/{artifact_id}/versions", headers=who.headers)
    return a.json(), v.json()


async def event_types(app: Any, job_id: str) -> list[str]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(JobEvent.type).where(JobEvent.job_id == uuid.UUID(job_id)).order_by(JobEvent.id)
        )
        return list(rows.all())


async def until_event(app: Any, job_id: str, kind: str, task: asyncio.Task[None]) -> None:
    """Wait until the job has emitted ``kind`` (or its runner task ended)."""
    while kind not in await event_types(app, job_id):
        assert not task.done(), "the job ended before emitting " + kind
        await asyncio.sleep(0.01)


# --- reading -------------------------------------------------------------------------------


async def test_list_my_jobs_paginated(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, art = await setup(api)
    bob, bobs_art = await setup(api)
    ids = [(await start_job(api, ann, art["id"]))["id"] for _ in range(3)]
    bobs = await start_job(api, bob, bobs_art["id"])

    r = await api.client.get(JOBS, params={"limit": 2}, headers=ann.headers)
    assert r.status_code == 200, r.text
    page1 = r.json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    r = await api.client.get(
        JOBS, params={"limit": 2, "cursor": page1["next_cursor"]}, headers=ann.headers
    )
    page2 = r.json()
    assert len(page2["items"]) == 1 and page2["next_cursor"] is None
    listed = [j["id"] for j in page1["items"] + page2["items"]]
    assert listed == ids[::-1]  # newest first, each once
    assert all(j["events_url"] == f"{JOBS}/{j['id']}/events" for j in page1["items"])

    # Filters.
    fake_ai.push(AI_OUTPUT)
    await run_jobs(app, ids[0])
    r = await api.client.get(JOBS, params={"status": "succeeded"}, headers=ann.headers)
    assert [j["id"] for j in r.json()["items"]] == [ids[0]]
    r = await api.client.get(JOBS, params={"status": "queued"}, headers=ann.headers)
    assert [j["id"] for j in r.json()["items"]] == ids[:0:-1]
    r = await api.client.get(JOBS, params={"artifact_id": art["id"]}, headers=bob.headers)
    assert r.json()["items"] == []
    r = await api.client.get(JOBS, headers=bob.headers)
    assert [j["id"] for j in r.json()["items"]] == [bobs["id"]]
    r = await api.client.get(JOBS, params={"status": "nope"}, headers=ann.headers)
    assert r.status_code == 422


async def test_someone_elses_job_is_not_found(api: Api) -> None:
    ann, art = await setup(api)
    bob = await api.signup()
    job = await start_job(api, ann, art["id"])
    for method, suffix in (("GET", ""), ("GET", "/events"), ("POST", "/cancel")):
        r = await api.client.request(method, f"{JOBS}/{job['id']}{suffix}", headers=bob.headers)
        assert r.status_code == 404 and error_code(r) == "job_not_found", (method, suffix)
        r = await api.client.request(method, f"{JOBS}/{uuid.uuid4()}{suffix}", headers=ann.headers)
        assert r.status_code == 404 and error_code(r) == "job_not_found", (method, suffix)
        r = await api.client.request(method, f"{JOBS}/{job['id']}{suffix}")
        assert r.status_code == 401
    assert (await get_job(api, ann, job["id"]))["cancel_requested"] is False


# --- cancellation -------------------------------------------------------------------------


async def test_cancel_a_queued_job(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, art = await setup(api)
    before = await artifact_state(api, ann, art["id"])
    job = await start_job(api, ann, art["id"])
    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=ann.headers)
    assert r.status_code == 200, r.text
    # Never started, so cancelled at once: no runner needs to come by.
    assert r.json()["cancel_requested"] is True and r.json()["status"] == "cancelled"

    fake_ai.push(AI_OUTPUT)
    await run_jobs(app, job["id"])  # a runner that comes by does not start it
    done = await get_job(api, ann, job["id"])
    assert done["status"] == "cancelled" and done["finished_at"] is not None
    assert fake_ai.requests == []
    assert await artifact_state(api, ann, art["id"]) == before
    assert [e[1] for e in await stream(api, ann, job["id"])] == ["queued", "cancelled"]

    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=ann.headers)
    assert r.status_code == 409 and error_code(r) == "job_finished"


async def test_cancel_a_running_job(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, art = await setup(api)
    before = await artifact_state(api, ann, art["id"])
    fake_ai.latency = 5.0
    fake_ai.push(AI_OUTPUT)  # would succeed if the cancel did not stop it
    job = await start_job(api, ann, art["id"])

    task = asyncio.create_task(run_jobs(app, job["id"]))
    await until_event(app, job["id"], "progress", task)
    assert (await get_job(api, ann, job["id"]))["status"] == "running"
    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=ann.headers)
    assert r.status_code == 200, r.text
    await task

    done = await get_job(api, ann, job["id"])
    assert done["status"] == "cancelled" and done["result"] is None
    assert len(fake_ai.requests) == 1
    assert await artifact_state(api, ann, art["id"]) == before
    async with app.state.sessionmaker() as session:
        statuses = (
            await session.scalars(
                select(AIGeneration.status).where(AIGeneration.job_id == uuid.UUID(job["id"]))
            )
        ).all()
    assert "success" not in statuses
    kinds = [e[1] for e in await stream(api, ann, job["id"])]
    assert kinds[-1] == "cancelled" and "succeeded" not in kinds


async def test_cancel_reaches_a_job_running_in_another_process(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    """A worker process runs the job; the API server's runner does not have it."""
    ann, art = await setup(api)
    before = await artifact_state(api, ann, art["id"])
    fake_ai.latency = 5.0
    fake_ai.push(AI_OUTPUT)
    job = await start_job(api, ann, art["id"])
    worker: JobRunner = build_runner(
        app.state.ai, app.state.events, dialect=app.state.engine.dialect.name
    )
    task = asyncio.create_task(worker.run_until_idle(only={uuid.UUID(job["id"])}))
    await until_event(app, job["id"], "progress", task)
    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=ann.headers)
    assert r.status_code == 200, r.text
    await worker._heartbeat()  # what the worker's loop does every HEARTBEAT_SECONDS
    await task

    done = await get_job(api, ann, job["id"])
    assert done["status"] == "cancelled", done
    assert await artifact_state(api, ann, art["id"]) == before


async def test_cancel_a_finished_job(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, art = await setup(api)
    fake_ai.push(AI_OUTPUT)
    job = await start_job(api, ann, art["id"])
    await run_jobs(app, job["id"])
    assert (await get_job(api, ann, job["id"]))["status"] == "succeeded"
    r = await api.client.post(f"{JOBS}/{job['id']}/cancel", headers=ann.headers)
    assert r.status_code == 409 and error_code(r) == "job_finished"
    done = await get_job(api, ann, job["id"])
    assert done["status"] == "succeeded" and done["cancel_requested"] is False


# --- the event stream ---------------------------------------------------------------------


async def test_events_in_order_with_ids_and_resume(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, art = await setup(api)
    fake_ai.push("not json", AI_OUTPUT)
    job = await start_job(api, ann, art["id"])
    await run_jobs(app, job["id"])

    events = await stream(api, ann, job["id"])
    kinds = [kind for _, kind, _ in events]
    assert kinds[:2] == ["queued", "started"] and kinds[-1] == "succeeded"
    assert "attempt_failed" in kinds and "progress" in kinds
    assert kinds.index("attempt_failed") < len(kinds) - 1
    ids = [event_id for event_id, _, _ in events]
    assert ids[0] == 0 and ids[1:] == sorted(set(ids[1:])) and ids[1] > 0
    assert events[-1][2]["status"] == "succeeded"
    assert events[-1][2]["result"]["version"] == 1
    # The streamed text is the model's answer.
    text = "".join(d.get("text", "") for _, k, d in events if k == "progress")
    assert "not json" in text and "Generated" in text

    middle = ids[len(ids) // 2]
    expected = [e for e in events if e[0] > middle]
    assert expected and len(expected) < len(events) - 1
    resumed = await stream(api, ann, job["id"], headers={"Last-Event-ID": str(middle)})
    assert resumed == expected
    assert await stream(api, ann, job["id"], params={"after": middle}) == expected
    # Resuming after the last event: nothing more, and the stream ends.
    assert await stream(api, ann, job["id"], params={"after": ids[-1]}) == []
    # A garbled Last-Event-ID starts from the beginning.
    restarted = await stream(api, ann, job["id"], headers={"Last-Event-ID": "yesterday"})
    assert restarted == events
    r = await api.client.get(
        f"{JOBS}/{job['id']}/events", params={"after": -1}, headers=ann.headers
    )
    assert r.status_code == 422


async def test_a_follower_sees_the_job_live_to_its_end(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, art = await setup(api)
    fake_ai.push(AI_OUTPUT)
    job = await start_job(api, ann, art["id"])
    # Follow from before the job starts; the stream must end by itself once it finishes.
    follower = asyncio.create_task(stream(api, ann, job["id"]))
    await asyncio.sleep(0)
    await run_jobs(app, job["id"])
    events = await asyncio.wait_for(follower, 30)
    kinds = [k for _, k, _ in events]
    assert kinds[0] == "queued" and kinds[-1] == "succeeded"
    assert kinds.count("succeeded") == 1 and "started" in kinds


async def test_the_stream_never_misses_the_closing_event(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job finishes between the stream's two reads (its events, then its status)."""
    ann, art = await setup(api)
    job = await start_job(api, ann, art["id"])
    job_id = uuid.UUID(job["id"])
    real_events_after = job_sse.events_after
    finished_once = False

    async def events_after(session: Any, wanted: uuid.UUID, after: int) -> list[JobEvent]:
        nonlocal finished_once
        rows = await real_events_after(session, wanted, after)
        if not finished_once:
            finished_once = True
            # As a runner finishes a job: its status and closing event in one transaction.
            async with session_scope(app.state.sessionmaker) as other:
                job_row = await other.get(Job, job_id)
                assert job_row is not None
                job_row.status = JobStatus.SUCCEEDED
                job_row.finished_at = utcnow()
                EventBus.add(other, job_id, "succeeded", {"status": "succeeded"})
        return rows

    monkeypatch.setattr(job_sse, "events_after", events_after)
    kinds = [k for _, k, _ in await stream(api, ann, job["id"])]
    assert kinds == ["queued", "succeeded"]


# --- crash recovery -------------------------------------------------------------------------


async def insert_abandoned(app: Any, who: Account, art: dict[str, Any], attempts: int) -> str:
    long_ago = utcnow() - dt.timedelta(minutes=10)
    job = Job(
        user_id=uuid.UUID(who.id),
        project_id=uuid.UUID(art["project_id"]),
        artifact_id=uuid.UUID(art["id"]),
        kind="generate",
        payload={"provider_id": None},
        status=JobStatus.RUNNING,
        attempts=attempts,
        locked_by="dead-worker",
        heartbeat_at=long_ago,
        started_at=long_ago,
        created_at=long_ago,
    )
    async with session_scope(app.state.sessionmaker) as session:
        session.add(job)
    return str(job.id)


async def test_an_abandoned_job_is_requeued_and_completes(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, art = await setup(api)
    job_id = await insert_abandoned(app, ann, art, attempts=1)
    fresh = await insert_abandoned(app, ann, art, attempts=1)
    async with session_scope(app.state.sessionmaker) as session:
        row = await session.get(Job, uuid.UUID(fresh))
        assert row is not None
        row.heartbeat_at = utcnow()  # still beating: not abandoned

    recovered = await app.state.jobs.recover_abandoned()
    assert uuid.UUID(job_id) in recovered and uuid.UUID(fresh) not in recovered
    requeued = await get_job(api, ann, job_id)
    assert requeued["status"] == "queued"
    assert await event_types(app, job_id) == ["requeued"]
    assert (await get_job(api, ann, fresh))["status"] == "running"

    fake_ai.push(AI_OUTPUT)
    await run_jobs(app, job_id)
    done = await get_job(api, ann, job_id)
    assert done["status"] == "succeeded" and done["attempts"] == 2
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["output_data"] == AI_OUTPUT
    kinds = [k for _, k, _ in await stream(api, ann, job_id)]
    assert kinds[1] == "requeued" and kinds[-1] == "succeeded"

    async with session_scope(app.state.sessionmaker) as session:  # tidy up the live one
        row = await session.get(Job, uuid.UUID(fresh))
        assert row is not None
        row.status = JobStatus.FAILED


async def test_a_job_abandoned_too_often_fails_for_good(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, art = await setup(api)
    before = await artifact_state(api, ann, art["id"])
    job_id = await insert_abandoned(app, ann, art, attempts=3)
    async with app.state.sessionmaker() as session:
        row = await session.get(Job, uuid.UUID(job_id))
        assert row is not None and row.attempts == row.max_attempts

    assert uuid.UUID(job_id) in await app.state.jobs.recover_abandoned()
    done = await get_job(api, ann, job_id)
    assert done["status"] == "failed" and done["error_code"] == "worker_lost"
    assert "3 times" in done["error_message"] and done["finished_at"] is not None
    await run_jobs(app, job_id)  # nothing to run
    assert fake_ai.requests == []
    assert (await get_job(api, ann, job_id))["status"] == "failed"
    assert await artifact_state(api, ann, art["id"]) == before
    events = await stream(api, ann, job_id)
    assert [k for _, k, _ in events] == ["queued", "failed"]
    assert events[-1][2]["reason"] == "worker_lost"


# --- enqueueing is part of the request's transaction ------------------------------------------


async def test_a_failed_request_leaves_no_job(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    project = await api.project(ann)

    def broken(job: Any) -> Any:
        raise RuntimeError("the response could not be built")

    import atelier.api.artifacts as artifact_endpoints

    monkeypatch.setattr(artifact_endpoints, "job_out", broken)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.post(
            f"/api/v1/projects/{project['id']}/artifacts",
            json={"type": "brief", "name": "B", "input_data": BRIEF_INPUT, "generate": True},
            headers=ann.headers,
        )
    assert r.status_code == 500, r.text
    monkeypatch.undo()
    r = await api.client.get(f"/api/v1/projects/{project['id']}/artifacts", headers=ann.headers)
    assert r.json()["items"] == []
    r = await api.client.get(JOBS, headers=ann.headers)
    assert r.json()["items"] == []


async def test_enqueue_joins_the_callers_transaction(api: Api, app: Any) -> None:
    ann = await api.signup()
    project_out = await api.project(ann)
    user_id = uuid.UUID(ann.id)
    notified: list[str] = []

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with session_scope(app.state.sessionmaker) as session:
            project = await session.get(Project, uuid.UUID(project_out["id"]))
            assert project is not None
            artifact = await artifacts_service.create_artifact(
                session,
                project=project,
                user=Principal(id=user_id, role=UserRole.USER),
                type="brief",
                name="B",
                input_data=BRIEF_INPUT,
            )
            job = await enqueue(
                session,
                user_id=user_id,
                kind="generate",
                payload={},
                project_id=project.id,
                artifact_id=artifact.id,
                notify=lambda: notified.append("rolled back"),
            )
            assert job.id is not None
            raise Boom
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).where(Job.user_id == user_id)) == 0
        assert (
            await session.scalar(
                select(func.count()).where(Artifact.project_id == uuid.UUID(project_out["id"]))
            )
            == 0
        )
    assert notified == []

    # Committed: the job is there, and the runner is told only then.
    async with session_scope(app.state.sessionmaker) as session:
        job = await enqueue(
            session,
            user_id=user_id,
            kind="generate",
            payload={},
            notify=lambda: notified.append("committed"),
        )
        assert notified == []
    assert notified == ["committed"]
    async with app.state.sessionmaker() as session:
        stored = await session.get(Job, job.id)
        assert stored is not None and stored.status == JobStatus.QUEUED
    async with session_scope(app.state.sessionmaker) as session:  # not for other tests' runs
        stored = await session.get(Job, job.id)
        assert stored is not None
        stored.status = JobStatus.CANCELLED
