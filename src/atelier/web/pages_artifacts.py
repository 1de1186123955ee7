"""Pages of the web UI: an artifact (its output as a document, versions, history, the job
making it), and the router that gathers every artifact page.

Forms post to these routes, which call the same services as the API (so the same rules
hold); single-button actions (publish, activate, generate, smart-populate, cancel) are
calls to the JSON API from ``artifact-actions.js`` / ``generate.js``. Elsewhere:

* the tool form itself: ``tool_form``; its pages for an existing artifact (new inputs,
  the next iteration): ``pages_artifact_forms``;
* editing the output by hand: ``pages_artifact_edit``;
* comparing two versions: ``pages_artifact_compare``;
* rename, duplicate and delete: ``pages_artifact_actions``; a version's own page:
  ``pages_versions``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.artifacts.derivation import Mode
from atelier.artifacts.models import ArtifactStatus
from atelier.core.deps import DB
from atelier.jobs.models import Job, JobStatus
from atelier.web import pages_artifact_compare, pages_artifact_edit, pages_artifact_forms
from atelier.web.artifact_document import document_html
from atelier.web.artifact_loading import Loaded, crumbs, load
from atelier.web.artifact_views import (
    DERIVATION_LABELS,
    MODE_LABELS,
    NameForms,
    history,
    job_failure,
    job_for_page,
    version_rows,
)
from atelier.web.failure_messages import FAILURES
from atelier.web.flash import Notices, notice_of
from atelier.web.forms import FormField, build_fields
from atelier.web.session import WebUser
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(pages_artifact_edit.router)
router.include_router(pages_artifact_forms.router)
router.include_router(pages_artifact_compare.router)

# ?msg= codes of the artifact page → the notice shown after a redirect (never URL text).
NOTICES: Notices = {
    "renamed": ("ok", "Renamed."),
    "duplicated": ("ok", "This is the copy: a new artifact in the same project."),
    "expired": ("error", "The form expired. Please try again."),
    # Saved from the tool form without generating ("Save as draft" / "Save inputs").
    "draft-saved": ("ok", "Saved. Generate when you are ready."),
    "inputs-saved": (
        "ok",
        "Saved. Generate when you are ready: the document is still from the earlier inputs "
        "(Inputs → Change → Save inputs and generate).",
    ),
}
# The same for the project page an artifact's deletion returns to.
PROJECT_NOTICES: Notices = {
    "artifact-deleted": ("ok", "Artifact deleted."),
}


def project_notice(request: Request) -> dict[str, str] | None:
    """The notice a project page shows when an artifact's action sent people back to it."""
    return notice_of(PROJECT_NOTICES, request.query_params.get("msg"))


@router.get("/artifacts/{artifact_id}", response_class=HTMLResponse)
async def artifact_page(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    job: uuid.UUID | None = None,
    saved: int | None = None,
    activated: int | None = None,
    msg: str | None = None,
) -> Response:
    loaded = await load(session, user, artifact_id)
    job_row = await job_for_page(session, user, loaded.artifact, job)
    flash = notice_of(NOTICES, msg)
    if saved is not None:
        flash = {"kind": "ok", "text": f"Saved as version {saved}."}
    elif activated is not None and activated == loaded.active_version:
        flash = {"kind": "ok", "text": f"Version {activated} is the active version now."}
    elif job_row is not None and job_row.status == JobStatus.SUCCEEDED:
        flash = {"kind": "ok", "text": f"Generated version {loaded.active_version}."}
    return await show_artifact(request, session, loaded, job=job_row, flash=flash)


async def show_artifact(
    request: Request,
    session: AsyncSession,
    loaded: Loaded,
    *,
    job: Job | None = None,
    flash: dict[str, str] | None = None,
    names: NameForms | None = None,
    status: int = 200,
) -> Response:
    """The artifact page; a refused rename or duplicate shows it again with its error."""
    artifact, tool = loaded.artifact, loaded.tool
    rows = await version_rows(session, artifact)
    document = None
    if artifact.output_data is not None:
        document = document_html(artifact, tool, artifact.output_data)
    inputs: list[FormField] = []
    if tool is not None:
        inputs = build_fields(tool.input_model.model_json_schema(), artifact.input_data)
    return render(
        request,
        "artifacts/artifact.html",
        {
            "a": artifact,
            "project": loaded.project,
            "tool": tool,
            "active_version": loaded.active_version,
            "active_quality": next(
                (row.version.quality for row in rows if row.version.is_active), None
            ),
            "can_write": loaded.can_write,
            "published": artifact.status == ArtifactStatus.PUBLISHED,
            "formable": tool is not None and artifact.stage_id is None,
            "document": document,
            "versions": rows,
            "tree": await history(session, artifact),
            "inputs": inputs,
            "raw_inputs": artifact.input_data if tool is None else None,
            "job": job,
            "job_failure": job_failure(job),
            "modes": [(m, MODE_LABELS[m], m.explanation) for m in Mode],
            "derivations": DERIVATION_LABELS,
            "messages": FAILURES,
            "names": names or NameForms(),
            "crumbs": crumbs(loaded.project),
            "flash": flash,
            "nav": "projects",
        },
        status=status,
    )
