"""From the database to the exporters' plain documents, and on to bytes.

PDF rendering is CPU work of up to a few seconds: it runs in a child process of its own
(``pdf_process``), one document at a time, so that neither it nor the event loop slows
the other down.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import User
from atelier.ai.tools import ToolRegistry
from atelier.artifacts.models import Artifact, ArtifactVersion
from atelier.artifacts.schemas import ArtifactOut
from atelier.core.db import utcnow
from atelier.exports.document import ExportArtifact, ExportProject
from atelier.exports.markdown import artifact_markdown, project_markdown
from atelier.exports.pdf import artifact_pdf_job, project_pdf_job
from atelier.exports.pdf_process import Render, renderer
from atelier.projects.models import Project

# A project export is one document; past this many artifacts it stops being readable.
MAX_PROJECT_ARTIFACTS = 500


class ExportFormat(enum.StrEnum):
    MD = "md"
    PDF = "pdf"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class Rendered:
    content: bytes
    media_type: str
    filename: str


MEDIA_TYPES = {
    ExportFormat.MD: "text/markdown; charset=utf-8",
    ExportFormat.PDF: "application/pdf",
    ExportFormat.JSON: "application/json",
}


def filename_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return stem[:80] or "export"


def _document(
    artifact: Artifact, active: ArtifactVersion | None, tools: ToolRegistry, checks: bool
) -> ExportArtifact:
    """``checks``: with the active version's quality findings (an empty report for a
    version that was checked and passed; none for one never checked, e.g. a human edit)."""
    tool = tools.get(artifact.type)
    return ExportArtifact(
        id=str(artifact.id),
        name=artifact.name,
        tool_key=artifact.type,
        tool_title=tool.title if tool else artifact.type.replace("_", " ").capitalize(),
        phase=tool.phase if tool else None,
        status=artifact.status.value,
        version=active.version if active else None,
        generated_by=active.generated_by.value if active else None,
        updated_at=artifact.updated_at,
        input_data=dict(artifact.input_data),
        output_data=artifact.output_data,
        tool=tool,
        quality=(active.quality if active is not None else None) if checks else None,
    )


async def _active_versions(
    session: AsyncSession, artifact_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ArtifactVersion]:
    if not artifact_ids:
        return {}
    rows = await session.scalars(
        select(ArtifactVersion).where(
            ArtifactVersion.artifact_id.in_(artifact_ids), ArtifactVersion.is_active.is_(True)
        )
    )
    return {row.artifact_id: row for row in rows.all()}


async def artifact_document(
    session: AsyncSession, *, artifact: Artifact, tools: ToolRegistry, checks: bool = False
) -> ExportArtifact:
    active = (await _active_versions(session, [artifact.id])).get(artifact.id)
    return _document(artifact, active, tools, checks)


async def project_document(
    session: AsyncSession, *, project: Project, tools: ToolRegistry, checks: bool = False
) -> ExportProject:
    """The project with its live artifacts, oldest first (the exporters group them by
    phase)."""
    artifacts = (
        await session.scalars(
            select(Artifact)
            .where(Artifact.project_id == project.id, Artifact.deleted_at.is_(None))
            .order_by(Artifact.created_at, Artifact.id)
            .limit(MAX_PROJECT_ARTIFACTS)
        )
    ).all()
    active = await _active_versions(session, [a.id for a in artifacts])
    owner = await session.get(User, project.owner_id)
    return ExportProject(
        name=project.name,
        description=project.description,
        pack=project.pack,
        phase=project.phase.value if project.phase else None,
        owner_name=owner.name if owner else None,
        exported_at=utcnow(),
        artifacts=[_document(a, active.get(a.id), tools, checks) for a in artifacts],
    )


def artifact_json(
    artifact: Artifact, active_version: int | None, quality: dict[str, Any] | None = None
) -> bytes:
    """The artifact as the API returns it (the ``json`` export), with the active
    version's ``quality`` when the export asks for the checks."""
    out = ArtifactOut.model_validate(artifact).model_copy(update={"active_version": active_version})
    data = out.model_dump(mode="json")
    if quality is not None:
        data["quality"] = quality
    return orjson.dumps(data, option=orjson.OPT_INDENT_2)


async def render_artifact(
    document: ExportArtifact,
    *,
    project_name: str,
    format: ExportFormat,
    as_json: bytes,
    pdf: Render | None = None,
) -> Rendered:
    """The artifact as ``format``; a PDF by ``pdf`` (default: the renderer process)."""
    stem = filename_stem(document.name)
    if format == ExportFormat.MD:
        content = artifact_markdown(document).encode()
    elif format == ExportFormat.PDF:
        job = artifact_pdf_job(document, project=project_name, exported_at=utcnow())
        content = await (pdf or renderer.render)(job)
    else:
        content = as_json
    return Rendered(content, MEDIA_TYPES[format], f"{stem}.{format.value}")


async def render_project(
    document: ExportProject, *, format: ExportFormat, pdf: Render | None = None
) -> Rendered:
    """The project as ``format``; a PDF by ``pdf`` (default: the renderer process)."""
    stem = filename_stem(document.name)
    if format == ExportFormat.MD:
        content = project_markdown(document).encode()
    elif format == ExportFormat.PDF:
        content = await (pdf or renderer.render)(project_pdf_job(document))
    else:
        content = orjson.dumps(
            {
                "name": document.name,
                "description": document.description,
                "pack": document.pack,
                "phase": document.phase,
                "exported_at": document.exported_at.isoformat(),
                "artifacts": [
                    {
                        "id": a.id,
                        "name": a.name,
                        "type": a.tool_key,
                        "phase": a.phase,
                        "status": a.status,
                        "version": a.version,
                        "input_data": a.input_data,
                        "output_data": a.output_data,
                        **({"quality": a.quality} if a.quality is not None else {}),
                    }
                    for a in document.artifacts
                ],
            },
            option=orjson.OPT_INDENT_2,
        )
    return Rendered(content, MEDIA_TYPES[format], f"{stem}.{format.value}")
