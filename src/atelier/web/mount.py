"""Where the web UI joins the app: static files, page routes, HTML error pages."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from atelier.config import Settings
from atelier.core.packs import packs, resolve, resolve_folder
from atelier.web import (
    auth_pages,
    pages_account,
    pages_admin,
    pages_admin_pin,
    pages_artifact_actions,
    pages_artifacts,
    pages_chat,
    pages_import,
    pages_jobs,
    pages_orgs,
    pages_project_new,
    pages_project_settings,
    pages_projects,
    pages_tools,
    pages_uploads,
    pages_usage,
    pages_versions,
)
from atelier.web.errors import install_web_error_handlers
from atelier.web.templating import HERE, use_pack_templates

# Page routers of each area, included in this order (see their modules), before every
# pack's own (PackSpec.web_router): an engine route wins over a pack route it matches.
PAGE_ROUTERS = [
    auth_pages.router,
    # Before the projects' routes: /projects/import is not a /projects/{id}.
    pages_import.router,
    # Before the project page: /projects/new is not a /projects/{id}.
    pages_project_new.router,
    pages_projects.router,
    pages_project_settings.router,
    pages_account.router,
    pages_usage.router,
    pages_jobs.router,
    pages_uploads.router,
    # The chat pages and their forms (pages_chat includes pages_chat_actions).
    pages_chat.router,
    pages_orgs.router,
    pages_artifacts.router,
    # The tool form that starts an artifact, for any project.
    pages_tools.router,
    pages_artifact_actions.router,
    pages_versions.router,
    # The admin console (administrators only; a 404 to everyone else).
    pages_admin.router,
    pages_admin_pin.router,
]


def upload_limits(settings: Settings) -> dict[str, int]:
    """Page routes that take more than the app's body limit (``BodySizeLimit``'s per-path
    limits): the package import form, as large as the API's import allows."""
    return {pages_import.IMPORT_PATH: settings.max_import_bytes + pages_import.FORM_OVERHEAD}


def mount_web(app: FastAPI) -> None:
    use_pack_templates()
    # Each pack's static files (PackSpec.web_static), before the engine's /static, which
    # would otherwise take /static/packs/... for its own.
    for spec in packs.all():
        if spec.web_static:
            folder = resolve_folder(spec.web_static)
            app.mount(f"/static/packs/{spec.key}", StaticFiles(directory=folder))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in PAGE_ROUTERS:
        app.include_router(router)
    # Each installed pack's own pages (PackSpec.web_router).
    for spec in packs.all():
        if spec.web_router:
            app.include_router(resolve(spec.web_router))
    install_web_error_handlers(app)
    # Added after the app's body limit, so it runs first: an import form over the limit
    # is sent back to the form with a message instead of the limit's JSON.
    limit = upload_limits(app.state.settings)[pages_import.IMPORT_PATH]
    app.add_middleware(pages_import.OversizeImport, max_bytes=limit)
