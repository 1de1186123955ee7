"""What would refuse a generation, checked before anything is enqueued.

``request_generation`` (the API) runs these checks when it enqueues the job; the web forms
call :func:`check_generation_allowed` before they even write the artifact, so that a
refused request (budget used up, no provider the user may use) leaves nothing behind and
the form can be shown again as it was. Both go through :func:`allowed_provider`, so the
two can never disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.ai.budgets import check_budget
from atelier.ai.resolve import ResolvedProvider, resolve_provider
from atelier.ai.runtime import AIRuntime
from atelier.projects.models import Project

# What every generation counts against the plan (accounts/plans.py); a tool adds its own.
GENERATION = {"generations": 1}


def generation_amounts(meters: tuple[str, ...]) -> dict[str, int]:
    return {**GENERATION, **dict.fromkeys(meters, 1)}


async def allowed_provider(
    session: AsyncSession,
    *,
    runtime: AIRuntime,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    project_provider_id: uuid.UUID | None,
    provider_id: uuid.UUID | None,
    adding: Mapping[str, int] | None = None,
) -> ResolvedProvider:
    """The plan's limits (402 when the AI budget is used up or ``adding`` would pass a
    limit), then the provider a generation would use (``provider_id``, else the
    project's, else the user's default), or its error."""
    await check_budget(
        session,
        settings=runtime.settings,
        user_id=user_id,
        organization_id=organization_id,
        adding=adding,
    )
    return await resolve_provider(
        session,
        user_id=user_id,
        settings=runtime.settings,
        cipher=runtime.cipher,
        override_id=provider_id,
        project_provider_id=project_provider_id,
    )


async def check_generation_allowed(
    session: AsyncSession,
    *,
    runtime: AIRuntime,
    user_id: uuid.UUID,
    project: Project,
    provider_id: uuid.UUID | None = None,
) -> None:
    """Raise the error a generation in ``project`` would be refused with, if any (the
    tool's own metrics, such as analyses, are checked when it is requested)."""
    await allowed_provider(
        session,
        runtime=runtime,
        user_id=user_id,
        organization_id=project.organization_id,
        project_provider_id=project.ai_provider_id,
        provider_id=provider_id,
        adding=GENERATION,
    )
