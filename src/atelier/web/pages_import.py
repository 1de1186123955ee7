"""Importing a software design package from the "New project" page as a plain form post,
so that it works without JavaScript (the page's script, when it runs, sends the same zip
to the JSON API instead and stays on the page).

The same service as ``POST /api/v1/projects/import`` with the same limits from settings; a
package it refuses comes back as the "New project" page with the reason next to the file
field, never as the API's JSON.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from atelier.accounts.principal import Principal
from atelier.core.deps import DB
from atelier.core.errors import InvalidInput
from atelier.exports import packages
from atelier.projects.catalog import DEFAULT_PACK
from atelier.web.flash import FormText
from atelier.web.pages_project_new import new_project_page, too_large
from atelier.web.session import WebUser, csrf_ok

router = APIRouter(include_in_schema=False)

IMPORT_PATH = "/projects/import"
# A browser form wraps the zip in multipart with a few small fields: this much on top of
# the package limit lets a package just over it reach the route and its own message.
FORM_OVERHEAD = 64 * 1024

Upload = Annotated[UploadFile | None, File()]


class OversizeImport:
    """Pure ASGI, outside the app's body limit (``BodySizeLimit``, which answers JSON): an
    import form whose body is over the limit goes back to the form, told why, unread."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == IMPORT_PATH
            and _declared_length(scope) > self.max_bytes
        ):
            back = RedirectResponse("/projects/new?msg=too-large#import-heading", status_code=303)
            await back(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the body limit still counts what actually arrives
    return 0


async def _refused(
    request: Request, session: AsyncSession, user: Principal, message: str, status: int
) -> Response:
    values = {"name": "", "description": "", "start": "blank", "pack": DEFAULT_PACK}
    return await new_project_page(
        request, session, user, values, {}, import_error=message, status=status
    )


def _reason(error: InvalidInput) -> str:
    """The service's reason (it names the file at fault), as a sentence."""
    if isinstance(error.detail, str):
        return error.detail
    if isinstance(error.detail, list):
        return "; ".join(str(p.get("message", "")) for p in error.detail if isinstance(p, dict))
    return "it is not a valid package"


@router.get(IMPORT_PATH)
async def import_form() -> Response:
    """After a refused import the address bar shows this path: reloading it (or following
    it later) opens the form rather than a "not found"."""
    return RedirectResponse("/projects/new#import-heading", status_code=303)


@router.post(IMPORT_PATH, response_class=HTMLResponse)
async def import_package(
    request: Request, user: WebUser, session: DB, file: Upload = None, csrf_token: FormText = ""
) -> Response:
    settings = request.app.state.settings
    if not csrf_ok(request, csrf_token):
        return await _refused(request, session, user, "The form expired. Please try again.", 400)
    # A form sent with no file chosen still has the field, with an empty name and no bytes.
    if file is None or not file.filename:
        return await _refused(request, session, user, "Choose the package's .zip file.", 422)
    limit: int = settings.max_import_bytes
    data = await file.read(limit + 1)  # one byte more than allowed is enough to know
    if len(data) > limit:
        return await _refused(request, session, user, too_large(limit), 413)
    try:
        project = await packages.import_package(
            session, user=user, data=data, max_unpacked=settings.max_import_unpacked_bytes
        )
    except InvalidInput as error:
        message = f"This package cannot be imported: {_reason(error)}."
        return await _refused(request, session, user, message, 422)
    return RedirectResponse(f"/projects/{project.id}", status_code=303)
