"""A project's settings page: its details, status, AI provider, organization, and moving
it to the trash (and back)."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import Organization
from atelier.ai import service as ai_service
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, NotFound
from atelier.core.languages import LANGUAGES
from atelier.projects import service
from atelier.projects.access import Need, ProjectAccess, load_project
from atelier.projects.models import Project, ProjectStatus
from atelier.web.flash import FormText
from atelier.web.forms import json_object
from atelier.web.pages_projects import HELPERS, enum_or_none, notice, optional_id, writable_orgs
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

# What each status means, as the settings page's select offers them. A status is a label
# for people (and the dashboard's filter): no status blocks editing or generating.
STATUS_CHOICES = (
    (ProjectStatus.ACTIVE, "Active", "Being worked on."),
    (ProjectStatus.COMPLETED, "Completed", "The work is done; it stays readable and editable."),
    (ProjectStatus.SUSPENDED, "Suspended", "On hold for now, to pick up again later."),
    (ProjectStatus.ARCHIVED, "Archived", "Put away; filter it out on the dashboard."),
)
# The one-click changes that make sense from each status (the select offers every one).
STATUS_ACTIONS: dict[ProjectStatus, tuple[tuple[ProjectStatus, str], ...]] = {
    ProjectStatus.ACTIVE: (
        (ProjectStatus.COMPLETED, "Mark completed"),
        (ProjectStatus.SUSPENDED, "Suspend project"),
        (ProjectStatus.ARCHIVED, "Archive project"),
    ),
    ProjectStatus.COMPLETED: (
        (ProjectStatus.ACTIVE, "Reopen project"),
        (ProjectStatus.ARCHIVED, "Archive project"),
    ),
    ProjectStatus.SUSPENDED: (
        (ProjectStatus.ACTIVE, "Resume project"),
        (ProjectStatus.ARCHIVED, "Archive project"),
    ),
    ProjectStatus.ARCHIVED: ((ProjectStatus.ACTIVE, "Unarchive project"),),
}


@router.get("/projects/{project_id}/settings", response_class=HTMLResponse)
async def project_settings(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.READ)
    return await _settings_page(request, session, access, flash=notice(msg))


async def _settings_page(
    request: Request,
    session: AsyncSession,
    access: ProjectAccess,
    *,
    flash: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    project, user = access.project, access.user
    configs, _ = await ai_service.list_configs(session, user=user, cursor=None, limit=200)
    writable = await writable_orgs(session, user)
    current_org = await _current_org(session, project, writable)
    return render(
        request,
        "projects/settings.html",
        {
            "nav": "projects",
            "project": project,
            "level": access.level,
            "can_write": access.level >= Need.WRITE,
            "can_manage": access.level >= Need.MANAGE,
            "configs": configs,
            "orgs": writable,
            "current_org": current_org,
            "status_choices": STATUS_CHOICES,
            "status_actions": STATUS_ACTIONS[project.status],
            "values": values
            or {
                "name": project.name,
                "description": project.description or "",
                "metadata": json.dumps(project.metadata_, indent=2, ensure_ascii=False)
                if project.metadata_
                else "",
                "language": project.language or "",
            },
            "languages": [(code, name) for code, (name, _) in LANGUAGES.items()],
            "errors": errors or {},
            "flash": flash,
            **HELPERS,
        },
        status=status,
    )


async def _current_org(
    session: AsyncSession, project: Project, writable: list[Organization]
) -> Organization | None:
    """The project's organization, also when the user cannot add projects to it."""
    if project.organization_id is None:
        return None
    for org in writable:
        if org.id == project.organization_id:
            return org
    return await session.get(Organization, project.organization_id)


def _to_settings(project_id: uuid.UUID, msg: str) -> Response:
    return RedirectResponse(f"/projects/{project_id}/settings?msg={msg}", status_code=303)


@router.post("/projects/{project_id}/settings", response_class=HTMLResponse)
async def save_details(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    name: FormText = "",
    description: FormText = "",
    metadata: FormText = "",
    language: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    values = {"name": name, "description": description, "metadata": metadata}
    values["language"] = language
    errors = {}
    if not 1 <= len(name.strip()) <= 200:
        errors["name"] = "Give the project a name of 1 to 200 characters."
    if len(description) > 10_000:
        errors["description"] = "Keep the description under 10,000 characters."
    if language and language not in LANGUAGES:
        errors["language"] = "Choose one of the languages."
    parsed = json_object(metadata)
    if parsed is None:
        errors["metadata"] = 'Write a JSON object, e.g. {"client": "Acme"}, or leave it empty.'
    if errors or parsed is None:
        return await _settings_page(
            request, session, access, values=values, errors=errors, status=422
        )
    await service.update_project(
        session,
        access=access,
        changes={
            "name": name.strip(),
            "description": description.strip() or None,
            "metadata": parsed,
            "language": language or None,
        },
    )
    return _to_settings(project_id, "saved")


@router.post("/projects/{project_id}/status")
async def change_status(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    status: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    new_status = enum_or_none(ProjectStatus, status)
    if new_status is None:  # never "active" by default: an edited form changes nothing
        errors = {"status": "Choose one of the statuses."}
        return await _settings_page(request, session, access, errors=errors, status=422)
    await service.update_project(session, access=access, changes={"status": new_status})
    return _to_settings(project_id, new_status.value)


@router.post("/projects/{project_id}/provider", response_class=HTMLResponse)
async def choose_provider(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    ai_provider_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    chosen: uuid.UUID | None = None
    if ai_provider_id:
        try:
            config = await ai_service.load_config(
                session, user=user, config_id=uuid.UUID(ai_provider_id)
            )
        except (ValueError, NotFound):
            errors = {"ai_provider_id": "Choose one of your AI providers."}
            return await _settings_page(request, session, access, errors=errors, status=422)
        chosen = config.id
    await service.update_project(session, access=access, changes={"ai_provider_id": chosen})
    return _to_settings(project_id, "provider")


@router.post("/projects/{project_id}/organization", response_class=HTMLResponse)
async def share(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    organization_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.MANAGE)
    try:
        org_id = optional_id(organization_id)
        await service.update_project(session, access=access, changes={"organization_id": org_id})
    except (ValueError, AtelierError) as error:
        message = getattr(error, "detail", None)
        text = message if isinstance(message, str) else "Choose one of your organizations."
        errors = {"organization_id": text}
        return await _settings_page(request, session, access, errors=errors, status=422)
    return _to_settings(project_id, "shared")


@router.post("/projects/{project_id}/delete")
async def delete_project(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return _to_settings(project_id, "expired")
    access = await load_project(session, user=user, project_id=project_id, need=Need.MANAGE)
    await service.soft_delete(session, project=access.project)
    return RedirectResponse("/projects?msg=deleted", status_code=303)


@router.post("/projects/{project_id}/restore")
async def restore_project(
    request: Request, project_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return RedirectResponse("/projects?deleted=true&msg=expired", status_code=303)
    access = await load_project(
        session, user=user, project_id=project_id, need=Need.MANAGE, include_deleted=True
    )
    if access.project.deleted_at is not None:
        await service.restore(session, project=access.project)
    return RedirectResponse("/projects?msg=restored", status_code=303)
