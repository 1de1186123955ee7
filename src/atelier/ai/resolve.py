"""Which provider serves a call: project override → user default → instance default → local."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import Membership
from atelier.ai.models import AIProviderConfig, ProviderKind
from atelier.ai.providers.base import ProviderSettings
from atelier.config import Settings
from atelier.core.crypto import Cipher, DecryptionError
from atelier.core.errors import AtelierError, NotFound

DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o-mini"}


class ProviderUnavailable(AtelierError):
    status_code = 409
    code = "no_ai_provider"


@dataclass(frozen=True, slots=True)
class ResolvedProvider:
    kind: str
    settings: ProviderSettings
    config_id: uuid.UUID | None
    options: dict[str, Any] = field(default_factory=dict)
    cache_key: tuple[object, ...] = ()


def config_aad(config: AIProviderConfig) -> str:
    return f"{config.user_id}:{config.provider}"


def visible_configs(user_id: uuid.UUID) -> Any:
    """Configs the user owns or that an organization of theirs shares."""
    orgs = select(Membership.organization_id).where(Membership.user_id == user_id)
    return or_(AIProviderConfig.user_id == user_id, AIProviderConfig.organization_id.in_(orgs))


def from_config(config: AIProviderConfig, cipher: Cipher, settings: Settings) -> ResolvedProvider:
    api_key = None
    if config.api_key_encrypted:
        try:
            api_key = cipher.decrypt(config.api_key_encrypted, aad=config_aad(config))
        except DecryptionError:
            raise ProviderUnavailable(
                f"the API key of provider '{config.label}' cannot be decrypted here; "
                "enter it again",
            ) from None
    options = dict(config.options or {})
    provider_settings = ProviderSettings(
        kind=config.provider.value,
        default_model=config.default_model,
        api_key=api_key,
        base_url=config.base_url,
        timeout=float(options.get("timeout_seconds", settings.ai_timeout_seconds)),
        threads=options.get("threads", settings.local_threads),
    )
    if config.provider == ProviderKind.LOCAL:
        provider_settings = local_settings(settings, model=config.default_model)
    return ResolvedProvider(
        kind=config.provider.value,
        settings=provider_settings,
        config_id=config.id,
        options=options,
        cache_key=("config", config.id, config.updated_at),
    )


def local_settings(settings: Settings, *, model: str | None = None) -> ProviderSettings:
    from atelier.ai.local_models import LocalModelError, resolve_model_path

    name = model or settings.local_model
    try:
        path = resolve_model_path(settings, model=name)
    except LocalModelError as error:
        raise ProviderUnavailable(
            "no AI provider is configured and the local model is not installed: add a "
            f"provider (POST /api/v1/ai-providers) or install the local model ({error})"
        ) from None
    return ProviderSettings(
        kind="local",
        default_model=name,
        model_path=str(path),
        threads=settings.local_threads,
        timeout=settings.local_timeout_seconds,
        prompt_cache_mb=settings.local_prompt_cache_mb,
    )


def instance_default(settings: Settings) -> ResolvedProvider:
    kind = settings.ai_provider
    key: str | None = None
    if kind == "anthropic" and settings.anthropic_api_key:
        key = settings.anthropic_api_key.get_secret_value()
    elif kind == "openai" and settings.openai_api_key:
        key = settings.openai_api_key.get_secret_value()
    elif kind == "custom" and settings.custom_api_key:
        key = settings.custom_api_key.get_secret_value()
    if kind in ("anthropic", "openai") and key is None:
        kind = "local"  # no key configured: fall through to the embedded model
    if kind == "custom" and not settings.ai_base_url:
        kind = "local"
    if kind == "local":
        return ResolvedProvider(
            kind="local", settings=local_settings(settings), config_id=None, cache_key=("local",)
        )
    model = settings.ai_model or DEFAULT_MODELS.get(kind, "")
    return ResolvedProvider(
        kind=kind,
        settings=ProviderSettings(
            kind=kind,
            default_model=model,
            api_key=key,
            base_url=settings.ai_base_url,
            timeout=settings.ai_timeout_seconds,
        ),
        config_id=None,
        cache_key=("instance", kind, model),
    )


async def resolve_provider(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    settings: Settings,
    cipher: Cipher,
    override_id: uuid.UUID | None = None,
    project_provider_id: uuid.UUID | None = None,
) -> ResolvedProvider:
    for candidate in (override_id, project_provider_id):
        if candidate is None:
            continue
        config = await session.scalar(
            select(AIProviderConfig).where(
                AIProviderConfig.id == candidate, visible_configs(user_id)
            )
        )
        if config is None:
            if candidate == override_id:
                raise NotFound("no such AI provider", code="ai_provider_not_found")
            continue  # a project override the caller cannot use: fall back to defaults
        return from_config(config, cipher, settings)
    default = await session.scalar(
        select(AIProviderConfig).where(
            AIProviderConfig.user_id == user_id, AIProviderConfig.is_default.is_(True)
        )
    )
    if default is not None:
        return from_config(default, cipher, settings)
    return instance_default(settings)
