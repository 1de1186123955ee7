"""Fixtures of the admin console's tests: a second app on the shared database (another
server process, as far as the auth cache is concerned), and apps on empty databases of
their own, for what only an empty instance shows (its first account becomes ADMIN) or
needs (knowing who its only administrator is)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from atelier.app import create_app
from atelier.config import Settings
from tests.conftest import _pg_database, _upgrade
from tests.factories import Api


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[Any, Api]]:
    """An app made from ``settings`` and an API client of it; closed after."""
    application = create_app(settings)
    transport = ASGITransport(app=application)
    try:
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            yield application, Api(http)
    finally:
        await application.state.ai.providers.aclose()
        await application.state.engine.dispose()


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[tuple[Any, Api]]:
    """App B: a second app on the test database, with an auth cache of its own."""
    async with serving(settings) as pair:
        yield pair


@dataclass
class Instance:
    """An app on an empty database of its own."""

    app: Any
    api: Api


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of the back end the test runs on."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        _upgrade(url)
        yield url
    else:
        for url in _pg_database():
            _upgrade(url)
            yield url


@pytest.fixture
async def empty_instance(empty_database_url: str, tmp_path: Path) -> AsyncIterator[Instance]:
    settings = Settings(
        env="test",
        database_url=empty_database_url,
        data_dir=tmp_path / "data",
        login_refusal_delay_seconds=0,
    )
    async with serving(settings) as (application, api):
        yield Instance(app=application, api=api)
