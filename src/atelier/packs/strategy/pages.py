"""Pages of the strategy pack: a strategy project (the double diamond and its tools), and
its phase.

``project_page`` is what ``/projects/{id}`` shows for a project of pack "strategy"
(``PackSpec.project_page``); the same page is also served at ``/strategy/{id}``
(``router``, the pack's ``PackSpec.web_router``). The tool form that starts an artifact
(``/projects/{id}/tools/{key}/new``) and the artifact pages are the engine's
(``atelier.web.pages_tools``, ``atelier.web.pages_artifacts``): every pack's projects
use them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.ai.tools import Tool, load_tools
from atelier.artifacts import service as artifacts
from atelier.artifacts.models import Artifact
from atelier.core.deps import DB
from atelier.jobs.models import Job, JobStatus
from atelier.projects import service as projects
from atelier.projects.access import Need, ProjectAccess, load_project
from atelier.projects.catalog import DEFAULT_PACK
from atelier.projects.models import Phase, Project
from atelier.web import pages_artifacts
from atelier.web.artifact_loading import project_url
from atelier.web.flash import FormText
from atelier.web.session import WebUser, csrf_ok, safe_next
from atelier.web.templating import render

# The strategy pack's key (its PackSpec's).
PACK_KEY = "strategy"

router = APIRouter(include_in_schema=False)

# A project page lists this many artifacts at most (the API pages through the rest).
MAX_ARTIFACTS = 500
# The double diamond: what each phase is for, in one line.
PHASES: list[tuple[Phase, str, str]] = [
    (Phase.DISCOVER, "Discover", "Widen: learn who the customers are and what they live."),
    (Phase.DEFINE, "Define", "Narrow: name the problem worth solving and the value to offer."),
    (Phase.DEVELOP, "Develop", "Widen: shape ways of solving it and the business around them."),
    (Phase.DELIVER, "Deliver", "Narrow: test what must be true, then decide."),
]


@dataclass(slots=True)
class ToolCard:
    tool: Tool
    artifacts: list[tuple[Artifact, int | None]] = field(default_factory=list)


@dataclass(slots=True)
class PhaseView:
    phase: Phase
    title: str
    text: str
    current: bool
    tools: list[ToolCard] = field(default_factory=list)


def strategy_tools() -> list[Tool]:
    return [t for t in load_tools().all() if t.pack == PACK_KEY]


@dataclass(slots=True)
class Board:
    """A strategy project's tools by phase, and what is not any phase's (artifacts of other
    tools, made through the API or another area, and the general tools)."""

    phases: list[PhaseView]
    others: list[tuple[Artifact, int | None]]
    general_tools: list[Tool]


async def _board(session: AsyncSession, project: Project) -> Board:
    rows, _ = await artifacts.list_artifacts(
        session, project=project, cursor=None, limit=MAX_ARTIFACTS
    )
    rows.sort(key=lambda row: row[0].updated_at, reverse=True)  # latest first
    cards = {t.key: ToolCard(t) for t in strategy_tools()}
    others = []
    for artifact, active in rows:
        card = cards.get(artifact.type)
        if card is not None:
            card.artifacts.append((artifact, active))
        else:
            others.append((artifact, active))
    views = [PhaseView(p, title, text, project.phase == p) for p, title, text in PHASES]
    by_phase = {v.phase.value: v for v in views}
    for card in cards.values():
        view = by_phase.get(card.tool.phase or "")
        if view is not None:
            view.tools.append(card)
    general = [t for t in load_tools().all() if t.pack == DEFAULT_PACK]
    return Board(views, others, general)


async def _generating(session: AsyncSession, project: Project) -> set[uuid.UUID]:
    """Artifacts of the project with a generation queued or running."""
    rows = await session.scalars(
        select(Job.artifact_id).where(
            Job.project_id == project.id,
            Job.kind == "generate",
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
    )
    return {a for a in rows.all() if a is not None}


async def project_page(request: Request, session: AsyncSession, access: ProjectAccess) -> Response:
    """The page of a strategy project: where it is in the double diamond, and each
    phase's tools with what the project made with them."""
    project = access.project
    board = await _board(session, project)
    phases = board.phases
    return render(
        request,
        "strategy/project.html",
        {
            "project": project,
            "phases": phases,
            "others": board.others,
            "general_tools": board.general_tools,
            "current": next((v for v in phases if v.current), None),
            "can_write": access.level >= Need.WRITE,
            "generating": await _generating(session, project),
            "total": sum(len(c.artifacts) for v in phases for c in v.tools) + len(board.others),
            "back": request.url.path,
            "flash": pages_artifacts.project_notice(request),  # e.g. after deleting an artifact
            "nav": "projects",
        },
    )


@router.get("/strategy/{project_id}", response_class=HTMLResponse)
async def strategy_project(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    access = await load_project(session, user=user, project_id=project_id)
    if access.project.pack != PACK_KEY:
        return RedirectResponse(project_url(access.project), status_code=303)
    return await project_page(request, session, access)


@router.post("/strategy/{project_id}/phase", response_class=HTMLResponse)
async def change_phase(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    phase: FormText = "",
    csrf_token: FormText = "",
    back: FormText = "",
) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    target = safe_next(back or project_url(access.project))
    if not csrf_ok(request, csrf_token) or phase not in {p.value for p in Phase}:
        return RedirectResponse(target, status_code=303)  # nothing changed; the page shows it
    await projects.update_project(session, access=access, changes={"phase": Phase(phase)})
    return RedirectResponse(target, status_code=303)
