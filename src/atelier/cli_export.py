"""`atelier export`: an artifact or a project to a file, straight from the database."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer

from atelier.ai.tools import load_tools
from atelier.artifacts.models import Artifact
from atelier.artifacts.service import active_version
from atelier.config import Settings
from atelier.core.db import make_engine, make_sessionmaker, session_scope
from atelier.exports import service
from atelier.exports.pdf_process import in_this_process
from atelier.exports.service import ExportFormat, Rendered
from atelier.projects.models import Project


async def export(
    settings: Settings,
    *,
    target: str,
    format: ExportFormat,
    output: Path | None,
    checks: bool = False,
) -> int:
    try:
        target_id = uuid.UUID(target)
    except ValueError:
        typer.echo(f"not an id: {target!r}", err=True)
        return 2
    engine = make_engine(settings)
    tools = load_tools()
    try:
        async with session_scope(make_sessionmaker(engine, settings)) as session:
            artifact = await session.get(Artifact, target_id)
            project = await session.get(Project, target_id)
            rendered: Rendered
            if artifact is not None and artifact.deleted_at is None:
                owner = await session.get(Project, artifact.project_id)
                document = await service.artifact_document(
                    session, artifact=artifact, tools=tools, checks=checks
                )
                active = await active_version(session, artifact.id)
                as_json = service.artifact_json(
                    artifact, active.version if active else None, document.quality
                )
                rendered = await service.render_artifact(
                    document,
                    project_name=owner.name if owner else "",
                    format=format,
                    as_json=as_json,
                    pdf=in_this_process,
                )
            elif project is not None and project.deleted_at is None:
                document_p = await service.project_document(
                    session, project=project, tools=tools, checks=checks
                )
                rendered = await service.render_project(
                    document_p, format=format, pdf=in_this_process
                )
            else:
                typer.echo(f"no artifact or project with id {target}", err=True)
                return 1
    finally:
        await engine.dispose()
    path = output or Path(rendered.filename)
    path.write_bytes(rendered.content)
    typer.echo(f"wrote {path} ({len(rendered.content)} bytes)", err=True)
    return 0
