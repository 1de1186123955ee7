"""What would refuse a generation, checked before the artifact is written.

``request_generation`` runs the same checks when it enqueues the job, but by then a form
has already created or changed the artifact. The web forms call this first, so that a
refused request (budget used up, no provider the user may use) leaves nothing behind and
the form can be shown again as it was.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.ai.budgets import check_budget
from atelier.ai.resolve import resolve_provider
from atelier.ai.runtime import AIRuntime
from atelier.projects.models import Project


async def check_generation_allowed(
    session: AsyncSession,
    *,
    runtime: AIRuntime,
    user_id: uuid.UUID,
    project: Project,
    provider_id: uuid.UUID | None = None,
) -> None:
    """Raise the error a generation in ``project`` would be refused with, if any: the
    monthly budget, then the provider (``provider_id``, else the project's or the user's
    default)."""
    await check_budget(
        session,
        settings=runtime.settings,
        user_id=user_id,
        organization_id=project.organization_id,
    )
    await resolve_provider(
        session,
        user_id=user_id,
        settings=runtime.settings,
        cipher=runtime.cipher,
        override_id=provider_id,
        project_provider_id=project.ai_provider_id,
    )
