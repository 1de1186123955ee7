"""The tool form: a tool's inputs as a web form, for a new artifact, the next iteration of
one, or new inputs for the same one.

The posted inputs are validated by the tool's input model exactly as the API validates
them, and a generation is started through the same service; a refused form comes back with
everything that was typed and the errors next to their fields.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai import service as ai_service
from atelier.ai.generation_preflight import check_generation_allowed
from atelier.ai.models import AIProviderConfig
from atelier.ai.tools import Tool
from atelier.artifacts import service
from atelier.artifacts.derivation import Mode
from atelier.artifacts.models import Artifact
from atelier.core.errors import AtelierError, InvalidInput, NotFound
from atelier.jobs.deps import wake
from atelier.jobs.models import Job
from atelier.projects.models import Project
from atelier.web.failure_messages import FAILURES, failure
from atelier.web.forms import (
    FormField,
    attach_errors,
    build_fields,
    errors_from_detail,
    form_values,
    parse_form,
)
from atelier.web.session import csrf_ok
from atelier.web.templating import render

# AI providers offered on the tool form, as many as the settings page lists.
MAX_PROVIDERS = 200
PROVIDER_GONE = "You cannot use this AI provider (it may have been removed). Choose another."
EXPIRED = "This form expired. Check it and submit it again."


@dataclass(slots=True)
class ToolForm:
    """One page of the tool form: a new artifact, the next iteration, or new inputs."""

    project: Project
    tool: Tool
    action: str
    title: str
    submit: str
    cancel_url: str
    crumbs: list[tuple[str, str]]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    intro: str | None = None
    name: str | None = None  # None: no name field
    name_default: str = ""
    alert: dict[str, Any] | None = None
    note: str | None = None  # something to know about the values (not an error)
    # Fields an AI proposal changed (smart_populate's changed_fields): marked on the form.
    changed: set[str] = field(default_factory=set)
    parent: Artifact | None = None  # the next iteration's parent
    editing: Artifact | None = None  # new inputs for this artifact
    mode: Mode | None = None
    # AI iteration modes before the proposal is there: "start" (no job yet) or "job" (a
    # smart-populate job still making it); the page shows that instead of the form.
    pending: str | None = None
    job: Job | None = None
    # The AI providers the user may choose for this generation; None: not read by the
    # route that shows the form, so the page asks for them itself (``provider_choice``).
    providers: list[AIProviderConfig] | None = None
    provider_id: str = ""  # the choice as posted, kept when the form comes back

    def fields(self) -> list[FormField]:
        schema = self.tool.input_model.model_json_schema()
        return build_fields(schema, self.values, self.errors)

    @property
    def save_label(self) -> str | None:
        """The button that saves without generating (as the API's ``generate: false`` and
        PATCH of ``input_data``); None for the next iteration, which is made to generate."""
        if self.parent is not None:
            return None
        return "Save inputs" if self.editing is not None else "Save as draft"


def render_tool_form(request: Request, form: ToolForm, *, status: int = 200) -> Response:
    fields = form.fields()
    own = {"_name", "_provider"}  # the page's own fields, not the tool's
    summary = attach_errors(fields, {k: v for k, v in form.errors.items() if k not in own})
    if "_name" in form.errors:
        summary.append(("Name", form.errors["_name"], "f-_name"))
    if "_provider" in form.errors:
        summary.append(("AI provider", form.errors["_provider"], "f-_provider"))
    return render(
        request,
        "tools/tool_form.html",
        {
            "form": form,
            "fields": fields,
            "summary": summary,
            "output_sections": _output_sections(form.tool),
            "messages": FAILURES,
            "nav": "projects",
            # What the template reads to offer a choice of AI provider.
            "providers": form.providers,
            "provider_id": form.provider_id,
            "provider_error": form.errors.get("_provider"),
        },
        status=status,
    )


async def usable_providers(session: AsyncSession, user: Principal) -> list[AIProviderConfig]:
    """The providers the user may generate with: the settings page's listing."""
    configs, _ = await ai_service.list_configs(session, user=user, cursor=None, limit=MAX_PROVIDERS)
    return configs


def _output_sections(tool: Tool) -> list[str]:
    """What the tool will write: the titles of its output's top-level fields."""
    return [f.label for f in build_fields(tool.output_schema())]


@dataclass(frozen=True, slots=True)
class Posted:
    values: dict[str, Any]
    errors: dict[str, str]
    clean: dict[str, Any] | None
    name: str
    csrf: bool
    save: bool  # "Save as draft" / "Save inputs": no generation
    provider: str  # the AI provider chosen, as posted ("" for the default)


async def read_tool_form(request: Request, tool: Tool) -> Posted:
    """The posted inputs, validated by the tool's input model exactly as the API does."""
    posted = form_values((await request.form()).multi_items())
    schema = tool.input_model.model_json_schema()
    data, problems = parse_form(schema, posted)
    clean: dict[str, Any] | None = None
    errors: dict[str, str] = {}
    try:
        clean = ai_service.validate_inputs(tool, data, field="body.input_data")
    except InvalidInput as error:
        errors = errors_from_detail(error.detail, "body.input_data")
    errors.update(problems)
    name = " ".join((posted.get("_name") or [""])[0].split())
    if len(name) > 200:
        errors["_name"] = "At most 200 characters."
    token = (posted.get("_csrf") or [""])[0]
    return Posted(
        values=data,
        errors=errors,
        clean=None if errors else clean,
        name=name,
        csrf=csrf_ok(request, token),
        save=(posted.get("_action") or [""])[0] == "save",
        provider=(posted.get("_provider") or [""])[0].strip(),
    )


async def read_into(
    request: Request, session: AsyncSession, user: Principal, form: ToolForm
) -> Posted:
    """Read the posted form into ``form``, with the providers to offer if it comes back."""
    form.providers = await usable_providers(session, user)
    posted = await read_tool_form(request, form.tool)
    form.values, form.errors = posted.values, dict(posted.errors)
    form.provider_id = posted.provider
    if form.name is not None:
        form.name = posted.name
    return posted


def chosen_provider(raw: str) -> uuid.UUID | None:
    """The provider picked on the form (None: the default). Something that is not even an
    id is refused as the API refuses an id that is not the user's."""
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("no such AI provider", code="ai_provider_not_found") from None


async def preflight(
    session: AsyncSession,
    request: Request,
    user: Principal,
    project: Project,
    provider_id: uuid.UUID | None = None,
) -> None:
    """What would refuse a generation, checked before anything is written (so a refused
    request leaves nothing behind and the form can be shown again as it was)."""
    await check_generation_allowed(
        session,
        runtime=request.app.state.ai,
        user_id=user.id,
        project=project,
        provider_id=provider_id,
    )


async def start_generation(
    session: AsyncSession,
    request: Request,
    user: Principal,
    project: Project,
    artifact: Artifact,
    provider_id: uuid.UUID | None = None,
) -> Job:
    job, _ = await ai_service.request_generation(
        session,
        runtime=request.app.state.ai,
        user=user,
        artifact=artifact,
        project_organization_id=project.organization_id,
        project_provider_id=project.ai_provider_id,
        provider_id=provider_id,
        notify=wake(request.app.state.jobs),
    )
    return job


def refused(request: Request, form: ToolForm, error: AtelierError) -> Response:
    """The form again after a service refused it: a provider the user cannot use is the
    provider field's error, anything else the page's alert."""
    if error.code == "ai_provider_not_found" and form.provider_id:
        # Only the provider chosen here is refused with this code: a project's provider
        # the user cannot use falls back to the defaults (resolve_provider).
        form.errors["_provider"] = PROVIDER_GONE
        return render_tool_form(request, form, status=422)
    form.alert = failure(error.code, str(error.detail))
    return render_tool_form(request, form, status=error.status_code)


async def submit_tool_form(
    request: Request,
    session: AsyncSession,
    user: Principal,
    form: ToolForm,
) -> Response:
    """Create the artifact (a child when ``form.parent`` is set) and start its generation,
    or only save it ("Save as draft"), or show the form again with its errors and
    everything that was typed."""
    posted = await read_into(request, session, user, form)
    if not posted.csrf:
        form.alert = {"text": EXPIRED}
        return render_tool_form(request, form, status=400)
    if posted.clean is None:
        return render_tool_form(request, form, status=422)
    generate = not (posted.save and form.save_label is not None)
    try:
        provider_id = chosen_provider(posted.provider) if generate else None
        if generate:
            await preflight(session, request, user, form.project, provider_id)
        artifact = await service.create_artifact(
            session,
            project=form.project,
            user=user,
            type=form.tool.key,
            name=posted.name or form.name_default,
            input_data=posted.clean,
            parent_id=form.parent.id if form.parent else None,
            derivation=form.mode.derivation if form.mode else None,
        )
    except AtelierError as error:
        return refused(request, form, error)
    if not generate:
        return RedirectResponse(f"/artifacts/{artifact.id}?msg=draft-saved", status_code=303)
    job = await start_generation(session, request, user, form.project, artifact, provider_id)
    return RedirectResponse(f"/artifacts/{artifact.id}?job={job.id}", status_code=303)
