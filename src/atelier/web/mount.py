"""Where the web UI joins the app: static files, page routes, HTML error pages."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from atelier.web import (
    auth_pages,
    pages_account,
    pages_artifact_actions,
    pages_jobs,
    pages_orgs,
    pages_projects,
    pages_sdp,
    pages_strategy,
    pages_versions,
)
from atelier.web.errors import install_web_error_handlers
from atelier.web.templating import HERE

# Page routers of each area, included in this order (see their modules).
PAGE_ROUTERS = [
    auth_pages.router,
    pages_projects.router,
    pages_account.router,
    pages_jobs.router,
    pages_orgs.router,
    pages_strategy.router,
    pages_sdp.router,
    pages_artifact_actions.router,
    pages_versions.router,
]


def mount_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in PAGE_ROUTERS:
        app.include_router(router)
    install_web_error_handlers(app)
