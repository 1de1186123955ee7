"""``ai_ready``: whether a generation could find an AI provider at all, the check behind
the "no AI provider" guidance on the projects, usage and providers pages."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai import local_models
from atelier.ai.models import AIProviderConfig, ProviderKind
from atelier.ai.resolve import ProviderUnavailable, instance_default, visible_configs
from atelier.config import Settings


async def ai_ready(request: Request, session: AsyncSession, user: Principal) -> bool:
    """Whether a generation for ``user`` can find a provider at all: a config of theirs
    (or one an organization shares) that can run, else the instance default working on
    its own (a hosted default with its key, or the local model installed)."""
    settings: Settings = request.app.state.settings
    configs = await session.execute(
        select(AIProviderConfig.provider, AIProviderConfig.default_model)
        .where(visible_configs(user.id))
        .limit(50)
    )
    for kind, model in configs.all():
        # A hosted config may still have a wrong key, but that is for its "Test" button;
        # a local one without its model installed cannot work at all.
        if kind != ProviderKind.LOCAL or _local_model_installed(settings, model):
            return True
    try:
        instance_default(settings)
    except ProviderUnavailable:
        return False
    return True


def _local_model_installed(settings: Settings, model: str | None) -> bool:
    try:
        local_models.resolve_model_path(settings, model=model)
    except local_models.LocalModelError:
        return False
    return True
