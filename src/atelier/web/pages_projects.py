"""Pages of the web UI: the projects dashboard and a project's page (a pack's own page, or
the generic one), with what the project pages share. Creating a project is
``pages_project_new``; a project's settings ``pages_project_settings``.

Reads go through the services with the caller's access checked by ``load_project`` (a
project of someone else is the 404 page). Writes are form posts: CSRF checked, the
service called, then a 303 redirect carrying a ``?msg=`` code that names one of the fixed
notices below (no text from the URL is ever shown).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import org_service
from atelier.accounts import service as accounts
from atelier.accounts.models import Organization, OrgRole
from atelier.accounts.principal import Principal
from atelier.ai.tools import load_tools
from atelier.artifacts import service as artifacts
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.core.errors import AtelierError
from atelier.core.packs import packs, resolve
from atelier.core.pagination import decode_cursor
from atelier.projects import service
from atelier.projects.access import Need, ProjectAccess, load_project
from atelier.projects.catalog import DEFAULT_PACK
from atelier.projects.models import Phase, Project, ProjectStatus
from atelier.projects.templates import list_templates
from atelier.web.ai_readiness import ai_ready
from atelier.web.flash import notice_of
from atelier.web.pages_artifacts import project_notice
from atelier.web.session import WebUser
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


def notice(msg: str | None) -> dict[str, str] | None:
    return notice_of(NOTICES, msg)


def enum_or_none(kind: type[E], value: str | None) -> E | None:
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


async def memberships(session: AsyncSession, user: Principal) -> list[tuple[Organization, OrgRole]]:
    """The user's organizations and their role in each (one page: nobody is in hundreds)."""
    rows, _ = await org_service.list_organizations(session, user=user, cursor=None, limit=200)
    return rows


async def writable_orgs(session: AsyncSession, user: Principal) -> list[Organization]:
    """Where the user may add projects; the service checks the same roles on every write."""
    return [org for org, role in await memberships(session, user) if role in org_service.WRITERS]


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


def optional_id(value: str) -> uuid.UUID | None:
    """A form's id field: None when empty; ValueError when it is not an id."""
    return uuid.UUID(value) if value else None


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
    orgs = [org for org, _ in await memberships(session, user)]
    org = _org_or_none(organization, orgs)
    filters = {
        "q": q,
        "pack": pack if pack in PACK_LABELS else "",
        "status": status if enum_or_none(ProjectStatus, status) else "",
        "phase": phase if enum_or_none(Phase, phase) else "",
        "organization": str(org.id) if org else "",
    }
    cursor = _valid_cursor(cursor)
    rows, more = await service.list_projects(
        session,
        user=user,
        cursor=cursor,
        limit=PAGE_SIZE,
        pack=pack if pack in PACK_LABELS else None,
        status=enum_or_none(ProjectStatus, status),
        phase=enum_or_none(Phase, phase),
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
