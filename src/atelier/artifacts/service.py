"""Artifacts: create, list, edit (a new version per output change), duplicate, lineage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ScalarSelect, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.artifacts.models import (
    Artifact,
    ArtifactStatus,
    ArtifactVersion,
    Derivation,
    GeneratedBy,
)
from atelier.artifacts.versions import (
    add_first_version,
    add_version,
    json_content,
    lock_artifact,
    published_error,
)
from atelier.core.db import utcnow
from atelier.core.errors import field_error
from atelier.core.pagination import next_cursor, paginate_query
from atelier.projects.models import Project

MAX_LINEAGE_DEPTH = 1000
# A history answer stays bounded however much a tree grows.
MAX_TREE_NODES = 500


async def _check_parent(
    session: AsyncSession, *, project: Project, parent_id: uuid.UUID
) -> Artifact:
    parent = await session.get(Artifact, parent_id)
    if parent is None or parent.project_id != project.id or parent.deleted_at is not None:
        raise field_error("body.parent_id", "no such artifact in this project")
    return parent


async def create_artifact(
    session: AsyncSession,
    *,
    project: Project,
    user: Principal,
    type: str,
    name: str,
    input_data: dict[str, Any],
    output_data: dict[str, Any] | None = None,
    status: ArtifactStatus = ArtifactStatus.DRAFT,
    parent_id: uuid.UUID | None = None,
    derivation: Derivation | None = None,
    stage_id: uuid.UUID | None = None,
) -> Artifact:
    if parent_id is not None:
        await _check_parent(session, project=project, parent_id=parent_id)
        if derivation in (None, Derivation.CREATED):
            raise field_error("body.derivation", "say how this artifact derives from its parent")
    elif derivation not in (None, Derivation.CREATED):
        raise field_error("body.parent_id", f"a {derivation} artifact needs its parent's id")
    artifact = Artifact(
        project_id=project.id,
        user_id=user.id,
        stage_id=stage_id,
        type=type,
        name=name,
        status=status,
        input_data=input_data,
        parent_id=parent_id,
        derivation=derivation or Derivation.CREATED,
    )
    if output_data is None:
        session.add(artifact)
        await session.flush()
    else:
        await add_first_version(
            session,
            artifact=artifact,
            content=json_content(output_data),
            generated_by=GeneratedBy.HUMAN,
            created_by_id=user.id,
        )
    return artifact


async def list_artifacts(
    session: AsyncSession,
    *,
    project: Project,
    cursor: str | None,
    limit: int,
    type: str | None = None,
    status: ArtifactStatus | None = None,
) -> tuple[list[tuple[Artifact, int | None]], str | None]:
    query = select(Artifact, active_version_number()).where(
        Artifact.project_id == project.id, Artifact.deleted_at.is_(None)
    )
    if type is not None:
        query = query.where(Artifact.type == type)
    if status is not None:
        query = query.where(Artifact.status == status)
    query = paginate_query(
        query,
        created_col=Artifact.created_at,
        id_col=Artifact.id,
        cursor=cursor,
        limit=limit,
    )
    rows: list[tuple[Artifact, int | None]] = [
        (artifact, active) for artifact, active in (await session.execute(query)).all()
    ]
    return rows[:limit], next_cursor([a for a, _ in rows], limit)


async def update_artifact(
    session: AsyncSession, *, artifact: Artifact, user: Principal, changes: dict[str, Any]
) -> Artifact:
    for required in ("name", "status", "input_data"):
        if required in changes and changes[required] is None:
            raise field_error(f"body.{required}", "may not be null")
    # Moving back to draft unlocks the same request's edits; publishing comes after them.
    if changes.get("status") == ArtifactStatus.DRAFT:
        artifact.status = changes.pop("status")
    if artifact.status == ArtifactStatus.PUBLISHED and "input_data" in changes:
        raise published_error()
    output = changes.pop("output_data", None)
    if output is not None:
        # Compare with the output as it is once no other edit can slip in between.
        await lock_artifact(session, artifact)
    if output is not None and output != artifact.output_data:
        await add_version(
            session,
            artifact=artifact,
            content=json_content(output),
            generated_by=GeneratedBy.HUMAN,
            created_by_id=user.id,
        )
    for field, value in changes.items():
        setattr(artifact, field, value)
    await session.flush()
    return artifact


def active_version_number() -> ScalarSelect[int]:
    """Correlated subquery: the active version's number, read with the artifact row."""
    return (
        select(ArtifactVersion.version)
        .where(ArtifactVersion.artifact_id == Artifact.id, ArtifactVersion.is_active.is_(True))
        .correlate(Artifact)
        .scalar_subquery()
    )


async def active_version(session: AsyncSession, artifact_id: uuid.UUID) -> ArtifactVersion | None:
    version: ArtifactVersion | None = await session.scalar(
        select(ArtifactVersion).where(
            ArtifactVersion.artifact_id == artifact_id, ArtifactVersion.is_active.is_(True)
        )
    )
    return version


async def duplicate(
    session: AsyncSession, *, artifact: Artifact, user: Principal, name: str | None
) -> Artifact:
    copy = Artifact(
        project_id=artifact.project_id,
        user_id=user.id,
        stage_id=artifact.stage_id,
        type=artifact.type,
        name=name or f"{artifact.name} (copy)"[:200],
        status=ArtifactStatus.DRAFT,
        input_data=dict(artifact.input_data),
        parent_id=artifact.id,
        derivation=Derivation.DUPLICATED,
    )
    source = await active_version(session, artifact.id)
    if source is None:
        session.add(copy)
        await session.flush()
    else:
        await add_first_version(
            session,
            artifact=copy,
            content=source.content,
            format=source.format,
            generated_by=source.generated_by,
            created_by_id=user.id,
            ai_generation_id=source.ai_generation_id,
        )
    return copy


@dataclass(frozen=True, slots=True)
class TreeNode:
    artifact: Artifact
    depth: int
    children: list[uuid.UUID]
    versions: list[ArtifactVersion]


async def iteration_tree(session: AsyncSession, *, artifact: Artifact) -> list[TreeNode]:
    """The whole iteration tree ``artifact`` belongs to, in pre-order from its root: up
    the parent links to the original, then every descendant (siblings and cousins
    too), deleted ones included so that the tree stays connected."""
    root, seen = artifact, {artifact.id}
    while root.parent_id is not None and len(seen) < MAX_LINEAGE_DEPTH:
        parent = await session.get(Artifact, root.parent_id)
        if parent is None or parent.id in seen or parent.project_id != artifact.project_id:
            break
        root = parent
        seen.add(parent.id)
    members: dict[uuid.UUID, Artifact] = {root.id: root}
    children: dict[uuid.UUID, list[uuid.UUID]] = {root.id: []}
    frontier = [root.id]
    while frontier and len(members) < MAX_TREE_NODES:
        rows = (
            await session.scalars(
                select(Artifact)
                .where(Artifact.parent_id.in_(frontier), Artifact.project_id == root.project_id)
                .order_by(Artifact.created_at, Artifact.id)
                .limit(MAX_TREE_NODES)
            )
        ).all()
        frontier = []
        for row in rows:
            if row.id in members or row.parent_id is None:
                continue
            members[row.id] = row
            children.setdefault(row.id, [])
            children[row.parent_id].append(row.id)
            frontier.append(row.id)
    versions = (
        await session.scalars(
            select(ArtifactVersion)
            .where(ArtifactVersion.artifact_id.in_(list(members)))
            .order_by(ArtifactVersion.version)
        )
    ).all()
    by_artifact: dict[uuid.UUID, list[ArtifactVersion]] = {key: [] for key in members}
    for version in versions:
        by_artifact[version.artifact_id].append(version)
    ordered: list[TreeNode] = []
    stack = [(root.id, 0)]
    while stack:
        node_id, depth = stack.pop()
        ordered.append(TreeNode(members[node_id], depth, children[node_id], by_artifact[node_id]))
        stack.extend((child, depth + 1) for child in reversed(children[node_id]))
    return ordered


async def soft_delete(session: AsyncSession, *, artifact: Artifact) -> None:
    artifact.deleted_at = utcnow()
    await session.flush()
