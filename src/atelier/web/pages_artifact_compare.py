"""Page of the web UI: two versions of an artifact compared line by line,
``/artifacts/{id}/compare?a=&b=&view=``.

The document view compares the Markdown the page shows (what people read); the JSON view
compares the stored output, for changes the document does not show.
"""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from atelier.artifacts.diff import DiffRow, diff_rows
from atelier.artifacts.models import ArtifactVersion
from atelier.core.deps import DB
from atelier.web.artifact_document import output_markdown, version_data
from atelier.web.artifact_loading import Loaded, artifact_crumbs, load
from atelier.web.artifact_views import version_rows
from atelier.web.session import WebUser
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)


def _lines(loaded: Loaded, version: ArtifactVersion, view: str) -> list[str]:
    data = version_data(version)
    if not isinstance(data, dict | list):
        return str(data).splitlines()
    if view == "json":
        return json.dumps(data, indent=2, ensure_ascii=False).splitlines()
    # Blank lines only separate Markdown blocks: as changes they would be noise.
    text = output_markdown(loaded.artifact, loaded.tool, data)
    return [line for line in text.splitlines() if line.strip()]


@router.get("/artifacts/{artifact_id}/compare", response_class=HTMLResponse)
async def compare(
    request: Request,
    artifact_id: uuid.UUID,
    user: WebUser,
    session: DB,
    a: int | None = None,
    b: int | None = None,
    view: str = "document",
) -> Response:
    loaded = await load(session, user, artifact_id)
    rows = await version_rows(session, loaded.artifact)
    numbers = [r.version.version for r in rows]  # newest first
    if len(numbers) < 2:
        a = b = numbers[0] if numbers else None
    else:
        a = a if a in numbers else numbers[1]
        b = b if b in numbers else numbers[0]
    view = "json" if view == "json" else "document"
    by_number = {r.version.version: r.version for r in rows}
    diff: list[DiffRow] = []
    if a is not None and b is not None and a != b:
        diff = diff_rows(_lines(loaded, by_number[a], view), _lines(loaded, by_number[b], view))
    return render(
        request,
        "artifacts/compare.html",
        {
            "a_num": a,
            "b_num": b,
            "art": loaded.artifact,
            "project": loaded.project,
            "versions": rows,
            "view": view,
            "diff": diff,
            "added": sum(r.kind == "add" for r in diff),
            "removed": sum(r.kind == "del" for r in diff),
            "crumbs": artifact_crumbs(loaded),
            "nav": "projects",
        },
    )
