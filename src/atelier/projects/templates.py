"""Templates (seed 001): built-in starting points and the ones users save from projects.

The built-ins live in the packs' code (``PackSpec.templates``) and are mirrored into the
templates table under fixed ids, so that a project can point at one like at any other.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.core.errors import Conflict, NotFound
from atelier.projects.catalog import builtin_templates
from atelier.projects.models import Project, Stage, Template, TemplateCategory

_NAMESPACE = uuid.UUID("5b0f6f4e-93a4-4c5e-9b8e-2f1f7a0b6c11")


def builtin_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"template:{key}")


def _builtin_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": builtin_id(spec.key),
            "owner_id": None,
            "pack": pack,
            "name": spec.name,
            "description": spec.description,
            "category": TemplateCategory(spec.category),
            "icon": spec.icon,
            "stage_defaults": spec.stage_defaults,
            "is_built_in": True,
        }
        for pack, spec in builtin_templates()
    ]


async def ensure_builtins(session: AsyncSession) -> None:
    """Insert the built-ins that are missing (concurrent callers are fine: ON CONFLICT)."""
    ids = [builtin_id(spec.key) for _, spec in builtin_templates()]
    present = set((await session.scalars(select(Template.id).where(Template.id.in_(ids)))).all())
    missing = [row for row in _builtin_rows() if row["id"] not in present]
    if not missing:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(Template).values(missing).on_conflict_do_nothing())


def _visible(user: Principal) -> Any:
    return or_(Template.is_built_in.is_(True), Template.owner_id == user.id)


async def list_templates(
    session: AsyncSession,
    *,
    user: Principal,
    pack: str | None = None,
    category: TemplateCategory | None = None,
) -> list[Template]:
    await ensure_builtins(session)
    query = select(Template).where(_visible(user))
    if pack is not None:
        query = query.where(Template.pack == pack)
    if category is not None:
        query = query.where(Template.category == category)
    rows = (await session.scalars(query)).all()
    order = {builtin_id(spec.key): n for n, (_, spec) in enumerate(builtin_templates())}
    # Built-ins in their catalogue order, then the user's own, newest first.
    return sorted(
        rows,
        key=lambda t: (0, order.get(t.id, 0), "") if t.is_built_in else (1, 0, _newest(t)),
    )


def _newest(template: Template) -> str:
    return "" if template.created_at is None else str(-template.created_at.timestamp())


async def get_template(
    session: AsyncSession, *, user: Principal, template_id: uuid.UUID
) -> Template:
    await ensure_builtins(session)
    template = await session.scalar(
        select(Template).where(Template.id == template_id, _visible(user))
    )
    if template is None:
        raise NotFound("no such template", code="template_not_found")
    return template


async def save_as_template(
    session: AsyncSession,
    *,
    user: Principal,
    project: Project,
    name: str,
    description: str,
    category: TemplateCategory,
    icon: str | None,
) -> Template:
    """A user template from a project: each stage's user input becomes its default."""
    stages = (
        await session.scalars(
            select(Stage).where(Stage.project_id == project.id).order_by(Stage.stage_number)
        )
    ).all()
    if not stages:
        raise Conflict("only pipeline projects can be saved as templates", code="no_stages")
    template = Template(
        owner_id=user.id,
        pack=project.pack,
        name=name,
        description=description,
        category=category,
        icon=icon,
        stage_defaults={s.stage_name: {"userInput": s.user_input} for s in stages if s.user_input},
        is_built_in=False,
    )
    session.add(template)
    await session.flush()
    return template


async def delete_template(
    session: AsyncSession, *, user: Principal, template_id: uuid.UUID
) -> None:
    template = await get_template(session, user=user, template_id=template_id)
    if template.is_built_in:
        raise Conflict("built-in templates cannot be deleted", code="template_built_in")
    await session.delete(template)
