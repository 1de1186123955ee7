"""Form posts of the artifact page: rename, duplicate (the copy named by the person) and
delete. Each calls the service the API's PATCH, POST …/duplicate and DELETE call, so the
same rules hold; a refused name shows the artifact page again with the error next to
its field and what was typed kept.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from atelier.artifacts import service
from atelier.artifacts.schemas import ArtifactUpdate, DuplicateIn
from atelier.core.deps import DB
from atelier.core.errors import NotFound
from atelier.projects.access import Need
from atelier.web.artifact_loading import load, project_url
from atelier.web.artifact_views import NameForms
from atelier.web.flash import FormText, back
from atelier.web.forms import validate_model
from atelier.web.pages_artifacts import show_artifact
from atelier.web.session import WebUser, csrf_ok

router = APIRouter(include_in_schema=False)

REQUIRED = "Required: please fill this in."


def _typed(raw: str) -> str:
    # Runs of spaces and line breaks as one space, as the tool form's name field does.
    return " ".join(raw.split())


def _name_error(model: type[BaseModel], name: str) -> str | None:
    """What the API would say about this name (its own model, so the same limits)."""
    _, errors = validate_model(model, {"name": name})
    return errors.get("name")


@router.post("/artifacts/{artifact_id}/rename", response_class=HTMLResponse)
async def rename(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    name: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    path = f"/artifacts/{artifact_id}"
    if not csrf_ok(request, csrf_token):
        return back(path, "expired")
    name = _typed(name)
    error = REQUIRED if not name else _name_error(ArtifactUpdate, name)
    if error is not None:
        # Nothing was written: the page as it is, with what was typed and why not.
        names = NameForms(rename=name, rename_error=error)
        return await show_artifact(request, session, loaded, names=names, status=422)
    # A name may change even when published, as through the API.
    await service.update_artifact(
        session, artifact=loaded.artifact, user=user, changes={"name": name}
    )
    return back(path, "renamed")


@router.post("/artifacts/{artifact_id}/duplicate", response_class=HTMLResponse)
async def duplicate(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    name: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    if not csrf_ok(request, csrf_token):
        return back(f"/artifacts/{artifact_id}", "expired")
    name = _typed(name)
    # Empty: the API's own default name ("<name> (copy)").
    error = _name_error(DuplicateIn, name) if name else None
    if error is not None:
        names = NameForms(copy_name=name, copy_error=error)
        return await show_artifact(request, session, loaded, names=names, status=422)
    copy = await service.duplicate(session, artifact=loaded.artifact, user=user, name=name or None)
    return back(f"/artifacts/{copy.id}", "duplicated")


@router.post("/artifacts/{artifact_id}/delete", response_class=HTMLResponse)
async def delete(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    if loaded.artifact.stage_id is not None:
        # A pipeline stage's output belongs to its stage: the stage page manages it.
        raise NotFound("a stage's artifact is managed on its stage page", code="not_found")
    if not csrf_ok(request, csrf_token):
        return back(f"/artifacts/{artifact_id}", "expired")
    await service.soft_delete(session, artifact=loaded.artifact)
    return back(project_url(loaded.project), "artifact-deleted")
