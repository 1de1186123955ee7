"""Dependencies for the AI engine's endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from atelier.ai.runtime import AIRuntime
from atelier.jobs.events import EventBus
from atelier.jobs.runner import JobRunner


def _runtime(request: Request) -> AIRuntime:
    runtime: AIRuntime = request.app.state.ai
    return runtime


def _events(request: Request) -> EventBus:
    events: EventBus = request.app.state.events
    return events


def _runner(request: Request) -> JobRunner | None:
    runner: JobRunner | None = request.app.state.jobs
    return runner


Runtime = Annotated[AIRuntime, Depends(_runtime)]
Events = Annotated[EventBus, Depends(_events)]
Runner = Annotated[JobRunner | None, Depends(_runner)]


def wake(runner: JobRunner | None) -> Callable[[], None] | None:
    return runner.wake if runner is not None else None
