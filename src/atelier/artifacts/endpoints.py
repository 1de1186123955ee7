"""/projects/{id}/artifacts and /artifacts/{id}/... (also served as /models/...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from atelier.artifacts import service, versions
from atelier.artifacts.access import ArtifactRead, ArtifactWrite
from atelier.artifacts.models import Artifact, ArtifactStatus
from atelier.artifacts.schemas import (
    ArtifactOut,
    DuplicateIn,
    HistoryNode,
    HistoryOut,
    VersionOut,
    VersionSummary,
)
from atelier.core.deps import DB, Paging
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.projects.access import ProjectRead

project_artifacts_router = APIRouter(prefix="/projects/{project_id}/artifacts", tags=["artifacts"])
artifact_router = APIRouter()

VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def artifact_out(artifact: Artifact, active: int | None) -> ArtifactOut:
    return ArtifactOut.model_validate(artifact).model_copy(update={"active_version": active})


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
