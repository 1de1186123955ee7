"""Downloads: an artifact or a whole project as Markdown, PDF or JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from atelier.ai.deps import Runtime
from atelier.artifacts.access import ArtifactRead
from atelier.core.deps import DB
from atelier.core.openapi import error_responses
from atelier.exports import service
from atelier.exports.service import ExportFormat, Rendered
from atelier.projects.access import ProjectRead
from atelier.projects.models import Project

artifact_export_router = APIRouter()
project_export_router = APIRouter(prefix="/projects", tags=["exports"])

FormatQuery = Annotated[
    ExportFormat, Query(description="md (Markdown), pdf, or json (the data itself)")
]
ChecksQuery = Annotated[
    bool,
    Query(
        description="include what the quality checks found in each AI output (a "
        "'Checks' section; a `quality` key in json)"
    ),
]
_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/markdown": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object"}},
        },
        "description": "the file, as an attachment",
        "headers": {
            "Content-Disposition": {
                "description": "attachment, with the file's name",
                "schema": {"type": "string"},
            }
        },
    },
    **error_responses(503, s503="the PDF could not be rendered in time; Markdown still works"),
}


def _download(rendered: Rendered) -> Response:
    return Response(
        content=rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
    )


@artifact_export_router.get("/{artifact_id}/export", response_class=Response, responses=_DOWNLOAD)
async def export_artifact(
    access: ArtifactRead,
    session: DB,
    runtime: Runtime,
    format: FormatQuery = ExportFormat.MD,
    checks: ChecksQuery = False,
) -> Response:
    """The artifact's active output rendered as a document (tables and lists), with its
    inputs; ``json`` is the artifact as the API returns it."""
    artifact = access.artifact
    document = await service.artifact_document(
        session, artifact=artifact, tools=runtime.tools, checks=checks
    )
    project = await session.get(Project, artifact.project_id)
    as_json = service.artifact_json(artifact, access.active_version, document.quality)
    rendered = await service.render_artifact(
        document,
        project_name=project.name if project else "",
        format=format,
        as_json=as_json,
    )
    return _download(rendered)


@project_export_router.get("/{project_id}/export", response_class=Response, responses=_DOWNLOAD)
async def export_project(
    access: ProjectRead,
    session: DB,
    runtime: Runtime,
    format: FormatQuery = ExportFormat.MD,
    checks: ChecksQuery = False,
) -> Response:
    """All the project's artifacts in one document, grouped by phase (discover, define,
    develop, deliver): a title page, a table of contents, one section per artifact."""
    document = await service.project_document(
        session, project=access.project, tools=runtime.tools, checks=checks
    )
    return _download(await service.render_project(document, format=format))
