"""A pipeline stage's versions in the browser (the API's ``…/stages/{n}/outputs``):

* every version, paged like the API, ``/projects/{id}/stages/{n}/versions``;
* one version, ``…/versions/{v}``: its output rendered as the stage page renders the
  active one, who made it, when and how, without activating it;
* "Make this the active version", a form post doing what
  ``POST …/outputs/{v}/activate`` does (CSRF-checked, then back to the stage);
* ``…/versions/{v}/compare``: a line diff of that version against the active one, with
  the artifact compare page's diff.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import User
from atelier.accounts.principal import Principal
from atelier.ai.models import AIGeneration
from atelier.artifacts import versions
from atelier.artifacts.diff import DiffRow, diff_rows
from atelier.artifacts.models import ArtifactVersion
from atelier.core.deps import DB
from atelier.core.errors import Conflict, InvalidInput
from atelier.packs.sdp import service as sdp
from atelier.packs.sdp.package import (
    VALIDATION_FILE,
    ProjectSnapshot,
    dump_json,
    snapshot_files,
    stage_files,
)
from atelier.packs.sdp.pages import (
    StageFile,
    data_model_diagram,
    file_views,
    load_sdp,
    notice,
    page_context,
    pager,
    stage_url,
)
from atelier.packs.sdp.stages import STAGES, StageSpec
from atelier.projects.access import Need, ProjectAccess
from atelier.stages import pipeline
from atelier.stages.pipeline import StageState
from atelier.web.artifact_document import version_data
from atelier.web.artifact_views import VersionRow
from atelier.web.flash import FormText, back
from atelier.web.paging import page_size
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

# The API's bounds for a version number; anything else is a 404 page, not a crash.
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
VERSIONS_PAGE = 25
# A stage may take a new output only when it is neither of these (pipeline.ensure_changeable).
FROZEN = ("locked", "generating")
WHO_MADE = {"ai": "AI generation", "human": "Edited by hand", "system": "Compiled by Atelier"}


@dataclass(slots=True)
class Loaded:
    access: ProjectAccess
    state: StageState
    spec: StageSpec

    @property
    def url(self) -> str:
        return stage_url(self.access.project.id, self.spec.number)


async def _load(
    session: AsyncSession, user: Principal, project_id: uuid.UUID, number: int, need: Need
) -> Loaded:
    """The stage if this user may see (or change) its project; a 404 page otherwise."""
    access = await load_sdp(session, user, project_id, need)
    state = await pipeline.get_stage(session, access.project, number)
    spec = next(s for s in STAGES if s.number == number)
    return Loaded(access, state, spec)


def _context(loaded: Loaded, **context: Any) -> dict[str, Any]:
    return page_context(
        loaded.access,
        stage=loaded.state.stage,
        spec=loaded.spec,
        status=loaded.state.status,
        stage_url=loaded.url,
        who_made=WHO_MADE,
        **context,
    )


# ---------------------------------------------------------------------------- rendering
def _data(version: ArtifactVersion) -> dict[str, Any] | None:
    data = version_data(version)
    return data if isinstance(data, dict) and data else None


def version_files(
    snap: ProjectSnapshot, spec: StageSpec, version: ArtifactVersion
) -> dict[str, str]:
    """The files a version becomes. The active one's are exactly the stage page's; an
    older export-stage version shows the report it compiled then (the page computes the
    active report afresh)."""
    if version.is_active:
        return snapshot_files(snap, spec.number)
    data = _data(version)
    if data is None:
        return {}
    if spec.number == len(STAGES):
        return {VALIDATION_FILE: dump_json(data)}
    return stage_files(spec, data, snap)


def _document_lines(files: list[StageFile]) -> list[str]:
    """What the page shows open, file by file, as lines: the readable files (the raw data
    file only when there is nothing else). Blank lines only separate Markdown blocks: as
    changes they would be noise."""
    lines: list[str] = []
    for view in files:
        if not view.open:
            continue
        lines.append(f"— {view.path} —")
        lines.extend(line for line in view.text.splitlines() if line.strip())
    return lines


def _data_lines(version: ArtifactVersion) -> list[str]:
    data = version_data(version)
    if isinstance(data, dict | list):
        return json.dumps(data, indent=2, ensure_ascii=False).splitlines()
    return str(data).splitlines()


async def _authors(session: AsyncSession, rows: list[ArtifactVersion]) -> dict[uuid.UUID, str]:
    ids = {row.created_by_id for row in rows if row.created_by_id is not None}
    if not ids:
        return {}
    found = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {uid: name for uid, name in found.all()}


async def _rows(session: AsyncSession, rows: list[ArtifactVersion]) -> list[VersionRow]:
    """Each version with the AI call that made it (model, tokens, cost), if any."""
    ids = {row.ai_generation_id for row in rows if row.ai_generation_id is not None}
    found: dict[uuid.UUID, AIGeneration] = {}
    if ids:
        result = await session.scalars(select(AIGeneration).where(AIGeneration.id.in_(ids)))
        found = {g.id: g for g in result.all()}
    return [
        VersionRow(row, found.get(row.ai_generation_id) if row.ai_generation_id else None)
        for row in rows
    ]


async def _active_number(session: AsyncSession, loaded: Loaded) -> int | None:
    artifact_id = loaded.state.artifact.id
    info = (await sdp.active_version_info(session, [artifact_id])).get(artifact_id)
    return info[0] if info else None


# ------------------------------------------------------------------------------- pages
@router.get("/projects/{project_id}/stages/{number}/versions", response_class=HTMLResponse)
async def versions_page(
    request: Request,
    project_id: uuid.UUID,
    number: int,
    user: WebUser,
    session: DB,
    cursor: str | None = None,
    limit: str = "",
) -> Response:
    loaded = await _load(session, user, project_id, number, Need.READ)
    artifact = loaded.state.artifact
    size = page_size(limit, VERSIONS_PAGE)
    try:
        rows, more = await versions.list_versions(
            session, artifact=artifact, cursor=cursor, limit=size
        )
    except InvalidInput:  # an edited cursor: the newest versions rather than an error
        cursor = None
        rows, more = await versions.list_versions(
            session, artifact=artifact, cursor=None, limit=size
        )
    return render(
        request,
        "sdp/versions.html",
        _context(
            loaded,
            rows=await _rows(session, rows),
            authors=await _authors(session, rows),
            total=artifact.latest_version,
            pages=pager(f"{loaded.url}/versions", cursor, more, size, VERSIONS_PAGE),
        ),
    )


@router.get(
    "/projects/{project_id}/stages/{number}/versions/{version}", response_class=HTMLResponse
)
async def version_page(
    request: Request,
    project_id: uuid.UUID,
    number: int,
    version: VersionNumber,
    user: WebUser,
    session: DB,
    msg: str | None = None,
) -> Response:
    loaded = await _load(session, user, project_id, number, Need.READ)
    row = await versions.get_version(session, artifact=loaded.state.artifact, number=version)
    snap = await sdp.snapshot(session, loaded.access.project)
    generation = None
    if row.ai_generation_id is not None:
        generation = await session.get(AIGeneration, row.ai_generation_id)
    author = await session.get(User, row.created_by_id) if row.created_by_id else None
    latest = loaded.state.artifact.latest_version
    diagram: Markup | None = None
    if loaded.spec.name == "dataModel":
        diagram = data_model_diagram(_data(row))
    return render(
        request,
        "sdp/version.html",
        _context(
            loaded,
            v=row,
            row=VersionRow(row, generation),
            author=author,
            files=file_views(version_files(snap, loaded.spec, row)),
            diagram=diagram,
            active_version=await _active_number(session, loaded),
            can_activate=loaded.access.level >= Need.WRITE and loaded.state.status not in FROZEN,
            older=version - 1 if version > 1 else None,
            newer=version + 1 if version < latest else None,
            flash=notice(msg),
        ),
    )


@router.post("/projects/{project_id}/stages/{number}/versions/{version}/activate")
async def activate_version(
    request: Request,
    project_id: uuid.UUID,
    number: int,
    version: VersionNumber,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
) -> Response:
    """As ``POST /api/v1/projects/{id}/stages/{n}/outputs/{v}/activate``."""
    here = f"{stage_url(project_id, number)}/versions/{version}"
    if not csrf_ok(request, csrf_token):
        return back(here, "expired")
    loaded = await _load(session, user, project_id, number, Need.WRITE)
    try:
        pipeline.ensure_changeable(loaded.state)
    except Conflict:
        # It started generating (or was locked) since the page was shown.
        return back(here, "stage-busy")
    await versions.activate_version(session, artifact=loaded.state.artifact, number=version)
    return back(loaded.url, "activated")


@router.get(
    "/projects/{project_id}/stages/{number}/versions/{version}/compare",
    response_class=HTMLResponse,
)
async def compare_page(
    request: Request,
    project_id: uuid.UUID,
    number: int,
    version: VersionNumber,
    user: WebUser,
    session: DB,
    view: str = "document",
) -> Response:
    """From this version to the active one: what activating it would undo."""
    loaded = await _load(session, user, project_id, number, Need.READ)
    artifact = loaded.state.artifact
    row = await versions.get_version(session, artifact=artifact, number=version)
    active_number = await _active_number(session, loaded)
    view = "data" if view == "data" else "document"
    diff: list[DiffRow] = []
    if active_number is not None and active_number != version:
        active = await versions.get_version(session, artifact=artifact, number=active_number)
        if view == "data":
            old, new = _data_lines(row), _data_lines(active)
        else:
            snap = await sdp.snapshot(session, loaded.access.project)
            old = _document_lines(file_views(version_files(snap, loaded.spec, row)))
            new = _document_lines(file_views(version_files(snap, loaded.spec, active)))
        diff = diff_rows(old, new)
    return render(
        request,
        "sdp/compare.html",
        _context(
            loaded,
            v=row,
            active_version=active_number,
            view=view,
            diff=diff,
            added=sum(r.kind == "add" for r in diff),
            removed=sum(r.kind == "del" for r in diff),
        ),
    )
