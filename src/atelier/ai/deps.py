"""Dependencies for the AI engine's endpoints. The job runner's (``Runner``, ``Events``,
``wake``) live in ``jobs.deps`` and are re-exported here for the AI's own routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atelier.ai.runtime import AIRuntime
from atelier.jobs.deps import Events as Events
from atelier.jobs.deps import Runner as Runner
from atelier.jobs.deps import wake as wake


def _runtime(request: Request) -> AIRuntime:
    runtime: AIRuntime = request.app.state.ai
    return runtime


Runtime = Annotated[AIRuntime, Depends(_runtime)]
