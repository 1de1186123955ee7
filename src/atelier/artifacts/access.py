"""Loading an artifact goes through its project's access rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.deps import CurrentUser
from atelier.accounts.principal import Principal
from atelier.artifacts.models import Artifact
from atelier.artifacts.service import active_version_number
from atelier.core.deps import DB
from atelier.core.errors import NotFound
from atelier.projects.access import Need, access_level, require
from atelier.projects.models import Project


@dataclass(frozen=True, slots=True)
class ArtifactAccess:
    artifact: Artifact
    user: Principal
    level: Need
    active_version: int | None


# Built once, so the hot read path reuses the memoised statement and its cache key.
_LOAD_ARTIFACT = (
    # Only the columns the access check needs: loading a whole Project row here cost
    # a noticeable share of every artifact request.
    select(Artifact, Project.owner_id, Project.organization_id, active_version_number())
    .join(Project, Project.id == Artifact.project_id)
    .where(
        Artifact.id == bindparam("artifact_id"),
        Artifact.deleted_at.is_(None),
        Project.deleted_at.is_(None),
    )
)


async def load_artifact(
    session: AsyncSession, *, user: Principal, artifact_id: uuid.UUID, need: Need = Need.READ
) -> ArtifactAccess:
    row = (await session.execute(_LOAD_ARTIFACT, {"artifact_id": artifact_id})).first()
    if row is None:
        raise NotFound("no such artifact", code="artifact_not_found")
    artifact, owner_id, organization_id, active = row
    level = await access_level(session, user, owner_id=owner_id, organization_id=organization_id)
    if level is None:
        raise NotFound("no such artifact", code="artifact_not_found")
    require(level, need)
    return ArtifactAccess(artifact=artifact, user=user, level=level, active_version=active)


def _dependency(need: Need) -> object:
    async def dependency(artifact_id: uuid.UUID, user: CurrentUser, session: DB) -> ArtifactAccess:
        return await load_artifact(session, user=user, artifact_id=artifact_id, need=need)

    return Depends(dependency)


ArtifactRead = Annotated[ArtifactAccess, _dependency(Need.READ)]
ArtifactWrite = Annotated[ArtifactAccess, _dependency(Need.WRITE)]
