"""Projects: create with a unique slug, list what a user can see, soft delete and restore."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import limits
from atelier.accounts.models import OrgRole
from atelier.accounts.org_service import WRITERS, membership_role
from atelier.accounts.principal import Principal
from atelier.core.db import utcnow
from atelier.core.errors import Conflict, Forbidden, field_error
from atelier.core.ids import slugify
from atelier.core.pagination import next_cursor, paginate_query
from atelier.projects.access import Need, ProjectAccess, require, visible_to
from atelier.projects.catalog import DEFAULT_PACK, pipeline_for
from atelier.projects.models import Phase, Project, ProjectStatus

# What a new project counts against the plan (accounts/plans.py).
PROJECT = {"projects": 1}


async def _unique_slug(session: AsyncSession, owner_id: uuid.UUID, name: str) -> str:
    base = slugify(name)
    taken = set(
        (
            await session.scalars(
                select(Project.slug).where(
                    Project.owner_id == owner_id, Project.slug.startswith(base)
                )
            )
        ).all()
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


async def _check_org_write(session: AsyncSession, user: Principal, org_id: uuid.UUID) -> None:
    role = await membership_role(session, user_id=user.id, organization_id=org_id)
    if role is None:
        raise field_error("body.organization_id", "no such organization")
    if role not in WRITERS:
        raise Forbidden(
            f"you are {OrgRole(role)} in this organization; viewers cannot add projects"
        )


async def add_project(
    session: AsyncSession,
    *,
    user: Principal,
    name: str,
    description: str | None = None,
    pack: str = DEFAULT_PACK,
    phase: Phase = Phase.DISCOVER,
    status: ProjectStatus = ProjectStatus.ACTIVE,
    organization_id: uuid.UUID | None = None,
    current_stage: int | None = None,
    metadata: dict[str, Any] | None = None,
    template_id: uuid.UUID | None = None,
    language: str | None = None,
) -> tuple[Project, dict[str, Any] | None]:
    """The project row, and the stage inputs its template gives (if any). A pipeline
    pack's project also needs its stages: ``stages.new_project.create_project`` does both,
    and is what callers use."""
    if organization_id is not None:
        await _check_org_write(session, user, organization_id)
    stage_defaults: dict[str, Any] | None = None
    if template_id is not None:
        template = await _template_for(session, user, template_id)
        pack, stage_defaults = template.pack, dict(template.stage_defaults or {})
    # The plan's project allowance (402), counted with the row (accounts/limits.py).
    await limits.charge(session, user_id=user.id, organization_id=organization_id, amounts=PROJECT)
    project = Project(
        owner_id=user.id,
        organization_id=organization_id,
        name=name,
        slug=await _unique_slug(session, user.id, name),
        description=description,
        pack=pack,
        phase=phase,
        status=status,
        current_stage=current_stage,
        metadata_=metadata or {},
        template_id=template_id,
        language=language,
    )
    session.add(project)
    await session.flush()
    return project, stage_defaults


async def _template_for(session: AsyncSession, user: Principal, template_id: uuid.UUID) -> Any:
    from atelier.core.errors import NotFound
    from atelier.projects.templates import get_template

    try:
        return await get_template(session, user=user, template_id=template_id)
    except NotFound:
        raise field_error("body.template_id", "no such template") from None


async def list_projects(
    session: AsyncSession,
    *,
    user: Principal,
    cursor: str | None,
    limit: int,
    pack: str | None = None,
    status: ProjectStatus | None = None,
    phase: Phase | None = None,
    organization_id: uuid.UUID | None = None,
    search: str | None = None,
    deleted: bool = False,
) -> tuple[list[Project], str | None]:
    query = select(Project).where(visible_to(user))
    if deleted:
        # The trash: only what the user may restore, i.e. their own projects.
        query = query.where(Project.deleted_at.is_not(None), Project.owner_id == user.id)
    else:
        query = query.where(Project.deleted_at.is_(None))
    if pack is not None:
        query = query.where(Project.pack == pack)
    if status is not None:
        query = query.where(Project.status == status)
    if phase is not None:
        query = query.where(Project.phase == phase)
    if organization_id is not None:
        query = query.where(Project.organization_id == organization_id)
    if search:
        query = query.where(Project.name.icontains(search, autoescape=True))
    query = paginate_query(
        query, created_col=Project.created_at, id_col=Project.id, cursor=cursor, limit=limit
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


_MANAGER_ONLY = {"organization_id"}


async def update_project(
    session: AsyncSession, *, access: ProjectAccess, changes: dict[str, Any]
) -> Project:
    project = access.project
    if _MANAGER_ONLY & changes.keys():
        require(access.level, Need.MANAGE)
        org_id = changes["organization_id"]
        if org_id is not None and org_id != project.organization_id:
            await _check_org_write(session, access.user, org_id)
    if "current_stage" in changes and pipeline_for(project.pack) is not None:
        raise Conflict(
            "a pipeline project's current stage moves as its stages are completed "
            "(POST /projects/{id}/stages/{n}/complete)",
            code="current_stage_is_derived",
        )
    for required in ("name", "phase", "status"):
        if required in changes and changes[required] is None:
            raise field_error(f"body.{required}", "may not be null")
    for field, value in changes.items():
        if field == "metadata":
            project.metadata_ = value or {}
        else:
            setattr(project, field, value)
    await session.flush()
    return project


async def soft_delete(session: AsyncSession, *, project: Project) -> None:
    project.deleted_at = utcnow()
    await session.flush()


async def restore(session: AsyncSession, *, project: Project) -> Project:
    if project.deleted_at is None:
        raise Conflict("this project is not deleted", code="not_deleted")
    project.deleted_at = None
    await session.flush()
    return project
