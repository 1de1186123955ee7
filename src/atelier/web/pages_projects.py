"""Pages of the web UI: the projects dashboard, creating a project, a project's page (a
pack's own page, or the generic one) and its settings.

Reads go through the services with the caller's access checked by ``load_project`` (a
project of someone else is the 404 page). Writes are form posts: CSRF checked, the
service called, then a 303 redirect carrying a ``?msg=`` code that names one of the fixed
notices below (no text from the URL is ever shown).
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import org_service
from atelier.accounts import service as accounts
from atelier.accounts.models import Organization
from atelier.accounts.principal import Principal
from atelier.ai import service as ai_service
from atelier.ai.tools import load_tools
from atelier.artifacts import service as artifacts
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, InvalidInput, NotFound
from atelier.core.pagination import decode_cursor
from atelier.packs.sdp.stages import BY_NUMBER as SDP_STAGES
from atelier.projects import service
from atelier.projects.access import Need, ProjectAccess, load_project
from atelier.projects.models import Pack, Phase, Project, ProjectStatus
from atelier.projects.schemas import ProjectCreate
from atelier.projects.templates import list_templates
from atelier.web.flash import FormText, notice_of
from atelier.web.pages_account import ai_ready
from atelier.web.pages_artifacts import project_notice
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

PageHandler = Callable[[Request, AsyncSession, ProjectAccess], Awaitable[Response]]
E = TypeVar("E", bound=enum.Enum)

PAGE_SIZE = 24
ARTIFACTS_PAGE = 50

# The kinds of project a person can start blank, as the form offers them.
PACK_CHOICES = (
    (
        "strategy",
        "Strategy",
        "Double-diamond phases (discover, define, develop, deliver) with tools such as "
        "the customer journey, value proposition and business model canvas.",
    ),
    (
        "sdp",
        "Software design",
        "Nine stages from the product definition to the data model, SQL, API, stack and "
        "an export package for coding agents.",
    ),
    ("general", "General", "Free-form AI briefs and artifacts, for anything else."),
)
PACK_LABELS = {pack: label for pack, label, _ in PACK_CHOICES}

# The pages other areas provide for their packs (``project_page(request, session, access)``).
PACK_PAGES = {Pack.STRATEGY: "atelier.web.pages_strategy", Pack.SDP: "atelier.web.pages_sdp"}

# ?msg= codes → the notice shown after a redirect.
NOTICES: dict[str, tuple[str, str]] = {
    "deleted": ("ok", "Project moved to the trash. You can restore it from the Trash."),
    "restored": ("ok", "Project restored."),
    "saved": ("ok", "Project details saved."),
    "archived": ("ok", "Project archived: it stays readable and can be unarchived here."),
    "unarchived": ("ok", "Project is active again."),
    "provider": ("ok", "AI provider for this project saved."),
    "shared": ("ok", "Sharing saved."),
    "expired": ("error", "The form expired. Please try again."),
}


def notice(msg: str | None) -> dict[str, str] | None:
    return notice_of(NOTICES, msg)


def _enum_or_none(kind: type[E], value: str | None) -> E | None:
    """A filter value, or None for "all" and for anything that is not one (edited URLs)."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _valid_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        decode_cursor(cursor)
    except AtelierError:
        return None
    return cursor


def ago(when: dt.datetime | None) -> str:
    """How long ago, as people read an update time on a card ("3 hours ago")."""
    if when is None:
        return "—"
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    seconds = int((utcnow() - when).total_seconds())
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    for size, unit in ((3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def progress(project: Project) -> str:
    """Where a project is: its SDP stage or its double-diamond phase."""
    if project.pack == Pack.SDP and project.current_stage:
        spec = SDP_STAGES.get(project.current_stage)
        label = f" · {spec.label}" if spec else ""
        return f"Stage {project.current_stage} of {len(SDP_STAGES)}{label}"
    if project.pack == Pack.STRATEGY:
        return f"Phase: {project.phase.value.capitalize()}"
    return ""


HELPERS = {"ago": ago, "progress": progress, "pack_label": PACK_LABELS}


# ------------------------------------------------------------------ dashboard
@router.get("/projects", response_class=HTMLResponse)
async def projects(
    request: Request,
    user: WebUser,
    session: DB,
    q: str = "",
    pack: str = "",
    status: str = "",
    phase: str = "",
    deleted: str = "",
    cursor: str | None = None,
    welcome: str = "",
    msg: str | None = None,
) -> Response:
    trash = deleted.lower() in ("true", "1", "on", "yes")
    q = q.strip()[:200]
    filters = {
        "q": q,
        "pack": pack if _enum_or_none(Pack, pack) else "",
        "status": status if _enum_or_none(ProjectStatus, status) else "",
        "phase": phase if _enum_or_none(Phase, phase) else "",
    }
    cursor = _valid_cursor(cursor)
    rows, more = await service.list_projects(
        session,
        user=user,
        cursor=cursor,
        limit=PAGE_SIZE,
        pack=_enum_or_none(Pack, pack),
        status=_enum_or_none(ProjectStatus, status),
        phase=_enum_or_none(Phase, phase),
        search=q or None,
        deleted=trash,
    )
    base_query = {k: v for k, v in filters.items() if v} | ({"deleted": "true"} if trash else {})
    more_query = urlencode(base_query | {"cursor": more}) if more else ""
    context: dict[str, Any] = {
        "nav": "projects",
        "projects": rows,
        "trash": trash,
        "filters": filters,
        "filtered": any(filters.values()),
        "more_query": more_query,
        **HELPERS,
    }
    if cursor and request.headers.get("HX-Request"):
        # "Load more" through htmx: only the next cards (and the next button, out of band).
        return render(request, "projects/_cards.html", {**context, "partial": True})
    first_run = not rows and not trash and not context["filtered"] and cursor is None
    context |= {
        "cursor": cursor,
        "flash": notice(msg),
        "ready": await ai_ready(request, session, user),
        "welcome_name": await _welcome_name(session, user) if welcome else None,
        "templates": await list_templates(session, user=user) if first_run else [],
        "packs": PACK_CHOICES,
        "statuses": list(ProjectStatus),
        "phases": list(Phase),
    }
    return render(request, "projects/list.html", context)


async def _welcome_name(session: AsyncSession, user: Principal) -> str:
    return (await accounts.load_user(session, user)).name


# ------------------------------------------------------------------ create
@router.get("/projects/new", response_class=HTMLResponse)
async def new_project(
    request: Request, user: WebUser, session: DB, template: str = "", pack: str = ""
) -> Response:
    values = {"name": "", "description": "", "start": "blank", "pack": "strategy"}
    if template:
        values["start"] = template
    if pack in PACK_LABELS:
        values["pack"] = pack
    return await _new_page(request, session, user, values, {})


async def _new_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> Response:
    return render(
        request,
        "projects/new.html",
        {
            "nav": "projects",
            "values": values,
            "errors": errors,
            "templates": await list_templates(session, user=user),
            "packs": PACK_CHOICES,
            "max_import_mb": request.app.state.settings.max_import_bytes // (1024 * 1024),
            **HELPERS,
        },
        status=status,
    )


def _creation_errors(error: ValidationError) -> dict[str, str]:
    names = {"name": "name", "description": "description", "pack": "pack", "template_id": "start"}
    errors: dict[str, str] = {}
    for problem in error.errors():
        field = names.get(str(problem["loc"][0]) if problem["loc"] else "", "name")
        errors.setdefault(field, str(problem["msg"]).removeprefix("Value error, "))
    return errors


@router.post("/projects/new", response_class=HTMLResponse)
async def create_project(
    request: Request,
    user: WebUser,
    session: DB,
    name: FormText = "",
    description: FormText = "",
    start: FormText = "blank",
    pack: FormText = "strategy",
    csrf_token: FormText = "",
) -> Response:
    values = {"name": name, "description": description, "start": start, "pack": pack}
    errors: dict[str, str] = {}
    if not csrf_ok(request, csrf_token):
        errors["form"] = "The form expired. Please try again."
        return await _new_page(request, session, user, values, errors, status=400)
    template_id: uuid.UUID | None = None
    if start and start != "blank":
        try:
            template_id = uuid.UUID(start)
        except ValueError:
            errors["start"] = "Choose a template from the list, or a blank project."
    if template_id is None and pack not in PACK_LABELS:
        errors["pack"] = "Choose the kind of project."
    if not name.strip():
        errors["name"] = "Give the project a name."
    try:
        body = ProjectCreate(
            name=name.strip(),
            description=description.strip() or None,
            pack=Pack(pack) if pack in PACK_LABELS else Pack.GENERAL,
            template_id=template_id,
        )
    except ValidationError as error:
        errors = _creation_errors(error) | errors
    if errors:
        return await _new_page(request, session, user, values, errors, status=422)
    try:
        project = await service.create_project(
            session,
            user=user,
            name=body.name,
            description=body.description,
            pack=body.pack,
            template_id=body.template_id,
        )
    except InvalidInput:  # the template is gone or is not the user's
        errors = {"start": "This template does not exist (any more); choose another."}
        return await _new_page(request, session, user, values, errors, status=422)
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


# ------------------------------------------------------------------ project page
def _pack_page(pack: Pack) -> PageHandler | None:
    """The pack's own page, if its area provides one yet."""
    module_name = PACK_PAGES.get(pack)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    handler = getattr(module, "project_page", None)
    return handler if callable(handler) else None


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def project_page(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    cursor: str | None = None,
) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.READ)
    handler = _pack_page(access.project.pack)
    if handler is not None:
        return await handler(request, session, access)
    return await generic_page(request, session, access, cursor=_valid_cursor(cursor))


async def generic_page(
    request: Request, session: AsyncSession, access: ProjectAccess, *, cursor: str | None = None
) -> Response:
    """Any project without a page of its own (general ones): its tools as cards that open
    the tool form, its artifacts (each opens on the artifact's page) and its exports."""
    project = access.project
    rows, more = await artifacts.list_artifacts(
        session, project=project, cursor=cursor, limit=ARTIFACTS_PAGE
    )
    every_tool = load_tools().all()
    # What the tool form accepts for this project: its own pack's tools and the general ones.
    packs = {project.pack.value, Pack.GENERAL.value}
    tools = [t for t in every_tool if t.pack in packs]
    return render(
        request,
        "projects/detail.html",
        {
            "nav": "projects",
            "project": project,
            "access": access,
            "can_write": access.level >= Need.WRITE,
            "artifacts": rows,
            "next_cursor": more,
            "cursor": cursor,
            "ready": await ai_ready(request, session, access.user),
            "tools": tools,
            "tool_titles": {t.key: t.title for t in every_tool},
            "flash": project_notice(request),
            **HELPERS,
        },
    )


# ------------------------------------------------------------------ settings
@router.get("/projects/{project_id}/settings", response_class=HTMLResponse)
async def project_settings(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.READ)
    return await _settings_page(request, session, access, flash=notice(msg))


async def _settings_page(
    request: Request,
    session: AsyncSession,
    access: ProjectAccess,
    *,
    flash: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    project, user = access.project, access.user
    configs, _ = await ai_service.list_configs(session, user=user, cursor=None, limit=200)
    orgs, _ = await org_service.list_organizations(session, user=user, cursor=None, limit=200)
    writable = [org for org, role in orgs if role in org_service.WRITERS]
    current_org = await _current_org(session, project, writable)
    return render(
        request,
        "projects/settings.html",
        {
            "nav": "projects",
            "project": project,
            "level": access.level,
            "can_write": access.level >= Need.WRITE,
            "can_manage": access.level >= Need.MANAGE,
            "configs": configs,
            "orgs": writable,
            "current_org": current_org,
            "values": values or {"name": project.name, "description": project.description or ""},
            "errors": errors or {},
            "flash": flash,
            **HELPERS,
        },
        status=status,
    )


async def _current_org(
    session: AsyncSession, project: Project, writable: list[Organization]
) -> Organization | None:
    """The project's organization, also when the user cannot add projects to it."""
    if project.organization_id is None:
        return None
    for org in writable:
        if org.id == project.organization_id:
            return org
    return await session.get(Organization, project.organization_id)


def _to_settings(project_id: uuid.UUID, msg: str) -> Response:
    return RedirectResponse(f"/projects/{project_id}/settings?msg={msg}", status_code=303)


@router.post("/projects/{project_id}/settings", response_class=HTMLResponse)
async def save_details(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    name: FormText = "",
    description: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    values = {"name": name, "description": description}
    errors = {}
    if not 1 <= len(name.strip()) <= 200:
        errors["name"] = "Give the project a name of 1 to 200 characters."
    if len(description) > 10_000:
        errors["description"] = "Keep the description under 10,000 characters."
    if errors:
        return await _settings_page(
            request, session, access, values=values, errors=errors, status=422
        )
    await service.update_project(
        session,
        access=access,
        changes={"name": name.strip(), "description": description.strip() or None},
    )
    return _to_settings(project_id, "saved")


@router.post("/projects/{project_id}/status")
async def change_status(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    status: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    archive = status == ProjectStatus.ARCHIVED.value
    new_status = ProjectStatus.ARCHIVED if archive else ProjectStatus.ACTIVE
    await service.update_project(session, access=access, changes={"status": new_status})
    return _to_settings(project_id, "archived" if archive else "unarchived")


@router.post("/projects/{project_id}/provider", response_class=HTMLResponse)
async def choose_provider(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    ai_provider_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    chosen: uuid.UUID | None = None
    if ai_provider_id:
        try:
            config = await ai_service.load_config(
                session, user=user, config_id=uuid.UUID(ai_provider_id)
            )
        except (ValueError, NotFound):
            errors = {"ai_provider_id": "Choose one of your AI providers."}
            return await _settings_page(request, session, access, errors=errors, status=422)
        chosen = config.id
    await service.update_project(session, access=access, changes={"ai_provider_id": chosen})
    return _to_settings(project_id, "provider")


@router.post("/projects/{project_id}/organization", response_class=HTMLResponse)
async def share(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    organization_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.MANAGE)
    try:
        org_id = uuid.UUID(organization_id) if organization_id else None
        await service.update_project(session, access=access, changes={"organization_id": org_id})
    except (ValueError, AtelierError) as error:
        message = getattr(error, "detail", None)
        text = message if isinstance(message, str) else "Choose one of your organizations."
        errors = {"organization_id": text}
        return await _settings_page(request, session, access, errors=errors, status=422)
    return _to_settings(project_id, "shared")


@router.post("/projects/{project_id}/delete")
async def delete_project(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.MANAGE)
    await service.soft_delete(session, project=access.project)
    return RedirectResponse("/projects?msg=deleted", status_code=303)


@router.post("/projects/{project_id}/restore")
async def restore_project(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return RedirectResponse("/projects?deleted=true&msg=expired", status_code=303)
    access = await load_project(
        session, user=user, project_id=project_id, need=Need.MANAGE, include_deleted=True
    )
    if access.project.deleted_at is not None:
        await service.restore(session, project=access.project)
    return RedirectResponse("/projects?msg=restored", status_code=303)
