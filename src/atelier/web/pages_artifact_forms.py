"""Pages of the web UI: the tool form for an artifact that exists.

* ``/artifacts/{id}/inputs``: new inputs for the same artifact; generating again makes a
  new version of it (or "Save inputs" only stores them);
* ``/artifacts/{id}/iterate?mode=``: the next iteration, a new artifact derived from this
  one. The AI modes first wait for a smart-populate job's proposal of inputs, then show
  it in the form to check and change.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai.tools import Tool
from atelier.artifacts import service
from atelier.artifacts.derivation import JOB_KIND as SMART_POPULATE
from atelier.artifacts.derivation import Mode
from atelier.artifacts.models import Artifact, ArtifactStatus
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, NotFound
from atelier.jobs.models import Job, JobStatus
from atelier.jobs.service import load_job
from atelier.projects.access import Need
from atelier.web.artifact_loading import Loaded, artifact_crumbs, generatable, load
from atelier.web.artifact_views import MODE_LABELS
from atelier.web.failure_messages import FAILURES, failure
from atelier.web.session import WebUser
from atelier.web.tool_form import (
    EXPIRED,
    ToolForm,
    chosen_provider,
    preflight,
    read_into,
    refused,
    render_tool_form,
    start_generation,
    submit_tool_form,
    usable_providers,
)

router = APIRouter(include_in_schema=False)


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
        crumbs=artifact_crumbs(loaded),
        values=dict(a.input_data),
        editing=a,
    )


@router.get("/artifacts/{artifact_id}/inputs", response_class=HTMLResponse)
async def inputs_form(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    form = _inputs_form(loaded, generatable(loaded))
    form.providers = await usable_providers(session, user)
    if loaded.artifact.status == ArtifactStatus.PUBLISHED:
        form.alert = FAILURES["artifact_published"]
    return render_tool_form(request, form)


@router.post("/artifacts/{artifact_id}/inputs", response_class=HTMLResponse)
async def save_inputs(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    form = _inputs_form(loaded, generatable(loaded))
    posted = await read_into(request, session, user, form)
    if not posted.csrf:
        form.alert = {"text": EXPIRED}
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
        crumbs=artifact_crumbs(loaded),
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
    form = _iterate_form(loaded, generatable(loaded), chosen, job)
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
        form.changed = set(result.get("changed_fields") or [])
        form.note = _proposal_note(form.tool, result)
    else:
        form.alert = failure(proposal_job.error_code, proposal_job.error_message)
        form.values = dict(loaded.artifact.input_data)
    return render_tool_form(request, form)


def _proposal_note(tool: Tool, result: dict[str, Any]) -> str | None:
    """What to know about an AI proposal (smart_populate's result): what it changed, that
    it found nothing to add, and which fields it left empty so they keep the inputs."""
    fields = tool.input_model.model_fields

    def names(keys: list[str]) -> str:
        return ", ".join(
            (fields[k].title if k in fields and fields[k].title else None)
            or k.replace("_", " ").capitalize()
            for k in keys
        )

    parts = []
    changed = list(result.get("changed_fields") or [])
    if result.get("nothing_added"):
        parts.append(
            "The AI found nothing to add: the form holds your inputs as they were. Edit "
            "them yourself, or try the other mode."
        )
    elif changed:
        parts.append(f"The proposal changed: {names(changed)} (marked below).")
    kept = list(result.get("kept_from_inputs") or [])
    if kept:
        parts.append(
            f"The AI's proposal left these empty, so they keep your previous inputs: {names(kept)}."
        )
    return " ".join(parts) or None


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
    form = _iterate_form(loaded, generatable(loaded), _mode(mode), job)
    return await submit_tool_form(request, session, user, form)
