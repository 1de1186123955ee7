"""The "New project" page and its form: a blank project of any installed pack, or one
from a template, optionally in one of the user's organizations. (Importing a package is
``pages_import``, shown on the same page.)"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.core.deps import DB
from atelier.core.errors import Forbidden, InvalidInput
from atelier.projects.catalog import DEFAULT_PACK
from atelier.projects.schemas import ProjectCreate
from atelier.projects.templates import list_templates
from atelier.stages import new_project as project_setup
from atelier.web.flash import FormText
from atelier.web.form_messages import field_errors
from atelier.web.pages_projects import (
    HELPERS,
    PACK_LABELS,
    optional_id,
    pack_choices,
    writable_orgs,
)
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)


def too_large(limit: int) -> str:
    """The import form's message for a file over the package limit (in bytes)."""
    return f"This file is too large: packages can be up to {limit // (1024 * 1024)} MB."


@router.get("/projects/new", response_class=HTMLResponse)
async def new_project(
    request: Request,
    user: WebUser,
    session: DB,
    template: str = "",
    pack: str = "",
    msg: str | None = None,
) -> Response:
    first = next(iter(PACK_LABELS), DEFAULT_PACK)
    values = {"name": "", "description": "", "start": "blank", "pack": first}
    if template:
        values["start"] = template
    if pack in PACK_LABELS:
        values["pack"] = pack
    # ?msg=too-large: an import too large to even reach its route was sent back here.
    limit = request.app.state.settings.max_import_bytes
    import_error = too_large(limit) if msg == "too-large" else None
    return await new_project_page(request, session, user, values, {}, import_error=import_error)


async def new_project_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    import_error: str | None = None,
    status: int = 200,
) -> Response:
    """The "New project" page; ``import_error`` is the package import form's (its own
    route, ``pages_import``, shows it here when a plain form post fails)."""
    return render(
        request,
        "projects/new.html",
        {
            "nav": "projects",
            "values": values,
            "errors": errors,
            "import_error": import_error,
            "templates": await list_templates(session, user=user),
            "packs": pack_choices(),
            "orgs": await writable_orgs(session, user),
            "max_import_mb": request.app.state.settings.max_import_bytes // (1024 * 1024),
            **HELPERS,
        },
        status=status,
    )


# The service's field names → the form's, and what to say when the service refuses one.
_FORM_FIELDS = {
    "name": "name",
    "description": "description",
    "pack": "pack",
    "template_id": "start",
    "organization_id": "organization_id",
}
_REFUSED = {
    "start": "This template does not exist (any more); choose another.",
    "organization_id": "You are not in this organization (any more); choose another.",
}


def _creation_errors(error: ValidationError) -> dict[str, str]:
    """Plain words, next to the form field each error is about (the name by default)."""
    return field_errors(error, lambda loc: _FORM_FIELDS.get(str(loc[0]) if loc else "", "name"))


def _refused(error: InvalidInput) -> dict[str, str]:
    """The service's 422 (a template or organization that is not the user's), by field."""
    problems = error.detail if isinstance(error.detail, list) else []
    errors: dict[str, str] = {}
    for problem in problems:
        field = _FORM_FIELDS.get(str(problem.get("field", "")).removeprefix("body."), "form")
        errors.setdefault(field, _REFUSED.get(field, str(problem.get("message", ""))))
    return errors or {"form": "The project could not be created. Please try again."}


@router.post("/projects/new", response_class=HTMLResponse)
async def create_project(
    request: Request,
    user: WebUser,
    session: DB,
    name: FormText = "",
    description: FormText = "",
    start: FormText = "blank",
    pack: FormText = DEFAULT_PACK,
    organization_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    values = {
        "name": name,
        "description": description,
        "start": start,
        "pack": pack,
        "organization_id": organization_id,
    }
    errors: dict[str, str] = {}
    if not csrf_ok(request, csrf_token):
        errors["form"] = "The form expired. Please try again."
        return await new_project_page(request, session, user, values, errors, status=400)
    template_id: uuid.UUID | None = None
    if start and start != "blank":
        try:
            template_id = uuid.UUID(start)
        except ValueError:
            errors["start"] = "Choose a template from the list, or a blank project."
    org_id: uuid.UUID | None = None
    try:
        org_id = optional_id(organization_id)
    except ValueError:
        errors["organization_id"] = "Choose one of your organizations."
    if template_id is None and pack not in PACK_LABELS:
        errors["pack"] = "Choose the kind of project."
    if not name.strip():
        errors["name"] = "Give the project a name."
    try:
        body = ProjectCreate(
            name=name.strip(),
            description=description.strip() or None,
            pack=pack if pack in PACK_LABELS else DEFAULT_PACK,
            organization_id=org_id,
            template_id=template_id,
        )
    except ValidationError as error:
        errors = _creation_errors(error) | errors
    if errors:
        return await new_project_page(request, session, user, values, errors, status=422)
    try:
        project = await project_setup.create_project(
            session,
            user=user,
            name=body.name,
            description=body.description,
            pack=body.pack,
            organization_id=body.organization_id,
            template_id=body.template_id,
        )
    except InvalidInput as error:  # the template or the organization is not the user's
        return await new_project_page(request, session, user, values, _refused(error), status=422)
    except Forbidden as error:  # a viewer of the organization (a stale or edited form)
        errors = {"organization_id": str(error.detail)}
        return await new_project_page(request, session, user, values, errors, status=422)
    return RedirectResponse(f"/projects/{project.id}", status_code=303)
