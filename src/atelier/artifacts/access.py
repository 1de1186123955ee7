"""Loading an artifact goes through its project's access rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.deps import CurrentUser
from atelier.accounts.models import User
from atelier.artifacts.models import Artifact
from atelier.artifacts.service import active_version_number
from atelier.core.deps import DB
from atelier.core.errors import NotFound
from atelier.projects.access import Need, access_level, require
from atelier.projects.models import Project


@dataclass(frozen=True, slots=True)
class ArtifactAccess:
    artifact: Artifact
    project: Project
    user: User
    level: Need
    active_version: int | None


async def load_artifact(
    session: AsyncSession, *, user: User, artifact_id: uuid.UUID, need: Need = Need.READ
) -> ArtifactAccess:
    row = (
        await session.execute(
            select(Artifact, Project, active_version_number())
            .join(Project, Project.id == Artifact.project_id)
            .where(
                Artifact.id == artifact_id,
                Artifact.deleted_at.is_(None),
                Project.deleted_at.is_(None),
            )
        )
    ).first()
    if row is None:
        raise NotFound("no such artifact", code="artifact_not_found")
    artifact, project, active = row
    level = await access_level(session, user, project)
    if level is None:
        raise NotFound("no such artifact", code="artifact_not_found")
    require(level, need)
    return ArtifactAccess(
        artifact=artifact, project=project, user=user, level=level, active_version=active
    )


def _dependency(need: Need) -> object:
    async def dependency(artifact_id: uuid.UUID, user: CurrentUser, session: DB) -> ArtifactAccess:
        return await load_artifact(session, user=user, artifact_id=artifact_id, need=need)

    return Depends(dependency)


ArtifactRead = Annotated[ArtifactAccess, _dependency(Need.READ)]
ArtifactWrite = Annotated[ArtifactAccess, _dependency(Need.WRITE)]
