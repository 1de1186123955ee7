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
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import org_service
from atelier.accounts import service as accounts
from atelier.accounts.models import Organization, OrgRole
from atelier.accounts.principal import Principal
from atelier.ai import service as ai_service
from atelier.ai.tools import load_tools
from atelier.artifacts import service as artifacts
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, Forbidden, InvalidInput, NotFound
from atelier.core.packs import packs, resolve
from atelier.core.pagination import decode_cursor
from atelier.projects import service
from atelier.projects.access import Need, ProjectAccess, load_project
from atelier.projects.catalog import DEFAULT_PACK
from atelier.projects.models import Phase, Project, ProjectStatus
from atelier.projects.schemas import ProjectCreate
from atelier.projects.templates import list_templates
from atelier.web.flash import FormText, notice_of
from atelier.web.forms import json_object
from atelier.web.pages_account import ai_ready
from atelier.web.pages_artifacts import project_notice
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

PageHandler = Callable[[Request, AsyncSession, ProjectAccess], Awaitable[Response]]
E = TypeVar("E", bound=enum.Enum)

PAGE_SIZE = 24
ARTIFACTS_PAGE = 50


class _PackLabels(Mapping[str, str]):
    """Pack key → label for the pages, read from the registry when asked (a pack added
    after this module was imported is listed too)."""

    def __getitem__(self, key: str) -> str:
        spec = packs.get(key)
        if spec is None:
            raise KeyError(key)
        return str(spec.label)

    def __iter__(self) -> Iterator[str]:
        return iter(packs.keys())

    def __len__(self) -> int:
        return len(packs.keys())


PACK_LABELS = _PackLabels()


def pack_choices() -> list[tuple[str, str, str]]:
    """The kinds of project a person can start blank, as the form offers them: every
    installed pack, in its order."""
    return [(spec.key, spec.label, spec.description) for spec in packs.all()]


# ?msg= codes → the notice shown after a redirect.
NOTICES: dict[str, tuple[str, str]] = {
    "deleted": ("ok", "Project moved to the trash. You can restore it from the Trash."),
    "restored": ("ok", "Project restored."),
    "saved": ("ok", "Project details saved."),
    # After a status change: the code is the new status.
    "active": ("ok", "Project is active again."),
    "completed": ("ok", "Project marked completed: it can be reopened here."),
    "suspended": ("ok", "Project suspended: resume it here when work picks up again."),
    "archived": ("ok", "Project archived: it stays readable and can be unarchived here."),
    "provider": ("ok", "AI provider for this project saved."),
    "shared": ("ok", "Sharing saved."),
    "expired": ("error", "The form expired. Please try again."),
}


# What each status means, as the settings page's select offers them. A status is a label
# for people (and the dashboard's filter): no status blocks editing or generating.
STATUS_CHOICES = (
    (ProjectStatus.ACTIVE, "Active", "Being worked on."),
    (ProjectStatus.COMPLETED, "Completed", "The work is done; it stays readable and editable."),
    (ProjectStatus.SUSPENDED, "Suspended", "On hold for now, to pick up again later."),
    (ProjectStatus.ARCHIVED, "Archived", "Put away; filter it out on the dashboard."),
)
# The one-click changes that make sense from each status (the select offers every one).
STATUS_ACTIONS: dict[ProjectStatus, tuple[tuple[ProjectStatus, str], ...]] = {
    ProjectStatus.ACTIVE: (
        (ProjectStatus.COMPLETED, "Mark completed"),
        (ProjectStatus.SUSPENDED, "Suspend project"),
        (ProjectStatus.ARCHIVED, "Archive project"),
    ),
    ProjectStatus.COMPLETED: (
        (ProjectStatus.ACTIVE, "Reopen project"),
        (ProjectStatus.ARCHIVED, "Archive project"),
    ),
    ProjectStatus.SUSPENDED: (
        (ProjectStatus.ACTIVE, "Resume project"),
        (ProjectStatus.ARCHIVED, "Archive project"),
    ),
    ProjectStatus.ARCHIVED: ((ProjectStatus.ACTIVE, "Unarchive project"),),
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


async def _memberships(
    session: AsyncSession, user: Principal
) -> list[tuple[Organization, OrgRole]]:
    """The user's organizations and their role in each (one page: nobody is in hundreds)."""
    rows, _ = await org_service.list_organizations(session, user=user, cursor=None, limit=200)
    return rows


async def _writable_orgs(session: AsyncSession, user: Principal) -> list[Organization]:
    """Where the user may add projects; the service checks the same roles on every write."""
    return [org for org, role in await _memberships(session, user) if role in org_service.WRITERS]


def _org_or_none(value: str, orgs: list[Organization]) -> Organization | None:
    """The filter's organization, or None for "any" and for one the user is not in."""
    try:
        wanted = uuid.UUID(value) if value else None
    except ValueError:
        return None
    return next((org for org in orgs if org.id == wanted), None)


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
    """Where a project is, as its pack says (``PackSpec.progress``): a pipeline stage, a
    double-diamond phase, or nothing."""
    spec = packs.get(project.pack)
    if spec is None or not spec.progress:
        return ""
    return str(resolve(spec.progress)(project))


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
    organization: str = "",
    deleted: str = "",
    cursor: str | None = None,
    welcome: str = "",
    msg: str | None = None,
) -> Response:
    trash = deleted.lower() in ("true", "1", "on", "yes")
    q = q.strip()[:200]
    # Any organization the user is in, viewers too: they see the projects shared with it.
    orgs = [org for org, _ in await _memberships(session, user)]
    org = _org_or_none(organization, orgs)
    filters = {
        "q": q,
        "pack": pack if pack in PACK_LABELS else "",
        "status": status if _enum_or_none(ProjectStatus, status) else "",
        "phase": phase if _enum_or_none(Phase, phase) else "",
        "organization": str(org.id) if org else "",
    }
    cursor = _valid_cursor(cursor)
    rows, more = await service.list_projects(
        session,
        user=user,
        cursor=cursor,
        limit=PAGE_SIZE,
        pack=pack if pack in PACK_LABELS else None,
        status=_enum_or_none(ProjectStatus, status),
        phase=_enum_or_none(Phase, phase),
        organization_id=org.id if org else None,
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
        "org_names": {o.id: o.name for o in orgs},
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
        "packs": pack_choices(),
        "statuses": list(ProjectStatus),
        "phases": list(Phase),
        "orgs": orgs,
    }
    return render(request, "projects/list.html", context)


async def _welcome_name(session: AsyncSession, user: Principal) -> str:
    return (await accounts.load_user(session, user)).name


# ------------------------------------------------------------------ create
def too_large(limit: int) -> str:
    """The import form's message for a file over the package limit (in bytes)."""
    return f"This file is too large: packages can be up to {limit // (1024 * 1024)} MB."


@router.get("/projects/new", response_class=HTMLResponse)
async def new_project(
    request: Request,
    user: WebUser,
    session: DB,
    template: str = "",
    pack: str = "",
    msg: str | None = None,
) -> Response:
    first = next(iter(PACK_LABELS), DEFAULT_PACK)
    values = {"name": "", "description": "", "start": "blank", "pack": first}
    if template:
        values["start"] = template
    if pack in PACK_LABELS:
        values["pack"] = pack
    # ?msg=too-large: an import too large to even reach its route was sent back here.
    limit = request.app.state.settings.max_import_bytes
    import_error = too_large(limit) if msg == "too-large" else None
    return await new_project_page(request, session, user, values, {}, import_error=import_error)


async def new_project_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    import_error: str | None = None,
    status: int = 200,
) -> Response:
    """The "New project" page; ``import_error`` is the package import form's (its own
    route, ``pages_import``, shows it here when a plain form post fails)."""
    return render(
        request,
        "projects/new.html",
        {
            "nav": "projects",
            "values": values,
            "errors": errors,
            "import_error": import_error,
            "templates": await list_templates(session, user=user),
            "packs": pack_choices(),
            "orgs": await _writable_orgs(session, user),
            "max_import_mb": request.app.state.settings.max_import_bytes // (1024 * 1024),
            **HELPERS,
        },
        status=status,
    )


# The service's field names → the form's, and what to say when the service refuses one.
_FORM_FIELDS = {
    "name": "name",
    "description": "description",
    "pack": "pack",
    "template_id": "start",
    "organization_id": "organization_id",
}
_REFUSED = {
    "start": "This template does not exist (any more); choose another.",
    "organization_id": "You are not in this organization (any more); choose another.",
}


def _creation_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.errors():
        field = _FORM_FIELDS.get(str(problem["loc"][0]) if problem["loc"] else "", "name")
        errors.setdefault(field, str(problem["msg"]).removeprefix("Value error, "))
    return errors


def _refused(error: InvalidInput) -> dict[str, str]:
    """The service's 422 (a template or organization that is not the user's), by field."""
    problems = error.detail if isinstance(error.detail, list) else []
    errors: dict[str, str] = {}
    for problem in problems:
        field = _FORM_FIELDS.get(str(problem.get("field", "")).removeprefix("body."), "form")
        errors.setdefault(field, _REFUSED.get(field, str(problem.get("message", ""))))
    return errors or {"form": "The project could not be created. Please try again."}


def _optional_id(value: str) -> uuid.UUID | None:
    """A form's id field: None when empty; ValueError when it is not an id."""
    return uuid.UUID(value) if value else None


@router.post("/projects/new", response_class=HTMLResponse)
async def create_project(
    request: Request,
    user: WebUser,
    session: DB,
    name: FormText = "",
    description: FormText = "",
    start: FormText = "blank",
    pack: FormText = "strategy",
    organization_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    values = {
        "name": name,
        "description": description,
        "start": start,
        "pack": pack,
        "organization_id": organization_id,
    }
    errors: dict[str, str] = {}
    if not csrf_ok(request, csrf_token):
        errors["form"] = "The form expired. Please try again."
        return await new_project_page(request, session, user, values, errors, status=400)
    template_id: uuid.UUID | None = None
    if start and start != "blank":
        try:
            template_id = uuid.UUID(start)
        except ValueError:
            errors["start"] = "Choose a template from the list, or a blank project."
    org_id: uuid.UUID | None = None
    try:
        org_id = _optional_id(organization_id)
    except ValueError:
        errors["organization_id"] = "Choose one of your organizations."
    if template_id is None and pack not in PACK_LABELS:
        errors["pack"] = "Choose the kind of project."
    if not name.strip():
        errors["name"] = "Give the project a name."
    try:
        body = ProjectCreate(
            name=name.strip(),
            description=description.strip() or None,
            pack=pack if pack in PACK_LABELS else DEFAULT_PACK,
            organization_id=org_id,
            template_id=template_id,
        )
    except ValidationError as error:
        errors = _creation_errors(error) | errors
    if errors:
        return await new_project_page(request, session, user, values, errors, status=422)
    try:
        project = await service.create_project(
            session,
            user=user,
            name=body.name,
            description=body.description,
            pack=body.pack,
            organization_id=body.organization_id,
            template_id=body.template_id,
        )
    except InvalidInput as error:  # the template or the organization is not the user's
        return await new_project_page(request, session, user, values, _refused(error), status=422)
    except Forbidden as error:  # a viewer of the organization (a stale or edited form)
        errors = {"organization_id": str(error.detail)}
        return await new_project_page(request, session, user, values, errors, status=422)
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


# ------------------------------------------------------------------ project page
def _pack_page(pack: str) -> PageHandler | None:
    """The pack's own project page (``PackSpec.project_page``), if it has one."""
    spec = packs.get(pack)
    if spec is None or not spec.project_page:
        return None
    handler = resolve(spec.project_page)
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
    offered = {project.pack, DEFAULT_PACK}
    tools = [t for t in every_tool if t.pack in offered]
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
    writable = await _writable_orgs(session, user)
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
            "status_choices": STATUS_CHOICES,
            "status_actions": STATUS_ACTIONS[project.status],
            "values": values
            or {
                "name": project.name,
                "description": project.description or "",
                "metadata": json.dumps(project.metadata_, indent=2, ensure_ascii=False)
                if project.metadata_
                else "",
            },
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
    metadata: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    values = {"name": name, "description": description, "metadata": metadata}
    errors = {}
    if not 1 <= len(name.strip()) <= 200:
        errors["name"] = "Give the project a name of 1 to 200 characters."
    if len(description) > 10_000:
        errors["description"] = "Keep the description under 10,000 characters."
    parsed = json_object(metadata)
    if parsed is None:
        errors["metadata"] = 'Write a JSON object, e.g. {"client": "Acme"}, or leave it empty.'
    if errors or parsed is None:
        return await _settings_page(
            request, session, access, values=values, errors=errors, status=422
        )
    await service.update_project(
        session,
        access=access,
        changes={
            "name": name.strip(),
            "description": description.strip() or None,
            "metadata": parsed,
        },
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
    new_status = _enum_or_none(ProjectStatus, status)
    if new_status is None:  # never "active" by default: an edited form changes nothing
        errors = {"status": "Choose one of the statuses."}
        return await _settings_page(request, session, access, errors=errors, status=422)
    await service.update_project(session, access=access, changes={"status": new_status})
    return _to_settings(project_id, new_status.value)


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
        org_id = _optional_id(organization_id)
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
