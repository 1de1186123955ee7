"""What the AI engine needs at run time, built once per app (or CLI, or worker)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.ai.providers.base import Provider, ProviderSettings
from atelier.ai.providers.registry import build_provider
from atelier.ai.tools import ToolRegistry
from atelier.config import Settings
from atelier.core.crypto import Cipher
from atelier.core.storage import Storage


@dataclass
class ProviderPool:
    """One provider client per configuration, reused across calls (connection pools)."""

    factory: Callable[[ProviderSettings], Provider] = build_provider
    # A replaced client is closed this long after its replacement (calls that started
    # with it may still be running; the longest provider timeout is a safe bound).
    retire_after_seconds: float = 900.0
    _cache: dict[tuple[object, ...], Provider] = field(default_factory=dict)
    _retiring: dict[asyncio.Task[None], Provider] = field(default_factory=dict)

    def get(self, key: tuple[object, ...], settings: ProviderSettings) -> Provider:
        provider = self._cache.get(key)
        if provider is None:
            provider = self.factory(settings)
            self._retire_older(key, provider)
            self._cache[key] = provider
        return provider

    def _retire_older(self, key: tuple[object, ...], new: Provider) -> None:
        """A config's key holds its ``updated_at``: a new key for the same config means
        the config changed, and the client built from the old version is dropped."""
        if len(key) < 3 or key[0] != "config":
            return
        stale = [k for k in self._cache if k[:2] == key[:2] and k != key]
        for old_key in stale:
            old = self._cache.pop(old_key)
            if old is new:  # a factory may hand out one shared client (tests do)
                continue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                continue
            task = loop.create_task(self._close_later(old))
            self._retiring[task] = old
            task.add_done_callback(lambda done: self._retiring.pop(done, None))

    async def _close_later(self, provider: Provider) -> None:
        await asyncio.sleep(self.retire_after_seconds)
        await provider.aclose()

    async def aclose(self) -> None:
        retiring, self._retiring = dict(self._retiring), {}
        for task in retiring:
            task.cancel()
        providers = [*self._cache.values(), *retiring.values()]
        self._cache = {}
        for provider in {id(p): p for p in providers}.values():
            await provider.aclose()


@dataclass
class AIRuntime:
    settings: Settings
    maker: async_sessionmaker[AsyncSession]
    cipher: Cipher
    tools: ToolRegistry
    providers: ProviderPool
    # Taken around each database step of a generation (settings.job_step_concurrency).
    steps: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    # Where files are kept (uploads, export packages): the same object as app.state.storage.
    storage: Storage | None = None
