"""/projects/{id}/artifacts and /artifacts/{id}/... (also served as /models/...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from atelier.ai import service as ai_service
from atelier.ai.deps import Runtime
from atelier.artifacts import service, versions
from atelier.artifacts.access import ArtifactRead, ArtifactWrite
from atelier.artifacts.derivation import JOB_KIND as SMART_POPULATE
from atelier.artifacts.models import Artifact, ArtifactStatus
from atelier.artifacts.schemas import (
    ArtifactCreate,
    ArtifactCreated,
    ArtifactOut,
    ArtifactUpdate,
    DuplicateIn,
    HistoryNode,
    HistoryOut,
    SmartPopulateIn,
    SmartPopulateOut,
    VersionOut,
    VersionSummary,
)
from atelier.core.deps import DB, Paging
from atelier.core.errors import Conflict
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.jobs.deps import Runner, wake
from atelier.jobs.schemas import job_out
from atelier.projects.access import ProjectRead, ProjectWrite

project_artifacts_router = APIRouter(prefix="/projects/{project_id}/artifacts", tags=["artifacts"])
artifact_router = APIRouter()

VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def artifact_out(artifact: Artifact, active: int | None) -> ArtifactOut:
    return ArtifactOut.model_validate(artifact).model_copy(update={"active_version": active})


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
    artifact = await service.create_artifact(
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


@project_artifacts_router.get("", response_model=Page[ArtifactOut])
async def list_artifacts(
    access: ProjectRead,
    session: DB,
    page: Paging,
    type: Annotated[str | None, Query(max_length=64, description="tool key")] = None,
    status: ArtifactStatus | None = None,
) -> Page[ArtifactOut]:
    rows, cursor = await service.list_artifacts(
        session,
        project=access.project,
        cursor=page.cursor,
        limit=page.limit,
        type=type,
        status=status,
    )
    return Page(items=[artifact_out(a, active) for a, active in rows], next_cursor=cursor)


@artifact_router.get("/{artifact_id}", response_model=ArtifactOut)
async def get_artifact(access: ArtifactRead) -> ArtifactOut:
    return artifact_out(access.artifact, access.active_version)


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
    artifact = await service.update_artifact(
        session, artifact=access.artifact, user=access.user, changes=changes
    )
    if not output_sent:
        return artifact_out(artifact, access.active_version)
    # The update took the artifact's lock: read the active version as it is now, since
    # another request may have added or activated one since this one loaded the artifact.
    active = await service.active_version(session, artifact.id)
    return artifact_out(artifact, active.version if active else None)


@artifact_router.delete("/{artifact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_artifact(access: ArtifactWrite, session: DB) -> Response:
    await service.soft_delete(session, artifact=access.artifact)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@artifact_router.post(
    "/{artifact_id}/duplicate", status_code=status.HTTP_201_CREATED, response_model=ArtifactOut
)
async def duplicate_artifact(
    access: ArtifactWrite, session: DB, body: DuplicateIn | None = None
) -> ArtifactOut:
    copy = await service.duplicate(
        session, artifact=access.artifact, user=access.user, name=body.name if body else None
    )
    return artifact_out(copy, copy.latest_version or None)


@artifact_router.get("/{artifact_id}/history", response_model=HistoryOut)
async def artifact_history(access: ArtifactRead, session: DB) -> HistoryOut:
    """The iteration tree: the original, everything derived from it (edited inputs,
    continued, merged, duplicated), each with its derivation, status and versions."""
    tree = await service.iteration_tree(session, artifact=access.artifact)
    nodes = []
    for node in tree:
        active = next((v.version for v in node.versions if v.is_active), None)
        nodes.append(
            HistoryNode(
                **artifact_out(node.artifact, active).model_dump(),
                deleted_at=node.artifact.deleted_at,
                depth=node.depth,
                children=node.children,
                versions=[VersionSummary.model_validate(v) for v in node.versions],
            )
        )
    return HistoryOut(root_id=tree[0].artifact.id, current_id=access.artifact.id, items=nodes)


@artifact_router.get("/{artifact_id}/versions", response_model=Page[VersionOut])
async def list_versions(access: ArtifactRead, session: DB, page: Paging) -> Page[VersionOut]:
    rows, cursor = await versions.list_versions(
        session, artifact=access.artifact, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[VersionOut.model_validate(v) for v in rows], next_cursor=cursor)


@artifact_router.get("/{artifact_id}/versions/{version}", response_model=VersionOut)
async def get_version(version: VersionNumber, access: ArtifactRead, session: DB) -> VersionOut:
    row = await versions.get_version(session, artifact=access.artifact, number=version)
    return VersionOut.model_validate(row)


@artifact_router.post(
    "/{artifact_id}/versions/{version}/activate",
    response_model=VersionOut,
    responses=error_responses(409),
)
async def activate_version(
    version: VersionNumber, access: ArtifactWrite, session: DB
) -> VersionOut:
    row = await versions.activate_version(session, artifact=access.artifact, number=version)
    return VersionOut.model_validate(row)


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
