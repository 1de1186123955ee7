"""Request dependencies for jobs: the app's runner and event bus."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from atelier.jobs.events import EventBus
from atelier.jobs.runner import JobRunner


def _events(request: Request) -> EventBus:
    events: EventBus = request.app.state.events
    return events


def _runner(request: Request) -> JobRunner | None:
    runner: JobRunner | None = request.app.state.jobs
    return runner


Events = Annotated[EventBus, Depends(_events)]
# None when the app runs no jobs in process (a separate worker claims them).
Runner = Annotated[JobRunner | None, Depends(_runner)]


def wake(runner: JobRunner | None) -> Callable[[], None] | None:
    """What to call once a new job is committed: wakes the in-process runner, if any."""
    return runner.wake if runner is not None else None
