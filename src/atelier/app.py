"""Application factory."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier import __version__
from atelier.accounts import plans
from atelier.accounts.admin_endpoints import router as admin_router
from atelier.accounts.billing_endpoints import router as billing_router
from atelier.accounts.endpoints import router as accounts_router
from atelier.accounts.lifecycle import SWEEP_SECONDS, sweeper
from atelier.accounts.org_endpoints import router as organizations_router
from atelier.accounts.pin_endpoints import router as pin_router
from atelier.accounts.principal import AuthCache
from atelier.accounts.throttle import LoginThrottle, policy_from

# Imported for their @task registrations: the engine's job kinds.
from atelier.ai import generation_job as _generation_tasks  # noqa: F401
from atelier.ai import smart_populate as _smart_populate_tasks  # noqa: F401
from atelier.ai.endpoints import audit_router, providers_router, tools_router
from atelier.ai.runtime import AIRuntime, ProviderPool
from atelier.ai.subscription import router as subscription_router
from atelier.ai.tools import load_tools
from atelier.api import artifacts as artifact_ai_routes
from atelier.api import projects as project_routes
from atelier.api import stages as stage_ai_routes
from atelier.artifacts.endpoints import artifact_router, project_artifacts_router
from atelier.config import Settings, get_settings

# Imported for its @task registration: the assistant's chat replies.
from atelier.conversations import reply_job as _reply_tasks  # noqa: F401
from atelier.conversations.endpoints import router as conversations_router
from atelier.core.crypto import Cipher
from atelier.core.db import make_engine, make_sessionmaker
from atelier.core.handlers import install_error_handlers
from atelier.core.limits import BodySizeLimit
from atelier.core.logging import configure_logging
from atelier.core.openapi import install_openapi
from atelier.core.packs import packs, resolve
from atelier.core.security import password_gate
from atelier.core.storage import Storage, make_storage
from atelier.exports.endpoints import artifact_export_router, project_export_router
from atelier.exports.pdf_process import renderer as pdf_renderer
from atelier.jobs.dispatch import ProcrastinateDispatch
from atelier.jobs.endpoints import router as jobs_router
from atelier.jobs.events import EventBus
from atelier.jobs.runner import JobRunner
from atelier.jobs.tasks import handlers_for
from atelier.mcp import server as mcp_server
from atelier.mcp.endpoints import router as mcp_tokens_router
from atelier.projects.endpoints import router as projects_router
from atelier.projects.pack_endpoints import router as packs_router
from atelier.projects.template_endpoints import router as templates_router
from atelier.stages.endpoints import router as stages_router

# Imported for its @task registration: the upload processing job.
from atelier.uploads import processing as _upload_tasks  # noqa: F401
from atelier.uploads.endpoints import router as uploads_router
from atelier.uploads.isolated import extractor as upload_reader
from atelier.uploads.kinds import largest_limit
from atelier.web.mount import mount_web, upload_limits
from atelier.web.pages_admin_figures import api_router as admin_figures_router

API_PREFIX = "/api/v1"
# Multipart boundaries, part headers and the small fields around an uploaded file.
UPLOAD_FORM_OVERHEAD = 64 * 1024


def include_api(app: FastAPI) -> None:
    # Included straight into the app (not through a parent router) so that matching a
    # request walks one flat list of routes.
    for router in (
        accounts_router,
        organizations_router,
        project_routes.router,
        projects_router,
        stages_router,
        stage_ai_routes.router,
        templates_router,
        mcp_tokens_router,
        artifact_ai_routes.project_artifacts_router,
        project_artifacts_router,
        providers_router,
        tools_router,
        audit_router,
        jobs_router,
        project_export_router,
        packs_router,
        uploads_router,
        conversations_router,
        billing_router,
        subscription_router,
        admin_router,
        pin_router,
        admin_figures_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    # Each installed pack's own routes (PackSpec.api_routers).
    for spec in packs.all():
        for reference in spec.api_routers:
            app.include_router(resolve(reference), prefix=API_PREFIX)
    # Seed 000 calls artifacts "models": both paths reach the same handlers.
    for prefix, tag in (("artifacts", "artifacts"), ("models", "models (alias of artifacts)")):
        app.include_router(artifact_router, prefix=f"{API_PREFIX}/{prefix}", tags=[tag])
        app.include_router(
            artifact_ai_routes.artifact_router, prefix=f"{API_PREFIX}/{prefix}", tags=[tag]
        )
        app.include_router(artifact_export_router, prefix=f"{API_PREFIX}/{prefix}", tags=[tag])


def build_runtime(
    settings: Settings, maker: async_sessionmaker[AsyncSession], storage: Storage | None = None
) -> AIRuntime:
    return AIRuntime(
        settings=settings,
        maker=maker,
        cipher=Cipher(settings.encryption_key_list()),
        tools=load_tools(),
        providers=ProviderPool(),
        steps=asyncio.Semaphore(settings.job_step_concurrency),
        storage=storage if storage is not None else make_storage(settings),
    )


def build_runner(runtime: AIRuntime, events: EventBus, *, dialect: str) -> JobRunner:
    """The job runner, with every registered handler (``jobs.tasks``) bound to ``runtime``."""
    settings = runtime.settings
    runner = JobRunner(
        runtime.maker,
        events,
        handlers_for(runtime),
        concurrency=settings.job_concurrency,
        stale_seconds=settings.job_stale_seconds,
        dialect=dialect,
        queue=settings.job_queue,
        keep_progress_seconds=settings.job_progress_keep_days * 86400 or None,
        # Trials, cancellations and late payments that end by the calendar.
        periodic=(
            (SWEEP_SECONDS, sweeper(runtime.maker, grace_days=settings.past_due_grace_days)),
        ),
        delivery=(
            ProcrastinateDispatch(
                database_url=settings.resolved_database_url,
                queue=settings.job_queue,
                concurrency=settings.job_concurrency,
                worker_name=f"atelier-{os.getpid()}",
            )
            if dialect == "postgresql"
            else None
        ),
    )
    return runner


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
    # A mistyped plan catalogue stops the start, not the first request it would limit.
    plans.catalogue(settings)
    engine = make_engine(settings)
    pdf_renderer.timeout = settings.pdf_timeout_seconds

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_gc_for_serving()
        runner: JobRunner | None = app.state.jobs
        if runner is not None:
            await runner.start()
        try:
            async with mcp_server.running(app):
                yield
        finally:
            if runner is not None:
                await runner.stop()
            await app.state.ai.providers.aclose()
            await engine.dispose()
            pdf_renderer.shutdown()
            upload_reader.shutdown()

    app = FastAPI(
        title="Atelier",
        version=__version__,
        description="AI-assisted structured work: projects, tools, versioned artifacts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine, settings)
    app.state.auth_cache = AuthCache(ttl=settings.auth_cache_seconds)
    app.state.login_throttle = LoginThrottle(app.state.sessionmaker, policy_from(settings))
    password_gate.configure(
        settings.password_hash_concurrency,
        settings.password_hash_queue,
        settings.login_refusal_delay_seconds,
    )
    app.state.storage = make_storage(settings)
    app.state.ai = build_runtime(settings, app.state.sessionmaker, app.state.storage)
    app.state.events = EventBus(app.state.sessionmaker)
    app.state.jobs = (
        build_runner(app.state.ai, app.state.events, dialect=engine.dialect.name)
        if settings.run_jobs_in_process
        else None
    )
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        per_path={
            "/api/v1/projects/import": settings.max_import_bytes,
            # The uploads parser cuts each file at its kind's limit with a clearer answer;
            # the body may be that plus the form's own bytes.
            f"{API_PREFIX}/uploads": largest_limit(settings) + UPLOAD_FORM_OVERHEAD,
            **upload_limits(settings),
        },
    )
    include_api(app)
    mount_web(app)
    mcp_server.mount(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
