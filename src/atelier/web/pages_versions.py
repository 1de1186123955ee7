"""One version of an artifact in full, as a document, without activating it (the API's
``GET /artifacts/{id}/versions/{v}``): who made it, when, with which model and at what
cost, and the way to make it the active one or compare it with the active one.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from atelier.accounts.models import User
from atelier.ai.models import AIGeneration
from atelier.artifacts import versions
from atelier.artifacts.models import ArtifactStatus, ArtifactVersion, VersionFormat
from atelier.core.deps import DB
from atelier.web.artifact_document import document_html, markdown_html, version_data
from atelier.web.artifact_loading import Loaded, load, project_url
from atelier.web.artifact_views import VersionRow
from atelier.web.failure_messages import FAILURES
from atelier.web.session import WebUser
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

# The API's bounds for a version number; anything else is a 404 page, not a crash.
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _document(loaded: Loaded, version: ArtifactVersion) -> Markup | None:
    """The version as the artifact page shows its active output; None: shown as text
    (SQL, YAML), which is how the pipeline writes those."""
    if version.format == VersionFormat.JSON:
        return document_html(loaded.artifact, loaded.tool, version_data(version))
    if version.format == VersionFormat.MD:
        return markdown_html(version.content)
    return None


@router.get("/artifacts/{artifact_id}/versions/{number}", response_class=HTMLResponse)
async def version_page(
    request: Request, artifact_id: uuid.UUID, number: VersionNumber, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id)
    artifact = loaded.artifact
    version = await versions.get_version(session, artifact=artifact, number=number)
    generation = None
    if version.ai_generation_id is not None:
        generation = await session.get(AIGeneration, version.ai_generation_id)
    author = await session.get(User, version.created_by_id) if version.created_by_id else None
    return render(
        request,
        "artifacts/version.html",
        {
            "a": artifact,
            "project": loaded.project,
            "tool": loaded.tool,
            "row": VersionRow(version, generation),
            "v": version,
            "author": author,
            "document": _document(loaded, version),
            "active_version": loaded.active_version,
            "newer": number + 1 if number < artifact.latest_version else None,
            "older": number - 1 if number > 1 else None,
            "writable": loaded.can_write and artifact.status != ArtifactStatus.PUBLISHED,
            "published": artifact.status == ArtifactStatus.PUBLISHED,
            "messages": FAILURES,
            "crumbs": [
                ("Projects", "/projects"),
                (loaded.project.name, project_url(loaded.project)),
                (artifact.name, f"/artifacts/{artifact.id}"),
            ],
            "nav": "projects",
        },
    )
