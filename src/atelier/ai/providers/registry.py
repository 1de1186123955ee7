"""Provider kinds → factories. Imports are lazy: an SDK is loaded only when used."""

from __future__ import annotations

from collections.abc import Callable

from atelier.ai.providers.base import Provider, ProviderSettings

Factory = Callable[[ProviderSettings], Provider]

_factories: dict[str, Factory] = {}


def register(kind: str, factory: Factory) -> None:
    _factories[kind] = factory


def _anthropic(settings: ProviderSettings) -> Provider:
    from atelier.ai.providers.anthropic import AnthropicProvider

    return AnthropicProvider(settings)


def _openai(settings: ProviderSettings) -> Provider:
    from atelier.ai.providers.openai_compat import OpenAIProvider

    return OpenAIProvider(settings)


def _custom(settings: ProviderSettings) -> Provider:
    from atelier.ai.providers.openai_compat import OpenAICompatibleProvider

    return OpenAICompatibleProvider(settings)


def _local(settings: ProviderSettings) -> Provider:
    from atelier.ai.providers.local import local_provider

    return local_provider(settings)


register("anthropic", _anthropic)
register("openai", _openai)
register("custom", _custom)
register("local", _local)


def build_provider(settings: ProviderSettings) -> Provider:
    try:
        factory = _factories[settings.kind]
    except KeyError:
        raise ValueError(f"unknown AI provider kind {settings.kind!r}") from None
    return factory(settings)
