"""Application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from atelier import __version__
from atelier.accounts.endpoints import router as accounts_router
from atelier.accounts.org_endpoints import router as organizations_router
from atelier.accounts.principal import AuthCache
from atelier.artifacts.endpoints import artifact_router, project_artifacts_router
from atelier.config import Settings, get_settings
from atelier.core.db import make_engine, make_sessionmaker
from atelier.core.handlers import install_error_handlers
from atelier.core.limits import BodySizeLimit
from atelier.core.logging import configure_logging
from atelier.projects.endpoints import router as projects_router

API_PREFIX = "/api/v1"


def include_api(app: FastAPI) -> None:
    # Included straight into the app (not through a parent router) so that matching a
    # request walks one flat list of routes.
    for router in (accounts_router, organizations_router, projects_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(project_artifacts_router, prefix=API_PREFIX)
    # Seed 000 calls artifacts "models": both paths reach the same handlers.
    app.include_router(artifact_router, prefix=f"{API_PREFIX}/artifacts", tags=["artifacts"])
    app.include_router(
        artifact_router, prefix=f"{API_PREFIX}/models", tags=["models (alias of artifacts)"]
    )


def tune_gc_for_serving() -> None:
    """Requests allocate many short-lived objects (ORM rows, schemas) that reference
    counting frees anyway; with the default threshold the cyclic collector ran every few
    requests and showed up as latency spikes. Objects alive after start-up are frozen out
    of its scans."""
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tune_gc_for_serving()
        yield
        await engine.dispose()

    app = FastAPI(
        title="Atelier",
        version=__version__,
        description="AI-assisted structured work: projects, tools, versioned artifacts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.auth_cache = AuthCache(ttl=settings.auth_cache_seconds)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    include_api(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
