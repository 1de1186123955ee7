"""Pages of the software design pipeline (pack ``sdp``), included in the web UI through
``PackSpec.web_router`` (``atelier.packs.sdp.web``, with ``pages_stage_versions``).

* the project overview (``project_page``, called by the projects area for an sdp
  project's ``/projects/{id}``; also served at ``/sdp/{id}``): the nine stages as a
  progress rail, the validation status, the ER diagram, links to exports and MCP;
* a stage, ``/projects/{id}/stages/{n}``: input, generation with live progress, review,
  completion, the files the output becomes, the newest versions, a hand edit (each
  version's own page, all versions and the comparison are in ``pages_stage_versions``);
* the cross-reference report, ``/projects/{id}/validation``;
* exports, ``/projects/{id}/exports``; MCP tokens, ``/projects/{id}/mcp``: both paged
  like the API (``?limit=&cursor=``).

Pages read through the services. Stage actions and MCP token creation are the page
script calling the JSON API (so every lifecycle rule of the API holds, and a raw token
only ever lives in the page that asked for it); creating an export and revoking a token
are plain form posts (CSRF-checked, then a redirect with a ``?msg=`` code naming a fixed
notice).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.artifacts import versions
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.core.errors import NotFound
from atelier.core.markdown_html import render_markdown
from atelier.core.storage import Storage
from atelier.exports import packages
from atelier.exports.models import ExportPackage, PackageFormat
from atelier.mcp import tokens
from atelier.mcp.models import MCPToken
from atelier.packs.sdp import service as sdp
from atelier.packs.sdp.crossref import ValidationMessage, ValidationReport
from atelier.packs.sdp.datamodel import DataModel
from atelier.packs.sdp.er_diagram import render_svg
from atelier.packs.sdp.package import (
    DATA_FILES,
    STORED_MODELS,
    ProjectSnapshot,
    build_package,
    snapshot_files,
    stored,
)
from atelier.packs.sdp.stages import STAGES, StageSpec
from atelier.packs.sdp.templates import BUILT_IN_TEMPLATES
from atelier.projects.access import Need, ProjectAccess, load_project
from atelier.projects.models import TemplateCategory
from atelier.stages import pipeline
from atelier.stages.pipeline import StageState
from atelier.web.cursors import cursor_or_none
from atelier.web.flash import FormText, back, notice_of
from atelier.web.paging import page_size, page_url
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)


# ?msg= codes → the notice shown after a redirect (never text from the URL itself).
NOTICES: dict[str, tuple[str, str]] = {
    "generated": ("ok", "New output ready: review it below, then complete the stage."),
    "compiled": ("ok", "Compiled: the new output is below."),
    "completed": ("ok", "Stage complete."),
    "edited": ("ok", "Your edit is saved as a new version."),
    "activated": ("ok", "That version is the stage's output now."),
    "stage-busy": ("error", "The stage cannot change now: it is locked or generating."),
    "exported": ("ok", "Package exported."),
    "export-deleted": ("ok", "Export deleted."),
    "revoked": ("ok", "Token revoked: clients using it can no longer connect."),
    "expired": ("error", "The form expired. Please try again."),
}

# "Save as template": the categories people choose from, as the API takes them.
TEMPLATE_CATEGORIES = (
    (TemplateCategory.SAAS, "SaaS"),
    (TemplateCategory.API, "API"),
    (TemplateCategory.LANDING, "Landing page"),
    (TemplateCategory.MOBILE, "Mobile app"),
    (TemplateCategory.CLI, "Command-line tool"),
    (TemplateCategory.FULLSTACK, "Full-stack app"),
    (TemplateCategory.OTHER, "Other"),
)


def _template_icons() -> tuple[tuple[str, str], ...]:
    """What "Save as template" offers: the icons the built-in templates use (the projects
    area's icon macro draws each), with the first template using one as a hint of what it
    stands for."""
    first: dict[str, str] = {}
    for spec in BUILT_IN_TEMPLATES:
        first.setdefault(spec.icon, spec.name)
    return tuple(first.items())


TEMPLATE_ICONS = _template_icons()

# Versions the stage page lists; all of them are on the stage's versions page.
STAGE_PAGE_VERSIONS = 10
EXPORTS_PAGE, TOKENS_PAGE = 50, 100

FOLDER_STAGE = {spec.folder: spec for spec in STAGES}
COMPILED = {"database", "export"}  # answered at once (the database may also ask the AI)
DATA_FILE_PATHS = set(DATA_FILES.values())

RULES: dict[str, str] = {
    "missing_stage": "A stage has no output yet",
    "missing_input": "A check could not run",
    "relationship_entity": "Relationships must join entities",
    "foreign_key_field": "Foreign keys must be fields",
    "entity_table": "Every entity needs a table",
    "table_entity": "Every table needs an entity",
    "api_entity": "Endpoints must serve entities",
    "api_field": "API fields must exist in the data model",
    "api_path_param": "Path parameters must be fields",
    "openapi_valid": "The OpenAPI document must be valid",
    "section_endpoint": "Sections must call real endpoints",
}


def notice(msg: str | None) -> dict[str, str] | None:
    return notice_of(NOTICES, msg)


async def load_sdp(
    session: AsyncSession, user: Principal, project_id: uuid.UUID, need: Need = Need.READ
) -> ProjectAccess:
    """The project if this user may see it and it has a pipeline; a 404 page otherwise
    (another user's project does not exist for them)."""
    access = await load_project(session, user=user, project_id=project_id, need=need)
    if pipeline.pipeline_of(access.project) is None:
        raise NotFound("not a software design project", code="no_stages")
    return access


def stage_url(project_id: uuid.UUID, number: int) -> str:
    return f"/projects/{project_id}/stages/{number}"


def overview_url(project_id: uuid.UUID) -> str:
    """The overview: the projects area serves ``/projects/{id}`` and calls
    :func:`project_page` for an sdp project (``/sdp/{id}`` is the same page)."""
    return f"/projects/{project_id}"


def page_context(access: ProjectAccess, **context: Any) -> dict[str, Any]:
    project = access.project
    return {
        "nav": "projects",
        "project": project,
        "can_write": access.level >= Need.WRITE,
        "overview_url": overview_url(project.id),
        **context,
    }


# ------------------------------------------------------------------------------ stages
@dataclass(slots=True)
class RailStage:
    number: int
    name: str
    label: str
    summary: str
    status: str  # locked | active | generating | review | complete
    needs_review: bool
    current: bool
    version: int | None
    generated_by: str | None
    url: str


async def _rail(
    session: AsyncSession, access: ProjectAccess, states: list[StageState] | None = None
) -> list[RailStage]:
    project = access.project
    states = states if states is not None else await pipeline.list_stages(session, project)
    active = await sdp.active_version_info(session, [s.artifact.id for s in states])
    specs = {spec.number: spec for spec in STAGES}
    rail = []
    for state in states:
        stage = state.stage
        spec = specs.get(stage.stage_number)
        version = active.get(state.artifact.id)
        rail.append(
            RailStage(
                number=stage.stage_number,
                name=stage.stage_name,
                label=stage.stage_label,
                summary=spec.summary if spec else "",
                status=state.status,
                needs_review=stage.needs_review,
                current=stage.stage_number == project.current_stage,
                version=version[0] if version else None,
                generated_by=version[1] if version else None,
                url=stage_url(project.id, stage.stage_number),
            )
        )
    return rail


def diagram_of(snap: ProjectSnapshot, id_prefix: str = "er") -> Markup | None:
    """The ER diagram of the active data model, if there is a valid one."""
    data = next((s.data for s in snap.stages if s.name == "dataModel"), None)
    return data_model_diagram(data, id_prefix)


def data_model_diagram(data: dict[str, Any] | None, id_prefix: str = "er") -> Markup | None:
    """The ER diagram of a data model stage's output (any version), if it is valid."""
    model = stored("dataModel", data)
    if not isinstance(model, DataModel):
        return None
    # render_svg escapes every text it writes: the markup is safe to embed.
    return Markup(render_svg(model, id_prefix=id_prefix))


# ---------------------------------------------------------------------------- overview
async def project_page(request: Request, session: AsyncSession, access: ProjectAccess) -> Response:
    """The overview of a software design project (the projects area calls this for
    ``/projects/{id}`` of an sdp project)."""
    project = access.project
    rail = await _rail(session, access)
    snap = await sdp.snapshot(session, project)
    report = build_package(snap).report
    exports, _ = await packages.list_exports(session, project=project, cursor=None, limit=1)
    rows, _ = await tokens.list_tokens(session, project=project, cursor=None, limit=200)
    now = utcnow()
    current = next((s for s in rail if s.current), rail[0] if rail else None)
    return render(
        request,
        "sdp/overview.html",
        page_context(
            access,
            rail=rail,
            current=current,
            done=sum(1 for s in rail if s.status == "complete"),
            report=report,
            # Before any stage has an output, "8 warnings" would only say that.
            started=any(stage.data is not None for stage in snap.stages),
            latest_export=exports[0] if exports else None,
            active_tokens=sum(1 for t in rows if tokens.is_usable(t, now)),
            diagram=diagram_of(snap),
            categories=TEMPLATE_CATEGORIES,
            icons=TEMPLATE_ICONS,
            flash=notice(request.query_params.get("msg")),
        ),
    )


@router.get("/sdp/{project_id}", response_class=HTMLResponse)
async def sdp_overview(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    return await project_page(request, session, await load_sdp(session, user, project_id))


# ------------------------------------------------------------------------------- stage
@dataclass(slots=True)
class StageFile:
    path: str
    name: str
    kind: str  # "markdown" or "code"
    language: str
    text: str
    html: Markup | None
    open: bool
    anchor: str


def _language(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower()
    return {"sql": "SQL", "yaml": "YAML", "yml": "YAML", "json": "JSON", "md": "Markdown"}.get(
        suffix, suffix.upper()
    )


def file_views(files: dict[str, str]) -> list[StageFile]:
    """Documents first, then code; the stage's raw data file is folded away when the
    stage has something more readable to show."""
    out = []
    for i, (path, text) in enumerate(sorted(files.items(), key=lambda kv: _file_order(kv[0]))):
        markdown = path.endswith(".md")
        out.append(
            StageFile(
                path=path,
                name=path.rsplit("/", 1)[-1],
                kind="markdown" if markdown else "code",
                language=_language(path),
                text=text,
                # The shared renderer escapes the user's text: safe to embed.
                html=Markup(render_markdown(text)) if markdown else None,
                open=path not in DATA_FILE_PATHS or len(files) == 1,
                anchor=f"file-{i}",
            )
        )
    return out


def _file_order(path: str) -> tuple[int, str]:
    if path.endswith(".md"):
        return 0, path
    return (2 if path in DATA_FILE_PATHS else 1), path


def _lock_reason(state: StageState, rail: list[RailStage]) -> str | None:
    if state.status != "locked":
        return None
    before = next((s for s in rail if s.number == state.stage.stage_number - 1), None)
    if before is None:
        return "This stage is locked."
    return f"This stage is locked: complete stage {before.number} ({before.label}) first."


def _output_json(state: StageState, active_version: int | None) -> str:
    data = state.artifact.output_data if active_version else None
    return json.dumps(data, indent=2, ensure_ascii=False) if data else ""


@router.get("/projects/{project_id}/stages/{number}", response_class=HTMLResponse)
async def stage_page(
    request: Request,
    project_id: uuid.UUID,
    number: int,
    user: WebUser,
    session: DB,
    msg: str | None = None,
) -> Response:
    access = await load_sdp(session, user, project_id)
    project = access.project
    state = await pipeline.get_stage(session, project, number)
    states = await pipeline.list_stages(session, project)
    rail = await _rail(session, access, states)
    info = (await sdp.active_version_info(session, [state.artifact.id])).get(state.artifact.id)
    active_version = info[0] if info else None
    snap = await sdp.snapshot(session, project)
    rows, more = await versions.list_versions(
        session, artifact=state.artifact, cursor=None, limit=STAGE_PAGE_VERSIONS
    )
    name = state.stage.stage_name
    spec = next(s for s in STAGES if s.number == number)
    return render(
        request,
        "sdp/stage.html",
        page_context(
            access,
            rail=rail,
            state=state,
            stage=state.stage,
            spec=spec,
            status=state.status,
            active_version=active_version,
            lock_reason=_lock_reason(state, rail),
            files=file_views(snapshot_files(snap, number)) if active_version else [],
            diagram=diagram_of(snap) if name == "dataModel" and active_version else None,
            versions=rows,
            more_versions=more is not None,
            versions_url=f"{stage_url(project.id, number)}/versions",
            output_json=_output_json(state, active_version),
            quality=next((v.quality for v in rows if v.is_active), None),
            editable=name in STORED_MODELS,
            compiled=name in COMPILED,
            previous=next((s for s in rail if s.number == number - 1), None),
            next_stage=next((s for s in rail if s.number == number + 1), None),
            problems=stage_errors(snap, spec) if active_version else [],
            flash=notice(msg),
        ),
    )


def stage_errors(snap: ProjectSnapshot, spec: StageSpec) -> list[ValidationMessage]:
    """The validation report's errors about this stage's files: said where they are made."""
    return [
        message
        for message in build_package(snap).report.messages
        if message.level == "error" and FOLDER_STAGE.get(message.file.split("/", 1)[0]) is spec
    ]


# -------------------------------------------------------------------------- validation
@dataclass(slots=True)
class ReportLine:
    message: ValidationMessage
    rule_title: str
    stage: StageSpec | None
    stage_url: str | None


def _report_groups(report: ValidationReport, project_id: uuid.UUID) -> list[dict[str, Any]]:
    groups = []
    for level, title in (("error", "Errors"), ("warning", "Warnings")):
        lines = []
        for message in report.messages:
            if message.level != level:
                continue
            spec = FOLDER_STAGE.get(message.file.split("/", 1)[0])
            lines.append(
                ReportLine(
                    message=message,
                    rule_title=RULES.get(message.rule, message.rule),
                    stage=spec,
                    stage_url=f"/projects/{project_id}/stages/{spec.number}" if spec else None,
                )
            )
        groups.append({"level": level, "title": title, "lines": lines})
    return groups


@router.get("/projects/{project_id}/validation", response_class=HTMLResponse)
async def validation_page(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    access = await load_sdp(session, user, project_id)
    report = build_package(await sdp.snapshot(session, access.project)).report
    return render(
        request,
        "sdp/validation.html",
        page_context(
            access,
            report=report,
            groups=_report_groups(report, access.project.id),
        ),
    )


# ------------------------------------------------------------------------------ paging
@dataclass(frozen=True, slots=True)
class Pager:
    """Links of a paged list: back to its newest items, and on to the next page."""

    first_url: str | None
    next_url: str | None


def pager(path: str, cursor: str | None, more: str | None, size: int, default: int) -> Pager:
    kept = size if size != default else None  # a page size asked for in the address stays
    return Pager(
        first_url=page_url(path, limit=kept) if cursor else None,
        next_url=page_url(path, limit=kept, cursor=more) if more else None,
    )


# ----------------------------------------------------------------------------- exports
def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns first


@dataclass(slots=True)
class ExportRow:
    export: ExportPackage
    errors: int
    warnings: int
    size: str
    download_url: str


def _export_row(row: ExportPackage) -> ExportRow:
    messages = row.validation_messages or []
    return ExportRow(
        export=row,
        errors=sum(1 for m in messages if m.get("level") == "error"),
        warnings=sum(1 for m in messages if m.get("level") == "warning"),
        size=human_size(row.file_size_bytes),
        download_url=f"/api/v1/exports/{row.id}/download",
    )


@router.get("/projects/{project_id}/exports", response_class=HTMLResponse)
async def exports_page(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    msg: str | None = None,
    cursor: str | None = None,
    limit: str = "",
) -> Response:
    access = await load_sdp(session, user, project_id)
    cursor, size = cursor_or_none(cursor), page_size(limit, EXPORTS_PAGE)
    rows, more = await packages.list_exports(
        session, project=access.project, cursor=cursor, limit=size
    )
    report = build_package(await sdp.snapshot(session, access.project)).report
    return render(
        request,
        "sdp/exports.html",
        page_context(
            access,
            exports=[_export_row(r) for r in rows],
            pages=pager(f"/projects/{project_id}/exports", cursor, more, size, EXPORTS_PAGE),
            report=report,
            flash=notice(msg),
            just_exported=msg == "exported",
        ),
    )


@router.post("/projects/{project_id}/exports", response_class=HTMLResponse)
async def create_export(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    format: FormText = "zip",
    csrf_token: FormText = "",
) -> Response:
    path = f"/projects/{project_id}/exports"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    access = await load_sdp(session, user, project_id, Need.WRITE)
    storage: Storage = request.app.state.storage
    chosen = PackageFormat.FOLDER if format == "folder" else PackageFormat.ZIP
    await packages.create_export(
        session, project=access.project, user=user, format=chosen, storage=storage
    )
    return back(path, "exported")


@router.post("/projects/{project_id}/exports/{export_id}/delete", response_class=HTMLResponse)
async def delete_export(
    request: Request,
    project_id: uuid.UUID,
    export_id: uuid.UUID,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
) -> Response:
    path = f"/projects/{project_id}/exports"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    access = await load_sdp(session, user, project_id, Need.WRITE)
    row = await session.get(ExportPackage, export_id)
    if row is None or row.project_id != access.project.id:
        raise NotFound("no such export", code="export_not_found")
    storage: Storage = request.app.state.storage
    await packages.delete_export(session, export=row, storage=storage)
    return back(path, "export-deleted")


# --------------------------------------------------------------------------------- MCP
@dataclass(slots=True)
class TokenRow:
    token: MCPToken
    status: str  # active | expired | revoked


def _token_status(row: MCPToken) -> str:
    if row.revoked_at is not None:
        return "revoked"
    return "active" if tokens.is_usable(row, utcnow()) else "expired"


@router.get("/projects/{project_id}/mcp", response_class=HTMLResponse)
async def mcp_page(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    msg: str | None = None,
    cursor: str | None = None,
    limit: str = "",
) -> Response:
    access = await load_sdp(session, user, project_id)
    cursor, size = cursor_or_none(cursor), page_size(limit, TOKENS_PAGE)
    rows, more = await tokens.list_tokens(
        session, project=access.project, cursor=cursor, limit=size
    )
    return render(
        request,
        "sdp/mcp.html",
        page_context(
            access,
            tokens=[TokenRow(r, _token_status(r)) for r in rows],
            pages=pager(f"/projects/{project_id}/mcp", cursor, more, size, TOKENS_PAGE),
            base=str(request.base_url).rstrip("/"),
            flash=notice(msg),
        ),
    )


@router.post("/projects/{project_id}/mcp/{token_id}/revoke", response_class=HTMLResponse)
async def revoke_token(
    request: Request,
    project_id: uuid.UUID,
    token_id: uuid.UUID,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
) -> Response:
    path = f"/projects/{project_id}/mcp"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    access = await load_sdp(session, user, project_id, Need.WRITE)
    await tokens.revoke_token(session, project=access.project, token_id=token_id)
    return back(path, "revoked")
