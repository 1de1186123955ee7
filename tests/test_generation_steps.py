"""Generations take turns for their database steps (runtime.steps): with many in flight,
only a few do their bookkeeping at once, and every one still completes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import atelier.ai.generation as generation
from atelier.ai.providers.fake import FakeProvider
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Api
from tests.test_generation import queued, ready

pytestmark = pytest.mark.anyio

IN_FLIGHT = 12


class StepCounter:
    """Wraps the generation module's session_scope: how many of its sessions are open
    at once, at most."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self.real = generation.session_scope

    @contextlib.asynccontextmanager
    async def scope(self, maker: Any) -> AsyncIterator[Any]:
        async with self.real(maker) as session:
            self.open += 1
            self.peak = max(self.peak, self.open)
            try:
                # A step that yields to the loop once, as one on PostgreSQL does at every
                # statement: the others get their chance to start a step of their own.
                await asyncio.sleep(0)
                yield session
            finally:
                self.open -= 1


async def burst(api: Api, app: Any, fake_ai: FakeProvider, slots: int) -> StepCounter:
    fake_ai.default = BRIEF_OUTPUT
    fake_ai.latency = 0.01  # every provider call is in flight at the same time
    who, _config, project = await ready(api)
    jobs = []
    for n in range(IN_FLIGHT):
        r = await api.client.post(
            f"/api/v1/projects/{project['id']}/artifacts",
            json={"type": "brief", "name": f"Brief {n}", "input_data": BRIEF_INPUT},
            headers=who.headers,
        )
        assert r.status_code == 201, r.text
        jobs.append((await queued(api, who, r.json()["id"]))["id"])
    counter = StepCounter()
    runtime = app.state.ai
    runner = app.state.jobs
    saved = (runtime.steps, runner.concurrency, generation.session_scope)
    runtime.steps, runner.concurrency = asyncio.Semaphore(slots), IN_FLIGHT
    generation.session_scope = counter.scope  # type: ignore[assignment]
    try:
        await run_jobs(app, *jobs)
    finally:
        runtime.steps, runner.concurrency, generation.session_scope = saved
    for job_id in jobs:
        r = await api.client.get(f"/api/v1/jobs/{job_id}", headers=who.headers)
        assert r.json()["status"] == "succeeded", r.json()
    return counter


async def test_only_a_few_generations_do_database_work_at_once(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    counter = await burst(api, app, fake_ai, slots=2)
    assert counter.peak == 2


async def test_without_the_limit_they_all_would(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    """The check above can fail: with slots for all, the steps do overlap."""
    counter = await burst(api, app, fake_ai, slots=IN_FLIGHT)
    assert counter.peak > 2
