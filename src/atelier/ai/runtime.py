"""What the AI engine needs at run time, built once per app (or CLI, or worker)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.ai.providers.base import Provider, ProviderSettings
from atelier.ai.providers.registry import build_provider
from atelier.ai.tools import ToolRegistry
from atelier.config import Settings
from atelier.core.crypto import Cipher


@dataclass
class ProviderPool:
    """One provider client per configuration, reused across calls (connection pools)."""

    factory: Callable[[ProviderSettings], Provider] = build_provider
    _cache: dict[tuple[object, ...], Provider] = field(default_factory=dict)

    def get(self, key: tuple[object, ...], settings: ProviderSettings) -> Provider:
        provider = self._cache.get(key)
        if provider is None:
            provider = self.factory(settings)
            self._cache[key] = provider
        return provider

    async def aclose(self) -> None:
        providers, self._cache = list(self._cache.values()), {}
        for provider in providers:
            await provider.aclose()


@dataclass
class AIRuntime:
    settings: Settings
    maker: async_sessionmaker[AsyncSession]
    cipher: Cipher
    tools: ToolRegistry
    providers: ProviderPool
