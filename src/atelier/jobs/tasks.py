"""Job handlers, registered by kind where they are defined.

The engine's own handlers use the ``@task("kind")`` decorator in their module (generation
in ``ai/generation.py``, smart-populate in ``ai/smart_populate.py``); a pack lists
its handlers in its ``PackSpec.job_handlers``. The runner gets them all from
``handlers_for(services)``, each bound to the app's services (the AI runtime): no list
of job kinds is kept anywhere else.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from atelier.core.packs import packs, resolve

if TYPE_CHECKING:
    from atelier.jobs.runner import Handler, JobControl

log = structlog.get_logger("atelier.jobs")

# ``async def handler(services, job_id, control) -> result``; ``services`` is the app's
# AI runtime (settings, database sessions, providers, tools).
TaskHandler = Callable[[Any, uuid.UUID, "JobControl"], Awaitable[dict[str, Any] | None]]
F = TypeVar("F", bound=TaskHandler)

_engine_tasks: dict[str, TaskHandler] = {}


def task(kind: str) -> Callable[[F], F]:
    """Register the decorated function as the handler of jobs of ``kind``."""

    def register(handler: F) -> F:
        if _engine_tasks.get(kind, handler) is not handler:
            raise ValueError(f"two handlers for the job kind {kind!r}")
        _engine_tasks[kind] = handler
        return handler

    return register


def all_tasks() -> dict[str, TaskHandler]:
    """Every handler by kind: the engine's, then each installed pack's."""
    found = dict(_engine_tasks)
    for spec in packs.all():
        if not getattr(spec, "job_handlers", None):
            continue
        try:
            mapping: Mapping[str, TaskHandler] = resolve(spec.job_handlers)
        except Exception:
            log.exception("pack_jobs_failed_to_load", pack=spec.key)
            continue
        for kind, handler in mapping.items():
            if kind in found:
                raise ValueError(f"pack {spec.key!r}: the job kind {kind!r} is taken")
            found[kind] = handler
    return found


def handlers_for(services: Any) -> dict[str, Handler]:
    """The runner's handlers, each bound to ``services``."""
    return {kind: functools.partial(handler, services) for kind, handler in all_tasks().items()}
