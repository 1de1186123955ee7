"""The artifact routes that need its AI tool: create (inputs checked against the tool,
optionally generating at once), change inputs, generate, and smart-populate."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from atelier.ai import service as ai_service
from atelier.ai.deps import Runtime
from atelier.ai.schemas import GenerateIn
from atelier.artifacts import service as artifacts
from atelier.artifacts.access import ArtifactWrite
from atelier.artifacts.derivation import JOB_KIND as SMART_POPULATE
from atelier.artifacts.endpoints import artifact_out
from atelier.artifacts.schemas import (
    ArtifactCreate,
    ArtifactCreated,
    ArtifactOut,
    ArtifactUpdate,
    SmartPopulateIn,
    SmartPopulateOut,
)
from atelier.core.deps import DB
from atelier.core.errors import Conflict
from atelier.core.openapi import error_responses
from atelier.jobs.deps import Runner, wake
from atelier.jobs.schemas import JobOut, job_out
from atelier.projects.access import ProjectWrite

project_artifacts_router = APIRouter(prefix="/projects/{project_id}/artifacts", tags=["artifacts"])
# Mounted under /artifacts and /models, like ``artifacts.endpoints.artifact_router``.
artifact_router = APIRouter()


@project_artifacts_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ArtifactCreated,
    responses=error_responses(402, 409),
)
async def create_artifact(
    body: ArtifactCreate, access: ProjectWrite, session: DB, runtime: Runtime, runner: Runner
) -> ArtifactCreated:
    """Create an artifact; with ``generate: true`` also start its AI generation (``job``)."""
    data = body.model_dump(exclude={"generate", "provider_id"})
    tool = runtime.tools.get(body.type)
    if tool is not None:  # a tool's artifact: its inputs must fit the tool's input model
        data["input_data"] = ai_service.validate_inputs(
            tool, body.input_data, field="body.input_data"
        )
    elif body.generate:
        ai_service.tool_for(runtime, body.type)  # no such tool: a 422 naming body.type
    artifact = await artifacts.create_artifact(
        session, project=access.project, user=access.user, **data
    )
    job = None
    if body.generate:
        job, _ = await ai_service.request_generation(
            session,
            runtime=runtime,
            user=access.user,
            artifact=artifact,
            project_organization_id=access.project.organization_id,
            project_provider_id=access.project.ai_provider_id,
            provider_id=body.provider_id,
            notify=wake(runner),
        )
    out = artifact_out(artifact, artifact.latest_version or None)
    return ArtifactCreated(**out.model_dump(), job=job_out(job) if job else None)


@artifact_router.patch("/{artifact_id}", response_model=ArtifactOut, responses=error_responses(409))
async def update_artifact(
    body: ArtifactUpdate, access: ArtifactWrite, session: DB, runtime: Runtime
) -> ArtifactOut:
    changes = body.model_dump(exclude_unset=True)
    if access.artifact.stage_id is not None and changes.keys() & {"input_data", "output_data"}:
        # The stage's lifecycle decides when its input and output may change.
        raise Conflict(
            "this artifact is a pipeline stage's output: change its input or output with "
            "PATCH /api/v1/projects/{project_id}/stages/{number}",
            code="use_stage_endpoint",
        )
    tool = runtime.tools.get(access.artifact.type)
    if tool is not None and changes.get("input_data") is not None:
        changes["input_data"] = ai_service.validate_inputs(
            tool, changes["input_data"], field="body.input_data"
        )
    output_sent = changes.get("output_data") is not None
    artifact = await artifacts.update_artifact(
        session, artifact=access.artifact, user=access.user, changes=changes
    )
    if not output_sent:
        return artifact_out(artifact, access.active_version)
    # The update took the artifact's lock: read the active version as it is now, since
    # another request may have added or activated one since this one loaded the artifact.
    active = await artifacts.active_version(session, artifact.id)
    return artifact_out(artifact, active.version if active else None)


@artifact_router.post(
    "/{artifact_id}/generate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    responses=error_responses(402, 409),
)
async def generate(
    access: ArtifactWrite,
    session: DB,
    runtime: Runtime,
    runner: Runner,
    body: GenerateIn | None = None,
) -> JobOut:
    artifact = access.artifact
    if artifact.stage_id is not None:
        # The stage's lifecycle decides when it may generate.
        raise Conflict(
            "this artifact is a pipeline stage's output: generate it with "
            "POST /api/v1/projects/{project_id}/stages/{number}/generate",
            code="use_stage_endpoint",
        )
    body = body or GenerateIn()
    if body.input_data is not None:
        tool = ai_service.tool_for(runtime, artifact.type, field="type")
        artifact.input_data = ai_service.validate_inputs(
            tool, body.input_data, field="body.input_data"
        )
    job = await ai_service.request_for_artifact(
        session,
        runtime=runtime,
        user=access.user,
        artifact=artifact,
        provider_id=body.provider_id,
        notify=wake(runner),
    )
    return job_out(job)


@artifact_router.post(
    "/{artifact_id}/smart-populate",
    response_model=SmartPopulateOut,
    responses={
        202: {"model": SmartPopulateOut, "description": "AI modes: a job was queued"},
        **error_responses(402, 409),
    },
)
async def smart_populate(
    body: SmartPopulateIn,
    access: ArtifactWrite,
    session: DB,
    runtime: Runtime,
    runner: Runner,
    response: Response,
) -> SmartPopulateOut:
    """A starting input for the next iteration (seed 000's three modes). The proposal is
    not saved: create a child artifact from it with ``parent_id`` and ``derivation``."""
    artifact = access.artifact
    mode = body.mode
    if not mode.uses_ai:
        return SmartPopulateOut(
            mode=mode,
            derivation=mode.derivation,
            explanation=mode.explanation,
            proposal=dict(artifact.input_data),
            job=None,
        )
    if artifact.output_data is None:
        raise Conflict(
            f"{mode.value} starts from the artifact's output and it has none yet: generate "
            "it first, or use edit_inputs",
            code="no_output",
        )
    job = await ai_service.request_for_artifact(
        session,
        runtime=runtime,
        user=access.user,
        artifact=artifact,
        provider_id=body.provider_id,
        notify=wake(runner),
        kind=SMART_POPULATE,
        payload={"mode": mode.value},
    )
    response.status_code = status.HTTP_202_ACCEPTED
    return SmartPopulateOut(
        mode=mode,
        derivation=mode.derivation,
        explanation=mode.explanation,
        proposal=None,
        job=job_out(job),
    )
