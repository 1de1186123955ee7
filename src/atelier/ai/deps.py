"""Dependencies for the AI engine's endpoints (the job runner's are in ``jobs.deps``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atelier.ai.runtime import AIRuntime


def _runtime(request: Request) -> AIRuntime:
    runtime: AIRuntime = request.app.state.ai
    return runtime


Runtime = Annotated[AIRuntime, Depends(_runtime)]
