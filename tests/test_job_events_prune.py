"""Old jobs' streamed text is pruned: progress events of jobs finished longer ago than
ATELIER_JOB_PROGRESS_KEEP_DAYS go, everything else about them stays."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from atelier.ai.providers.fake import FakeProvider
from atelier.core.db import session_scope, utcnow
from atelier.jobs.events import prune_progress
from atelier.jobs.models import Job
from tests.conftest import run_jobs
from tests.factories import BRIEF_OUTPUT, Api
from tests.test_jobs import event_types, get_job, setup, start_job, stream

pytestmark = pytest.mark.anyio

DAY = 86400.0


async def finished_job(
    api: Api, app: Any, fake_ai: FakeProvider, days_ago: float
) -> tuple[Any, str]:
    """A generation that streamed its answer, finished ``days_ago`` days ago."""
    who, art = await setup(api)
    fake_ai.push(BRIEF_OUTPUT)
    job = await start_job(api, who, art["id"])
    await run_jobs(app, job["id"])
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(job["id"]))
            .values(finished_at=utcnow() - dt.timedelta(days=days_ago))
        )
    assert "progress" in await event_types(app, job["id"])
    return who, job["id"]


async def test_only_old_jobs_lose_their_streamed_text(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    old_owner, old = await finished_job(api, app, fake_ai, days_ago=31)
    _, recent = await finished_job(api, app, fake_ai, days_ago=29)
    before = await event_types(app, old)
    runner = app.state.jobs
    saved = runner.keep_progress_seconds
    runner.keep_progress_seconds = 30 * DAY
    try:
        removed = await runner.prune_events()
    finally:
        runner.keep_progress_seconds = saved
    assert removed >= before.count("progress")
    assert await event_types(app, old) == [kind for kind in before if kind != "progress"]
    assert "progress" in await event_types(app, recent)
    # The job and its ending are still there for whoever asks.
    assert (await get_job(api, old_owner, old))["status"] == "succeeded"
    events = await stream(api, old_owner, old)
    assert events[-1][1] == "succeeded" and events[-1][2]["result"]["version"] == 1


async def test_pruning_goes_in_batches_until_done(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    fake_ai.default = BRIEF_OUTPUT
    jobs = [(await finished_job(api, app, fake_ai, days_ago=400))[1] for _ in range(2)]
    progress = 0
    for job in jobs:
        progress += (await event_types(app, job)).count("progress")
    assert progress >= 4  # more than one batch of 2 below
    cutoff = utcnow() - dt.timedelta(days=399)
    removed = await prune_progress(app.state.sessionmaker, finished_before=cutoff, batch=2)
    assert removed >= progress
    for job in jobs:
        assert "progress" not in await event_types(app, job)


async def test_keeping_for_ever_prunes_nothing(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    _, job = await finished_job(api, app, fake_ai, days_ago=1000)
    runner = app.state.jobs
    saved = runner.keep_progress_seconds
    runner.keep_progress_seconds = None  # ATELIER_JOB_PROGRESS_KEEP_DAYS=0
    try:
        assert await runner.prune_events() == 0
    finally:
        runner.keep_progress_seconds = saved
    assert "progress" in await event_types(app, job)


async def test_a_chat_replys_tokens_are_pruned_its_message_stays(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    r = await api.client.post("/api/v1/conversations", json={"title": "T"}, headers=me.headers)
    chat_id = r.json()["id"]
    fake_ai.push("A reply long enough to stream in a few pieces, to be pruned later.")
    r = await api.client.post(
        f"/api/v1/conversations/{chat_id}/messages", json={"content": "Hi"}, headers=me.headers
    )
    job_id = r.json()["reply_job"]["id"]
    await run_jobs(app, job_id)
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(job_id))
            .values(finished_at=utcnow() - dt.timedelta(days=40))
        )
    assert "token" in await event_types(app, job_id)
    runner = app.state.jobs
    saved = runner.keep_progress_seconds
    runner.keep_progress_seconds = 30 * DAY
    try:
        await runner.prune_events()
    finally:
        runner.keep_progress_seconds = saved
    kinds = await event_types(app, job_id)
    assert "token" not in kinds and "message" in kinds and kinds[-1] == "succeeded"
    r = await api.client.get(f"/api/v1/conversations/{chat_id}", headers=me.headers)
    assert r.json()["messages"][-1]["content"].startswith("A reply long enough")
