"""The Local models tab of the account settings, ``/settings/models``: the catalog of
models this server can run itself, which are installed, and the command that installs
one (installing is for the administrator, on the server: ``atelier models install``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from atelier.ai import local_models
from atelier.web.session import WebUser
from atelier.web.settings_tabs import app_settings, settings_page

router = APIRouter(include_in_schema=False)


@router.get("/settings/models", response_class=HTMLResponse)
async def local_models_page(request: Request, user: WebUser) -> Response:
    settings = app_settings(request)
    statuses = local_models.list_models(settings)
    return settings_page(
        request,
        "models",
        "account/models.html",
        {
            "models": statuses,
            "installed": [m for m in statuses if m.installed],
            "configured": local_models.configured_model(settings),
            "instance_kind": settings.ai_provider,
            "size": human_size,
        },
    )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns
