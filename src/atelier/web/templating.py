"""Jinja2 for pages: one environment, the globals every page uses, and ``render``."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import FileSystemLoader
from markupsafe import Markup

from atelier import __version__
from atelier.ai.local_models import DEFAULT_MODEL
from atelier.core.packs import packs, resolve_folder
from atelier.web.session import FORM_COOKIE, page_csrf

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
env = templates.env
env.globals["version"] = __version__
# The embedded model `make run` installs, named in the "no provider" hints.
env.globals["default_local_model"] = DEFAULT_MODEL


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _tojson_attr(value: Any) -> Markup:
    """JSON for a data-* attribute (escaped for HTML by autoescape)."""
    return Markup.escape(json.dumps(value, ensure_ascii=False))


def _field_path(path: str) -> str:
    """A field path for people: "value_map.pain_relievers[0].reliever" reads
    "Value map / Pain relievers 1 / Reliever"."""
    parts = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        label = name.replace("_", " ").capitalize() if name else ""
        numbers = [str(int(i) + 1) for i in re.findall(r"\d+", rest)]
        parts.append(" ".join([label, *numbers]).strip())
    return " / ".join(p for p in parts if p)


env.filters["when"] = _when
env.filters["field_path"] = _field_path
env.filters["jsonattr"] = _tojson_attr


def vendor_available(name: str) -> bool:
    return (HERE / "static" / "vendor" / name).is_file()


env.globals["vendor_available"] = vendor_available


def use_pack_templates() -> None:
    """Search the engine's templates, then each installed pack's (``PackSpec.web_templates``).
    Called when the web UI is mounted, once the registry is complete."""
    folders = [str(HERE / "templates")]
    folders += [str(resolve_folder(s.web_templates)) for s in packs.all() if s.web_templates]
    current = env.loader
    # A new loader empties Jinja's cache of compiled templates: only when the list changed.
    if not isinstance(current, FileSystemLoader) or current.searchpath != folders:
        env.loader = FileSystemLoader(folders)


def pack_badge_style(key: str) -> str:
    """The inline style of a pack's badge (``PackSpec.badge_colors``); the default grey
    for a pack that is no longer installed."""
    spec = packs.get(key)
    background, text = spec.badge_colors if spec is not None else ("#eef1f5", "#5b6472")
    return f"background: {background}; color: {text}"


env.globals["pack_badge_style"] = pack_badge_style


def pack_nav() -> list[Any]:
    """The installed packs' navigation entries (``PackSpec.nav``), in pack order."""
    return [entry for spec in packs.all() for entry in getattr(spec, "nav", ())]


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    ctx = {
        "request": request,
        "csrf": page_csrf(request),
        "user": getattr(request.state, "web_user", None),
        "pack_nav": pack_nav(),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    form_cookie = getattr(request.state, "new_form_cookie", None)
    if form_cookie:
        response.set_cookie(
            FORM_COOKIE, form_cookie, httponly=True, samesite="lax", secure=_secure(request)
        )
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"
