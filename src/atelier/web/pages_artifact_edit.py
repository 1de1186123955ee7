"""Page of the web UI: editing an artifact's output by hand, ``/artifacts/{id}/edit``.

The API stores any JSON as an output; a person editing here gets the tool's own checks
(its output model), and a save makes a new version as the API's PATCH does.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from atelier.ai.tools import Tool
from atelier.artifacts import service
from atelier.artifacts.models import ArtifactStatus
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, NotFound
from atelier.projects.access import Need
from atelier.web.artifact_loading import Loaded, artifact_crumbs, load
from atelier.web.failure_messages import FAILURES, failure
from atelier.web.forms import (
    FormField,
    attach_errors,
    build_fields,
    form_values,
    parse_form,
    validate_model,
)
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)


def _output_fields(
    tool: Tool | None, values: Any, errors: dict[str, str]
) -> tuple[list[FormField], dict[str, Any]]:
    schema = tool.output_schema() if tool is not None else {"type": "object"}
    return build_fields(schema, values, errors), schema


def _render_edit(
    request: Request, loaded: Loaded, values: Any, errors: dict[str, str], status: int = 200
) -> Response:
    fields, _ = _output_fields(loaded.tool, values, errors)
    return render(
        request,
        "artifacts/edit.html",
        {
            "a": loaded.artifact,
            "project": loaded.project,
            "tool": loaded.tool,
            "fields": fields,
            "summary": attach_errors(fields, errors),
            "published": loaded.artifact.status == ArtifactStatus.PUBLISHED,
            "crumbs": artifact_crumbs(loaded),
            "nav": "projects",
        },
        status=status,
    )


def _editable(loaded: Loaded) -> None:
    """Pipeline stages are edited on their stage's page, under the pipeline's rules."""
    if loaded.artifact.stage_id is not None:
        raise NotFound("edit this stage on its stage page", code="artifact_not_found")


@router.get("/artifacts/{artifact_id}/edit", response_class=HTMLResponse)
async def edit_form(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    _editable(loaded)
    return _render_edit(request, loaded, loaded.artifact.output_data or {}, {})


@router.post("/artifacts/{artifact_id}/edit", response_class=HTMLResponse)
async def save_edit(
    request: Request, artifact_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    loaded = await load(session, user, artifact_id, Need.WRITE)
    _editable(loaded)
    posted = form_values((await request.form()).multi_items())
    _, schema = _output_fields(loaded.tool, None, {})
    data, errors = parse_form(schema, posted)
    if not csrf_ok(request, (posted.get("_csrf") or [""])[0]):
        errors[""] = "This form expired. Check it and save again."
    clean: Any = data
    if loaded.tool is not None and not errors:
        # The API stores any JSON; a person editing here gets the tool's own checks.
        clean, problems = validate_model(loaded.tool.output_model, data)
        errors.update(problems)
    if loaded.artifact.status == ArtifactStatus.PUBLISHED:
        errors[""] = FAILURES["artifact_published"]["text"]
    if errors or clean is None:
        return _render_edit(request, loaded, data, errors, status=422)
    before = loaded.artifact.latest_version
    try:
        await service.update_artifact(
            session, artifact=loaded.artifact, user=user, changes={"output_data": clean}
        )
    except AtelierError as error:  # e.g. published by someone else meanwhile
        return _render_edit(
            request,
            loaded,
            data,
            {"": failure(error.code, str(error.detail))["text"]},
            status=error.status_code,
        )
    number = loaded.artifact.latest_version
    suffix = f"?saved={number}" if number != before else ""
    return RedirectResponse(f"/artifacts/{artifact_id}{suffix}", status_code=303)
