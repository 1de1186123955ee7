"""Who may do what with a project: the owner, then members of its organization by role.

Anyone else gets 404: the project does not exist for them.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.deps import CurrentUser
from atelier.accounts.models import Membership, OrgRole
from atelier.accounts.principal import Principal
from atelier.core.deps import DB
from atelier.core.errors import Forbidden, NotFound
from atelier.projects.models import Project


class Need(enum.IntEnum):
    READ = 1
    WRITE = 2
    MANAGE = 3  # delete, restore, move between organizations


_ORG_LEVEL = {
    OrgRole.VIEWER: Need.READ,
    OrgRole.MEMBER: Need.WRITE,
    OrgRole.ADMIN: Need.MANAGE,
    OrgRole.OWNER: Need.MANAGE,
}


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    project: Project
    user: Principal
    level: Need


def visible_to(user: Principal) -> ColumnElement[bool]:
    """SQL condition: projects this user owns or reaches through an organization."""
    orgs = select(Membership.organization_id).where(Membership.user_id == user.id)
    return or_(Project.owner_id == user.id, Project.organization_id.in_(orgs))


_MEMBER_ROLE = select(Membership.role).where(
    Membership.user_id == bindparam("user_id"),
    Membership.organization_id == bindparam("organization_id"),
)


async def access_level(
    session: AsyncSession,
    user: Principal,
    *,
    owner_id: uuid.UUID,
    organization_id: uuid.UUID | None,
) -> Need | None:
    """How far ``user`` may go with a project owned by ``owner_id`` in ``organization_id``."""
    if owner_id == user.id:
        return Need.MANAGE
    if organization_id is None:
        return None
    role = await session.scalar(
        _MEMBER_ROLE, {"user_id": user.id, "organization_id": organization_id}
    )
    return _ORG_LEVEL[role] if role is not None else None


def require(level: Need | None, need: Need) -> None:
    if level is None:
        raise NotFound("no such project", code="project_not_found")
    if level < need:
        raise Forbidden(
            "your role in this project's organization allows reading only"
            if level == Need.READ
            else "only the owner or an organization admin can do this"
        )


async def load_project(
    session: AsyncSession,
    *,
    user: Principal,
    project_id: uuid.UUID,
    need: Need = Need.READ,
    include_deleted: bool = False,
) -> ProjectAccess:
    project = await session.get(Project, project_id)
    if project is None or (project.deleted_at is not None and not include_deleted):
        raise NotFound("no such project", code="project_not_found")
    level = await access_level(
        session, user, owner_id=project.owner_id, organization_id=project.organization_id
    )
    require(level, need)
    assert level is not None
    return ProjectAccess(project=project, user=user, level=level)


def _dependency(need: Need) -> object:
    async def dependency(project_id: uuid.UUID, user: CurrentUser, session: DB) -> ProjectAccess:
        return await load_project(session, user=user, project_id=project_id, need=need)

    return Depends(dependency)


ProjectRead = Annotated[ProjectAccess, _dependency(Need.READ)]
ProjectWrite = Annotated[ProjectAccess, _dependency(Need.WRITE)]
