"""The software design pipeline's own steps on the database: the deterministic stages
(database compiled from the data model, export), package snapshots, exports and imports."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.artifacts.models import Artifact, GeneratedBy

# Re-exported: the pack's pages and MCP resources read it from here.
from atelier.artifacts.versions import active_version_info as active_version_info
from atelier.artifacts.versions import add_version, json_content
from atelier.core.errors import Conflict
from atelier.packs.sdp.datamodel import DataModel
from atelier.packs.sdp.package import ProjectSnapshot, StageSnapshot, build_package
from atelier.packs.sdp.sqlgen import compile_all
from atelier.packs.sdp.stage_tools import DatabaseSchema
from atelier.projects.models import Project, Stage, Template
from atelier.stages.pipeline import StageState, ensure_changeable, list_stages


async def snapshot(session: AsyncSession, project: Project) -> ProjectSnapshot:
    states = await list_stages(session, project)
    active = await active_version_info(session, [s.artifact.id for s in states])
    # An imported project keeps the name of the template its package came from.
    template_name = (project.metadata_ or {}).get("template")
    if project.template_id is not None:
        template_name = await session.scalar(
            select(Template.name).where(Template.id == project.template_id)
        )
    stages = []
    for state in states:
        version = active.get(state.artifact.id)
        stages.append(
            StageSnapshot(
                number=state.stage.stage_number,
                name=state.stage.stage_name,
                label=state.stage.stage_label,
                status=state.stage.status.value,
                needs_review=state.stage.needs_review,
                user_input=state.stage.user_input,
                version=version[0] if version else None,
                generated_by=version[1] if version else None,
                data=state.artifact.output_data if version else None,
            )
        )
    return ProjectSnapshot(
        name=project.name,
        slug=project.slug,
        description=project.description,
        stages=stages,
        template=template_name,
    )


def _missing(stage_label: str, needed: str) -> Conflict:
    return Conflict(
        f"{stage_label} is built from the {needed}, which has no output yet: generate it first",
        code="missing_earlier_stage",
    )


async def compile_database(
    session: AsyncSession, project: Project, state: StageState, user: Principal
) -> None:
    """The database stage's deterministic version: SQL compiled from the active data model."""
    ensure_changeable(state)
    states = await list_stages(session, project)
    source = next((s for s in states if s.stage.stage_name == "dataModel"), None)
    if source is None or not source.artifact.output_data:
        raise _missing(state.stage.stage_label, "data model (stage 2)")
    data_model = DataModel.model_validate(source.artifact.output_data)
    sql = compile_all(data_model)
    schema = DatabaseSchema(
        sqlite=sql["sqlite"],
        postgresql=sql["postgresql"],
        data_model_version=source.artifact.latest_version,
        notes=[],
        indexes=[],
    )
    await add_version(
        session,
        artifact=state.artifact,
        content=schema.model_dump_json(),
        generated_by=GeneratedBy.SYSTEM,
        created_by_id=user.id,
    )


async def compile_export(
    session: AsyncSession, project: Project, state: StageState, user: Principal
) -> dict[str, Any]:
    """The export stage's version: the validation report of the package as it is now."""
    ensure_changeable(state)
    package = build_package(await snapshot(session, project))
    report = package.report.to_json()
    await add_version(
        session,
        artifact=state.artifact,
        content=json_content(report),
        generated_by=GeneratedBy.SYSTEM,
        created_by_id=user.id,
    )
    return report


async def stage_artifacts(session: AsyncSession, project_id: uuid.UUID) -> dict[str, Artifact]:
    rows = await session.execute(
        select(Stage.stage_name, Artifact)
        .join(Artifact, Artifact.stage_id == Stage.id)
        .where(Stage.project_id == project_id, Artifact.deleted_at.is_(None))
    )
    return {name: artifact for name, artifact in rows}
