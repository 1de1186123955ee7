"""Pages of the web UI: an artifact (its output as a document, versions, diff, history),
the tool form that creates or iterates one, and generation with live progress.

Forms post to these routes, which call the same services as the API (so the same rules
hold); single-button actions (publish, activate, generate, smart-populate, cancel) are
calls to the JSON API from ``strategy-actions.js`` / ``generate.js``. Rename, duplicate and
delete are in ``pages_artifact_actions``, a version's own page in ``pages_versions``.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai import service as ai_service
from atelier.ai.budgets import check_budget
from atelier.ai.deps import wake
from atelier.ai.models import AIGeneration, AIProviderConfig
from atelier.ai.resolve import resolve_provider
from atelier.ai.tools import Tool, load_tools
from atelier.artifacts import service, versions
from atelier.artifacts.access import load_artifact
from atelier.artifacts.models import Artifact, ArtifactStatus, ArtifactVersion, VersionFormat
from atelier.artifacts.smart_populate import JOB_KIND as SMART_POPULATE
from atelier.artifacts.smart_populate import Mode
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, InvalidInput, NotFound
from atelier.exports.document import ExportArtifact
from atelier.exports.markdown import artifact_markdown
from atelier.jobs.models import Job, JobStatus
from atelier.jobs.service import load_job
from atelier.projects.access import Need
from atelier.projects.models import Project
from atelier.web.flash import Notices, notice_of
from atelier.web.forms import (
    FormField,
    attach_errors,
    build_fields,
    errors_from_detail,
    form_values,
    parse_form,
    validate_model,
)
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

# Versions listed on the artifact page; older ones are reachable through the API.
MAX_VERSIONS = 200
# Lines of unchanged text kept around each change in a diff.
DIFF_CONTEXT = 3
# AI providers offered on the tool form, as many as the settings page lists.
MAX_PROVIDERS = 200
PROVIDER_GONE = "You cannot use this AI provider (it may have been removed). Choose another."
SETTINGS_URL = "/settings/providers"
PROVIDER_HELP = (
    "No AI provider is ready. Add one in Settings → AI providers, or install the local "
    "model (atelier models install qwen2.5-coder-0.5b-instruct)."
)
BUSY = "The AI provider is busy or could not be reached. Wait a minute, then try again."
# Job and API error codes → what happened and what to do next, in plain words. "settings"
# adds a link to the provider settings.
FAILURES: dict[str, dict[str, Any]] = {
    "no_ai_provider": {"text": PROVIDER_HELP, "settings": True},
    "local_model_missing": {"text": PROVIDER_HELP, "settings": True},
    "provider_config": {"text": PROVIDER_HELP, "settings": True},
    "ai_provider_not_found": {"text": PROVIDER_HELP, "settings": True},
    "provider_auth": {
        "text": "The AI provider refused the API key. Check the key in Settings → AI providers.",
        "settings": True,
    },
    "budget_exceeded": {
        "text": "This month's AI budget is used up. Generation works again next month, or ask "
        "an administrator for a larger plan."
    },
    "invalid_output": {
        "text": "The model's answer did not fit this tool's structure, even after it was asked "
        "to fix it. Try again, or use a stronger model in Settings → AI providers.",
        "settings": True,
    },
    "context_length_exceeded": {
        "text": "The inputs are too long for this model. Shorten them, or use a model with a "
        "larger context in Settings → AI providers.",
        "settings": True,
    },
    "model_refused": {"text": "The model declined to answer. Reword the inputs and try again."},
    "invalid_input": {"text": "The inputs no longer fit this tool. Edit them and try again."},
    "artifact_published": {
        "text": "This artifact is published, so it is read-only. Move it back to draft first."
    },
    "worker_lost": {"text": "The server stopped while working on this. Try again."},
    "cancelled": {"text": "Cancelled. Nothing was changed."},
    "no_output": {"text": "There is no output to start from yet: generate it first."},
    **{
        code: {"text": BUSY}
        for code in (
            "rate_limited",
            "overloaded",
            "server_error",
            "connection_error",
            "timeout",
            "stream_error",
            "provider_error",
            "bad_request",
        )
    },
}
# ?msg= codes of the artifact page → the notice shown after a redirect (never URL text).
NOTICES: Notices = {
    "renamed": ("ok", "Renamed."),
    "duplicated": ("ok", "This is the copy: a new artifact in the same project."),
    "expired": ("error", "The form expired. Please try again."),
    # Saved from the tool form without generating ("Save as draft" / "Save inputs").
    "draft-saved": ("ok", "Saved. Generate when you are ready."),
    "inputs-saved": (
        "ok",
        "Saved. Generate when you are ready: the document is still from the earlier inputs "
        "(Inputs → Change → Save inputs and generate).",
    ),
}
# The same for the project page an artifact's deletion returns to.
PROJECT_NOTICES: Notices = {
    "artifact-deleted": ("ok", "Artifact deleted."),
}
DERIVATION_LABELS = {
    "created": "original",
    "duplicated": "duplicate",
    "edited_inputs": "edited inputs",
    "continued": "continued",
    "merged": "merged",
}
MODE_LABELS = {
    Mode.EDIT_INPUTS: "Edit original inputs",
    Mode.CONTINUE_FROM_RESULTS: "Continue from results",
    Mode.MERGE_ENHANCE: "Merge & enhance",
}


def failure(code: str | None, message: str | None = None) -> dict[str, Any]:
    """What to show for a failed job or refused request."""
    known = FAILURES.get(code or "")
    if known is not None:
        return {"code": code, **known}
    detail = f" ({message})" if message else ""
    return {"code": code, "text": f"It did not work{detail}. Try again in a moment."}


def project_url(project: Project) -> str:
    return f"/projects/{project.id}"


def project_notice(request: Request) -> dict[str, str] | None:
    """The notice a project page shows when an artifact's action sent people back to it."""
    return notice_of(PROJECT_NOTICES, request.query_params.get("msg"))


# --- Markdown → HTML -------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _line_break(state: StateInline, silent: bool) -> bool:
    """A tool's own Markdown breaks lines in table cells with ``<br>``: the one piece of HTML
    let through, as a real line break (user text never has one: the exporter escapes "<")."""
    match = _LINE_BREAK.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        state.push("hardbreak", "br", 0)
    state.pos = match.end()
    return True


@functools.cache
def _markdown() -> MarkdownIt:
    # html disabled: whatever a model or a person wrote is shown as text, never as markup.
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable("table")
    parser.disable("image")  # no request to a URL someone typed
    parser.inline.ruler.before("autolink", "line_break", _line_break)
    return parser


def output_markdown(artifact: Artifact, tool: Tool | None, data: Any) -> str:
    """The output as the exports write it, without their title and metadata lines (the
    page has its own): the blocks after the first two."""
    document = ExportArtifact(
        id=str(artifact.id),
        name=artifact.name,
        tool_key=artifact.type,
        tool_title=tool.title if tool else artifact.type,
        phase=tool.phase if tool else None,
        status=artifact.status.value,
        version=None,
        generated_by=None,
        updated_at=artifact.updated_at,
        input_data={},
        output_data=data,
        tool=tool,
    )
    parts = artifact_markdown(document, level=1).split("\n\n", 2)
    return parts[2] if len(parts) == 3 else ""


def markdown_html(text: str) -> Markup:
    html = _markdown().render(text)
    # Tables scroll sideways on a phone instead of widening the page.
    html = html.replace("<table>", '<div class="table-wrap"><table class="table">').replace(
        "</table>", "</table></div>"
    )
    # markdown-it with html disabled has escaped every piece of text already.
    return Markup(html)


def version_data(version: ArtifactVersion) -> Any:
    if version.format == VersionFormat.JSON:
        return orjson.loads(version.content)
    return version.content


# --- the tool form ---------------------------------------------------------------------------


@dataclass(slots=True)
class ToolForm:
    """One page of the tool form: a new artifact, the next iteration, or new inputs."""

    project: Project
    tool: Tool
    action: str
    title: str
    submit: str
    cancel_url: str
    crumbs: list[tuple[str, str]]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    intro: str | None = None
    name: str | None = None  # None: no name field
    name_default: str = ""
    alert: dict[str, Any] | None = None
    note: str | None = None  # something to know about the values (not an error)
    parent: Artifact | None = None  # the next iteration's parent
    editing: Artifact | None = None  # new inputs for this artifact
    mode: Mode | None = None
    # AI iteration modes before the proposal is there: "start" (no job yet) or "job" (a
    # smart-populate job still making it); the page shows that instead of the form.
    pending: str | None = None
    job: Job | None = None
    # The AI providers the user may choose for this generation; None: not read by the
    # route that shows the form, so the page asks for them itself (``provider_choice``).
    providers: list[AIProviderConfig] | None = None
    provider_id: str = ""  # the choice as posted, kept when the form comes back

    def fields(self) -> list[FormField]:
        schema = self.tool.input_model.model_json_schema()
        return build_fields(schema, self.values, self.errors)

    @property
    def save_label(self) -> str | None:
        """The button that saves without generating (as the API's ``generate: false`` and
        PATCH of ``input_data``); None for the next iteration, which is made to generate."""
        if self.parent is not None:
            return None
        return "Save inputs" if self.editing is not None else "Save as draft"


def render_tool_form(request: Request, form: ToolForm, *, status: int = 200) -> Response:
    fields = form.fields()
    own = {"_name", "_provider"}  # the page's own fields, not the tool's
    summary = attach_errors(fields, {k: v for k, v in form.errors.items() if k not in own})
    if "_name" in form.errors:
        summary.append(("Name", form.errors["_name"], "f-_name"))
    if "_provider" in form.errors:
        summary.append(("AI provider", form.errors["_provider"], "f-_provider"))
    return render(
        request,
        "strategy/tool_form.html",
        {
            "form": form,
            "fields": fields,
            "summary": summary,
            "output_sections": _output_sections(form.tool),
            "messages": FAILURES,
            "nav": "projects",
            **_provider_context(form.providers, form.provider_id, form.errors.get("_provider")),
        },
        status=status,
    )


def _provider_context(
    providers: list[AIProviderConfig] | None, chosen: str, error: str | None
) -> dict[str, Any]:
    """What the tool form template reads to offer a choice of AI provider."""
    return {"providers": providers, "provider_id": chosen, "provider_error": error}


async def usable_providers(session: AsyncSession, user: Principal) -> list[AIProviderConfig]:
    """The providers the user may generate with: the settings page's listing."""
    configs, _ = await ai_service.list_configs(session, user=user, cursor=None, limit=MAX_PROVIDERS)
    return configs


def _output_sections(tool: Tool) -> list[str]:
    """What the tool will write: the titles of its output's top-level fields."""
    return [f.label for f in build_fields(tool.output_schema())]


@dataclass(frozen=True, slots=True)
class Posted:
    values: dict[str, Any]
    errors: dict[str, str]
    clean: dict[str, Any] | None
    name: str
    csrf: bool
    save: bool  # "Save as draft" / "Save inputs": no generation
    provider: str  # the AI provider chosen, as posted ("" for the default)


async def read_tool_form(request: Request, tool: Tool) -> Posted:
    """The posted inputs, validated by the tool's input model exactly as the API does."""
    posted = form_values((await request.form()).multi_items())
    schema = tool.input_model.model_json_schema()
    data, problems = parse_form(schema, posted)
    clean: dict[str, Any] | None = None
    errors: dict[str, str] = {}
    try:
        clean = ai_service.validate_inputs(tool, data, field="body.input_data")
    except InvalidInput as error:
        errors = errors_from_detail(error.detail, "body.input_data")
    errors.update(problems)
    name = " ".join((posted.get("_name") or [""])[0].split())
    if len(name) > 200:
        errors["_name"] = "At most 200 characters."
    token = (posted.get("_csrf") or [""])[0]
    return Posted(
        values=data,
        errors=errors,
        clean=None if errors else clean,
        name=name,
        csrf=csrf_ok(request, token),
        save=(posted.get("_action") or [""])[0] == "save",
        provider=(posted.get("_provider") or [""])[0].strip(),
    )


def chosen_provider(raw: str) -> uuid.UUID | None:
    """The provider picked on the form (None: the default). Something that is not even an
    id is refused as the API refuses an id that is not the user's."""
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("no such AI provider", code="ai_provider_not_found") from None


async def preflight(
    session: AsyncSession,
    request: Request,
    user: Principal,
    project: Project,
    provider_id: uuid.UUID | None = None,
) -> None:
    """What would refuse a generation, checked before anything is written (so a refused
    request leaves nothing behind and the form can be shown again as it was)."""
    runtime = request.app.state.ai
    await check_budget(
        session,
        settings=runtime.settings,
        user_id=user.id,
        organization_id=project.organization_id,
    )
    await resolve_provider(
        session,
        user_id=user.id,
        settings=runtime.settings,
        cipher=runtime.cipher,
        override_id=provider_id,
        project_provider_id=project.ai_provider_id,
    )


async def start_generation(
    session: AsyncSession,
    request: Request,
    user: Principal,
    project: Project,
    artifact: Artifact,
    provider_id: uuid.UUID | None = None,
) -> Job:
    job, _ = await ai_service.request_generation(
        session,
        runtime=request.app.state.ai,
        user=user,
        artifact=artifact,
        project_organization_id=project.organization_id,
        project_provider_id=project.ai_provider_id,
        provider_id=provider_id,
        notify=wake(request.app.state.jobs),
    )
    return job


def refused(request: Request, form: ToolForm, error: AtelierError) -> Response:
    """The form again after a service refused it: a provider the user cannot use is the
    provider field's error, anything else the page's alert."""
    if error.code == "ai_provider_not_found" and form.provider_id:
        # Only the provider chosen here is refused with this code: a project's provider
        # the user cannot use falls back to the defaults (resolve_provider).
        form.errors["_provider"] = PROVIDER_GONE
        return render_tool_form(request, form, status=422)
    form.alert = failure(error.code, str(error.detail))
    return render_tool_form(request, form, status=error.status_code)


async def _read_into(
    request: Request, session: AsyncSession, user: Principal, form: ToolForm
) -> Posted:
    """Read the posted form into ``form``, with the providers to offer if it comes back."""
    form.providers = await usable_providers(session, user)
    posted = await read_tool_form(request, form.tool)
    form.values, form.errors = posted.values, dict(posted.errors)
    form.provider_id = posted.provider
    if form.name is not None:
        form.name = posted.name
    return posted


async def submit_tool_form(
    request: Request,
    session: AsyncSession,
    user: Principal,
    form: ToolForm,
) -> Response:
    """Create the artifact (a child when ``form.parent`` is set) and start its generation,
    or only save it ("Save as draft"), or show the form again with its errors and
    everything that was typed."""
    posted = await _read_into(request, session, user, form)
    if not posted.csrf:
        form.alert = {"text": "This form expired. Check it and submit it again."}
        return render_tool_form(request, form, status=400)
    if posted.clean is None:
        return render_tool_form(request, form, status=422)
    generate = not (posted.save and form.save_label is not None)
    try:
        provider_id = chosen_provider(posted.provider) if generate else None
        if generate:
            await preflight(session, request, user, form.project, provider_id)
        artifact = await service.create_artifact(
            session,
            project=form.project,
            user=user,
            type=form.tool.key,
            name=posted.name or form.name_default,
            input_data=posted.clean,
            parent_id=form.parent.id if form.parent else None,
            derivation=form.mode.derivation if form.mode else None,
        )
    except AtelierError as error:
        return refused(request, form, error)
    if not generate:
        return RedirectResponse(f"/artifacts/{artifact.id}?msg=draft-saved", status_code=303)
    job = await start_generation(session, request, user, form.project, artifact, provider_id)
    return RedirectResponse(f"/artifacts/{artifact.id}?job={job.id}", status_code=303)


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loaded:
    artifact: Artifact
    project: Project
    tool: Tool | None
    active_version: int | None
    can_write: bool


async def load(
    session: AsyncSession, user: Principal, artifact_id: uuid.UUID, need: Need = Need.READ
) -> Loaded:
    access = await load_artifact(session, user=user, artifact_id=artifact_id, need=need)
    project = await session.get(Project, access.artifact.project_id)
    if project is None:
        raise NotFound("no such artifact", code="artifact_not_found")
    return Loaded(
        artifact=access.artifact,
        project=project,
        tool=load_tools().get(access.artifact.type),
        active_version=access.active_version,
        can_write=access.level >= Need.WRITE,
    )


def _crumbs(project: Project, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Projects", "/projects"), (project.name, project_url(project)), *extra]


def _generatable(loaded: Loaded) -> Tool:
    """The tool, if this artifact can be generated from the web UI (pipeline stages have
    their own pages and rules)."""
    if loaded.tool is None or loaded.artifact.stage_id is not None:
        raise NotFound("this artifact is not made by a form", code="artifact_not_found")
    return loaded.tool


# --- the artifact page -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: ArtifactVersion
    generation: AIGeneration | None

    @property
    def cost(self) -> str | None:
        if self.generation is None:
            return None
        cost = self.generation.estimated_cost or Decimal(0)
        return f"${cost:.4f}" if cost else "free"


async def _version_rows(session: AsyncSession, artifact: Artifact) -> list[VersionRow]:
    rows, _ = await versions.list_versions(
        session, artifact=artifact, cursor=None, limit=MAX_VERSIONS
    )
    ids = [v.ai_generation_id for v in rows if v.ai_generation_id is not None]
    generations: dict[uuid.UUID, AIGeneration] = {}
    if ids:
        found = await session.scalars(select(AIGeneration).where(AIGeneration.id.in_(ids)))
        generations = {g.id: g for g in found.all()}
    return [
        VersionRow(v, generations.get(v.ai_generation_id) if v.ai_generation_id else None)
        for v in rows
    ]


@dataclass(slots=True)
class TreeItem:
    artifact: Artifact
    versions: int
    active: int | None
    current: bool
    children: list[TreeItem] = field(default_factory=list)


async def _history(session: AsyncSession, artifact: Artifact) -> TreeItem:
    """The iteration tree as nested items (the service gives it in pre-order)."""
    nodes = await service.iteration_tree(session, artifact=artifact)
    items = {
        n.artifact.id: TreeItem(
            artifact=n.artifact,
            versions=len(n.versions),
            active=next((v.version for v in n.versions if v.is_active), None),
            current=n.artifact.id == artifact.id,
        )
        for n in nodes
    }
    for node in nodes:
        items[node.artifact.id].children = [items[c] for c in node.children if c in items]
    return items[nodes[0].artifact.id]


async def _job_for_page(
    session: AsyncSession, user: Principal, artifact: Artifact, job_id: uuid.UUID | None
) -> Job | None:
    """The job the page was sent with, else a generation of this artifact still running."""
    if job_id is not None:
        try:
            job = await load_job(session, user=user, job_id=job_id)
        except NotFound:
            return None
        return job if job.artifact_id == artifact.id and job.kind == "generate" else None
    return await session.scalar(
        select(Job)
        .where(
            Job.artifact_id == artifact.id,
            Job.user_id == user.id,
            Job.kind == "generate",
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
        .order_by(Job.created_at.desc())
        .limit(1)
    )


@dataclass(slots=True)
class NameForms:
    """The artifact page's rename and duplicate forms as posted: what was typed (kept when
    it is refused) and what is wrong with it, shown next to the field."""

    rename: str | None = None  # None: the artifact's own name
    rename_error: str | None = None
    copy_name: str = ""
    copy_error: str | None = None


def document_html(artifact: Artifact, tool: Tool | None, data: Any) -> Markup:
    """An output as the artifact page shows it: the export's Markdown, as HTML."""
    return markdown_html(output_markdown(artifact, tool, data))


@router.get("/artifacts/{artifact_id}", response_class=HTMLResponse)
async def artifact_page(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    job: uuid.UUID | None = None,
    saved: int | None = None,
    activated: int | None = None,
    msg: str | None = None,
) -> Response:
    loaded = await load(session, user, artifact_id)
    job_row = await _job_for_page(session, user, loaded.artifact, job)
    flash = notice_of(NOTICES, msg)
    if saved is not None:
        flash = {"kind": "ok", "text": f"Saved as version {saved}."}
    elif activated is not None and activated == loaded.active_version:
        flash = {"kind": "ok", "text": f"Version {activated} is the active version now."}
    elif job_row is not None and job_row.status == JobStatus.SUCCEEDED:
        flash = {"kind": "ok", "text": f"Generated version {loaded.active_version}."}
    return await show_artifact(request, session, loaded, job=job_row, flash=flash)


async def show_artifact(
    request: Request,
    session: AsyncSession,
    loaded: Loaded,
    *,
    job: Job | None = None,
    flash: dict[str, str] | None = None,
    names: NameForms | None = None,
    status: int = 200,
) -> Response:
    """The artifact page; a refused rename or duplicate shows it again with its error."""
    artifact, tool = loaded.artifact, loaded.tool
    rows = await _version_rows(session, artifact)
    document = None
    if artifact.output_data is not None:
        document = document_html(artifact, tool, artifact.output_data)
    inputs: list[FormField] = []
    if tool is not None:
        inputs = build_fields(tool.input_model.model_json_schema(), artifact.input_data)
    return render(
        request,
        "artifacts/artifact.html",
        {
            "a": artifact,
            "project": loaded.project,
            "tool": tool,
            "active_version": loaded.active_version,
            "can_write": loaded.can_write,
            "published": artifact.status == ArtifactStatus.PUBLISHED,
            "formable": tool is not None and artifact.stage_id is None,
            "document": document,
            "versions": rows,
            "tree": await _history(session, artifact),
            "inputs": inputs,
            "raw_inputs": artifact.input_data if tool is None else None,
            "job": job,
            "job_failure": _job_failure(job),
            "modes": [(m, MODE_LABELS[m], m.explanation) for m in Mode],
            "derivations": DERIVATION_LABELS,
            "messages": FAILURES,
            "names": names or NameForms(),
            "crumbs": _crumbs(loaded.project),
            "flash": flash,
            "nav": "projects",
        },
        status=status,
    )


def _job_failure(job: Job | None) -> dict[str, Any] | None:
    if job is None or job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return None
    return failure(job.error_code, job.error_message)


# --- human edit of the output ----------------------------------------------------------------


def _output_fields(
    tool: Tool | None, values: Any, errors: dict[str, str]
) -> tuple[list[FormField], dict[str, Any]]:
    schema = tool.output_schema() if tool is not None else {"type": "object"}
    return build_fields(schema, values, errors), schema


def _render_edit(
    request: Request, loaded: Loaded, values: Any, errors: dict[str, str], status: int = 200
) -> Response:
    fields, _ = _output_fields(loaded.tool, values, errors)
    return render(
        request,
        "artifacts/edit.html",
        {
            "a": loaded.artifact,
            "project": loaded.project,
            "tool": loaded.tool,
            "fields": fields,
            "summary": attach_errors(fields, errors),
            "published": loaded.artifact.status == ArtifactStatus.PUBLISHED,
            "crumbs": _crumbs(
                loaded.project, (loaded.artifact.name, f"/artifacts/{loaded.artifact.id}")
            ),
            "nav": "projects",
        },
        status=status,
    )


def _editable(loaded: Loaded) -> None:
    """Pipeline stages are edited on their stage's page, under the pipeline's rules."""
    if loaded.artifact.stage_id is not None:
        raise NotFound("edit this stage on its stage page", code="artifact_not_found")


@router.get("/artifacts/{artifact_id}/edit", response_class=HTMLResponse)
async def edit_form(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    _editable(loaded)
    return _render_edit(request, loaded, loaded.artifact.output_data or {}, {})


@router.post("/artifacts/{artifact_id}/edit", response_class=HTMLResponse)
async def save_edit(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    _editable(loaded)
    posted = form_values((await request.form()).multi_items())
    _, schema = _output_fields(loaded.tool, None, {})
    data, errors = parse_form(schema, posted)
    if not csrf_ok(request, (posted.get("_csrf") or [""])[0]):
        errors[""] = "This form expired. Check it and save again."
    clean: Any = data
    if loaded.tool is not None and not errors:
        # The API stores any JSON; a person editing here gets the tool's own checks.
        clean, problems = validate_model(loaded.tool.output_model, data)
        errors.update(problems)
    if loaded.artifact.status == ArtifactStatus.PUBLISHED:
        errors[""] = FAILURES["artifact_published"]["text"]
    if errors or clean is None:
        return _render_edit(request, loaded, data, errors, status=422)
    before = loaded.artifact.latest_version
    try:
        await service.update_artifact(
            session, artifact=loaded.artifact, user=user, changes={"output_data": clean}
        )
    except AtelierError as error:  # e.g. published by someone else meanwhile
        return _render_edit(
            request,
            loaded,
            data,
            {"": failure(error.code, str(error.detail))["text"]},
            status=error.status_code,
        )
    number = loaded.artifact.latest_version
    suffix = f"?saved={number}" if number != before else ""
    return RedirectResponse(f"/artifacts/{artifact_id}{suffix}", status_code=303)


# --- new inputs for the same artifact --------------------------------------------------------


def _inputs_form(loaded: Loaded, tool: Tool) -> ToolForm:
    a = loaded.artifact
    return ToolForm(
        project=loaded.project,
        tool=tool,
        action=f"/artifacts/{a.id}/inputs",
        title=f"Change the inputs of {a.name}",
        intro="Generating again makes a new version of this artifact; earlier versions stay.",
        submit="Save inputs and generate",
        cancel_url=f"/artifacts/{a.id}",
        crumbs=_crumbs(loaded.project, (a.name, f"/artifacts/{a.id}")),
        values=dict(a.input_data),
        editing=a,
    )


@router.get("/artifacts/{artifact_id}/inputs", response_class=HTMLResponse)
async def inputs_form(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    form = _inputs_form(loaded, _generatable(loaded))
    form.providers = await usable_providers(session, user)
    if loaded.artifact.status == ArtifactStatus.PUBLISHED:
        form.alert = FAILURES["artifact_published"]
    return render_tool_form(request, form)


@router.post("/artifacts/{artifact_id}/inputs", response_class=HTMLResponse)
async def save_inputs(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    form = _inputs_form(loaded, _generatable(loaded))
    posted = await _read_into(request, session, user, form)
    if not posted.csrf:
        form.alert = {"text": "This form expired. Check it and submit it again."}
        return render_tool_form(request, form, status=400)
    if posted.clean is None:
        return render_tool_form(request, form, status=422)
    try:
        if posted.save:  # "Save inputs": as PATCH input_data, no new version, no job
            await service.update_artifact(
                session, artifact=loaded.artifact, user=user, changes={"input_data": posted.clean}
            )
            msg = "draft-saved" if loaded.artifact.output_data is None else "inputs-saved"
            return RedirectResponse(f"/artifacts/{artifact_id}?msg={msg}", status_code=303)
        provider_id = chosen_provider(posted.provider)
        await preflight(session, request, user, loaded.project, provider_id)
        await service.update_artifact(
            session, artifact=loaded.artifact, user=user, changes={"input_data": posted.clean}
        )
        job = await start_generation(
            session, request, user, loaded.project, loaded.artifact, provider_id
        )
    except AtelierError as error:
        return refused(request, form, error)
    return RedirectResponse(f"/artifacts/{artifact_id}?job={job.id}", status_code=303)


# --- the next iteration (Load / Continue Previous Model) -------------------------------------


def _mode(raw: str | None) -> Mode:
    try:
        return Mode(raw or "")
    except ValueError:
        raise NotFound("no such mode", code="not_found") from None


def _iterate_form(loaded: Loaded, tool: Tool, mode: Mode, job: uuid.UUID | None) -> ToolForm:
    a = loaded.artifact
    query = f"?mode={mode.value}" + (f"&job={job}" if job else "")
    suffix = {"edited_inputs": "edited", "continued": "continued", "merged": "merged"}
    return ToolForm(
        project=loaded.project,
        tool=tool,
        action=f"/artifacts/{a.id}/iterate{query}",
        title=f"Next iteration of {a.name}",
        intro=f"{MODE_LABELS[mode]}: {mode.explanation} Generating creates a new artifact "
        f"derived from {a.name}; it stays as it is.",
        submit="Generate the next iteration",
        cancel_url=f"/artifacts/{a.id}",
        crumbs=_crumbs(loaded.project, (a.name, f"/artifacts/{a.id}")),
        name="",
        name_default=f"{a.name} ({suffix[mode.derivation.value]})"[:200],
        parent=a,
        mode=mode,
    )


@router.get("/artifacts/{artifact_id}/iterate", response_class=HTMLResponse)
async def iterate_form(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    mode: str | None = None,
    job: uuid.UUID | None = None,
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    chosen = _mode(mode)
    form = _iterate_form(loaded, _generatable(loaded), chosen, job)
    form.providers = await usable_providers(session, user)
    if not chosen.uses_ai:
        form.values = dict(loaded.artifact.input_data)
        return render_tool_form(request, form)
    proposal_job = await _proposal_job(session, user, loaded.artifact, chosen, job)
    if proposal_job is None:
        form.pending = "start"
    elif proposal_job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        form.pending, form.job = "job", proposal_job  # the page follows it, then reloads
    elif proposal_job.status == JobStatus.SUCCEEDED:
        result = proposal_job.result or {}
        form.values = dict(result.get("proposal") or {})
        form.note = _kept_note(form.tool, result.get("kept_from_inputs") or [])
    else:
        form.alert = failure(proposal_job.error_code, proposal_job.error_message)
        form.values = dict(loaded.artifact.input_data)
    return render_tool_form(request, form)


def _kept_note(tool: Tool, kept: list[str]) -> str | None:
    """Which fields the AI left empty and the previous inputs filled (smart_populate)."""
    if not kept:
        return None
    fields = tool.input_model.model_fields
    names = [
        (fields[name].title if name in fields and fields[name].title else None)
        or name.replace("_", " ").capitalize()
        for name in kept
    ]
    return (
        "The AI's proposal left these empty, so they keep your previous inputs: "
        + ", ".join(names)
        + "."
    )


async def _proposal_job(
    session: AsyncSession,
    user: Principal,
    artifact: Artifact,
    mode: Mode,
    job_id: uuid.UUID | None,
) -> Job | None:
    """The smart-populate job of this artifact and mode the page was sent with."""
    if job_id is None:
        return None
    try:
        job = await load_job(session, user=user, job_id=job_id)
    except NotFound:
        return None
    if job.artifact_id != artifact.id or job.kind != SMART_POPULATE:
        return None
    return job if job.payload.get("mode") == mode.value else None


@router.post("/artifacts/{artifact_id}/iterate", response_class=HTMLResponse)
async def iterate(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    mode: str | None = None,
    job: uuid.UUID | None = None,
) -> Response:
    # Writing the artifact's project is what creating its child needs.
    loaded = await load(session, user, artifact_id, Need.WRITE)
    form = _iterate_form(loaded, _generatable(loaded), _mode(mode), job)
    return await submit_tool_form(request, session, user, form)


# --- comparing versions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiffRow:
    kind: str  # "same", "add", "del" or "gap" (unchanged lines left out)
    old: int | None
    new: int | None
    text: str


def diff_rows(old: list[str], new: list[str], context: int = DIFF_CONTEXT) -> list[DiffRow]:
    """Line changes from ``old`` to ``new`` with ``context`` unchanged lines around each;
    a "gap" row stands for the unchanged lines left out. No rows: the texts are equal."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    rows: list[DiffRow] = []
    end_old = end_new = 0
    for group in matcher.get_grouped_opcodes(context):
        if group[0][1] > end_old or group[0][3] > end_new:
            rows.append(DiffRow("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("same", i1 + k + 1, j1 + k + 1, old[i1 + k]) for k in range(i2 - i1)
                )
                continue
            rows.extend(DiffRow("del", i + 1, None, old[i]) for i in range(i1, i2))
            rows.extend(DiffRow("add", None, j + 1, new[j]) for j in range(j1, j2))
        end_old, end_new = group[-1][2], group[-1][4]
    if rows and (end_old < len(old) or end_new < len(new)):
        rows.append(DiffRow("gap", None, None, "…"))
    return rows if any(r.kind in ("add", "del") for r in rows) else []


def _lines(loaded: Loaded, version: ArtifactVersion, view: str) -> list[str]:
    data = version_data(version)
    if not isinstance(data, dict | list):
        return str(data).splitlines()
    if view == "json":
        return json.dumps(data, indent=2, ensure_ascii=False).splitlines()
    # Blank lines only separate Markdown blocks: as changes they would be noise.
    text = output_markdown(loaded.artifact, loaded.tool, data)
    return [line for line in text.splitlines() if line.strip()]


@router.get("/artifacts/{artifact_id}/compare", response_class=HTMLResponse)
async def compare(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    a: int | None = None,
    b: int | None = None,
    view: str = "document",
) -> Response:
    loaded = await load(session, user, artifact_id)
    rows = await _version_rows(session, loaded.artifact)
    numbers = [r.version.version for r in rows]  # newest first
    if len(numbers) < 2:
        a = b = numbers[0] if numbers else None
    else:
        a = a if a in numbers else numbers[1]
        b = b if b in numbers else numbers[0]
    view = "json" if view == "json" else "document"
    by_number = {r.version.version: r.version for r in rows}
    diff: list[DiffRow] = []
    if a is not None and b is not None and a != b:
        diff = diff_rows(_lines(loaded, by_number[a], view), _lines(loaded, by_number[b], view))
    return render(
        request,
        "artifacts/compare.html",
        {
            "a_num": a,
            "b_num": b,
            "art": loaded.artifact,
            "project": loaded.project,
            "versions": rows,
            "view": view,
            "diff": diff,
            "added": sum(r.kind == "add" for r in diff),
            "removed": sum(r.kind == "del" for r in diff),
            "crumbs": _crumbs(
                loaded.project, (loaded.artifact.name, f"/artifacts/{loaded.artifact.id}")
            ),
            "nav": "projects",
        },
    )
