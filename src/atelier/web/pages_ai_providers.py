"""The AI providers tab of the account settings, ``/settings/providers``: the providers
the user set up (or an organization shares), a form to add one, and per provider an edit
page, "make default" and delete. The page also says what serves a call when nothing is
chosen (the instance default) and whether anything can run at all (``ai_ready``).

The forms build the same bodies as the JSON API (``ProviderCreate``, ``ProviderUpdate``)
and call the same service; a key is never sent back into a page, not even after an error.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import org_service
from atelier.accounts.principal import Principal
from atelier.ai import local_models
from atelier.ai import service as ai_service
from atelier.ai.models import AIProviderConfig
from atelier.ai.resolve import ProviderUnavailable, instance_default
from atelier.ai.schemas import ProviderCreate, ProviderOptions, ProviderUpdate
from atelier.config import Settings
from atelier.core.deps import DB
from atelier.core.errors import InvalidInput
from atelier.web.ai_readiness import ai_ready
from atelier.web.flash import FormText, back
from atelier.web.form_messages import plain_error
from atelier.web.session import WebUser, csrf_ok
from atelier.web.settings_tabs import ai_runtime, app_settings, notice, settings_page

router = APIRouter(include_in_schema=False)

INSTALL_COMMAND = f"atelier models install {local_models.DEFAULT_MODEL}"

PROVIDER_KINDS = (
    ("anthropic", "Anthropic (Claude)"),
    ("openai", "OpenAI"),
    ("custom", "OpenAI-compatible server (vLLM, Ollama, llama.cpp…)"),
    ("local", "Local model on this server"),
)

# ProviderOptions' fields on the edit form: (name, label, hint).
PROVIDER_OPTION_FIELDS = (
    ("input_usd_per_mtok", "Input price", "US dollars per million input tokens (cost estimates)."),
    ("output_usd_per_mtok", "Output price", "US dollars per million output tokens."),
    ("timeout_seconds", "Timeout", "Seconds to wait for an answer (at most 3600)."),
    ("threads", "Threads", "CPU threads for a local model."),
    (
        "context_window",
        "Context window",
        "Tokens the model reads at once, if Atelier does not know it (chat history fits it).",
    ),
)
# The options chosen from a list: (name, label, hint, [(value, text)]).
PROVIDER_CHOICE_FIELDS = (
    (
        "generation_mode",
        "How answers are written",
        "Part by part helps small local models keep the thread; one call is faster for "
        "large models.",
        [
            ("", "The default (one call; the instance setting for the local model)"),
            ("one_shot", "The whole answer in one call"),
            ("sections", "Part by part, one call each"),
        ],
    ),
)
# The form sends every option and a PATCH replaces them all: one missing here would be
# wiped by every edit.
assert {name for name, *_ in (*PROVIDER_OPTION_FIELDS, *PROVIDER_CHOICE_FIELDS)} == set(
    ProviderOptions.model_fields
)


def _field_errors(error: ValidationError) -> dict[str, str]:
    """The model's errors in plain words by form field. A provider option is named by
    itself (its form field), not by ``options``. A rule of the whole model names its field
    first ("base_url is required for a custom …"): shown at that field, the name is
    dropped ("Required for a custom …")."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        message, loc = plain_error(problem), problem["loc"]
        if not loc:
            name, _, rest = message.partition(" ")
            if rest.startswith("is required"):
                message = "Required" + rest.removeprefix("is required")
        else:
            name = str(loc[1] if loc[0] == "options" and len(loc) > 1 else loc[0])
        errors.setdefault(name, message)
    return errors


def _service_errors(error: InvalidInput) -> dict[str, str]:
    """A service's field errors (``[{"field": "body.x", "message": …}]``) by form field."""
    if not isinstance(error.detail, list):
        return {"form": str(error.detail or error)}
    return {
        str(item["field"]).rsplit(".", 1)[-1]: str(item["message"])
        for item in error.detail
        if isinstance(item, dict)
    }


@router.get("/settings/providers", response_class=HTMLResponse)
async def providers(
    request: Request, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    return await _providers_page(request, session, user, flash=notice(msg))


async def _providers_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    flash: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    configs, _ = await ai_service.list_configs(session, user=user, cursor=None, limit=200)
    ready = await ai_ready(request, session, user)
    orgs, _ = await org_service.list_organizations(session, user=user, cursor=None, limit=100)
    return settings_page(
        request,
        "providers",
        "account/providers.html",
        {
            "configs": configs,
            "user_id": user.id,
            "ready": ready,
            "instance": _instance_summary(app_settings(request)),
            "install_command": INSTALL_COMMAND,
            "kinds": PROVIDER_KINDS,
            "values": values or {"provider": "anthropic"},
            # Only owners and admins may share a provider with their organization.
            "share_orgs": [org for org, role in orgs if role in org_service.MANAGERS],
            "errors": errors or {},
            "flash": flash,
            "open_form": bool(errors) or not configs,
        },
        status=status,
    )


def _instance_summary(settings: Settings) -> str:
    """What serves a call when neither the project nor the user chose a provider."""
    try:
        resolved = instance_default(settings)
    except ProviderUnavailable:
        return f"the local model {settings.local_model}, which is not installed on this server"
    if resolved.kind == "local":
        return f"the local model {resolved.settings.default_model}"
    return f"{resolved.kind} ({resolved.settings.default_model}), configured by the administrator"


@router.post("/settings/providers", response_class=HTMLResponse)
async def add_provider(
    request: Request,
    user: WebUser,
    session: DB,
    provider: FormText = "",
    label: FormText = "",
    api_key: FormText = "",
    default_model: FormText = "",
    base_url: FormText = "",
    is_default: FormText = "",
    organization_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    # The key is never sent back into the page, not even after a validation error.
    values = {
        "provider": provider,
        "label": label,
        "default_model": default_model,
        "base_url": base_url,
        "is_default": bool(is_default),
        "organization_id": organization_id,
    }
    if not csrf_ok(request, csrf_token):
        return back("/settings/providers", "expired")
    try:
        body = ProviderCreate.model_validate(
            {
                "provider": provider,
                "label": label.strip(),
                "api_key": api_key.strip() or None,
                "default_model": default_model.strip() or None,
                "base_url": base_url.strip() or None,
                "is_default": bool(is_default),
                "organization_id": organization_id or None,
            }
        )
        await ai_service.create_config(
            session, user=user, runtime=ai_runtime(request), data=body.model_dump()
        )
    except (ValidationError, InvalidInput) as error:
        errors = (
            _field_errors(error) if isinstance(error, ValidationError) else _service_errors(error)
        )
        if errors and api_key:
            errors.setdefault("api_key", "Enter the key again (it is never sent back to you).")
        return await _providers_page(
            request, session, user, values=values, errors=errors, status=422
        )
    return back("/settings/providers", "provider-added")


@router.get("/settings/providers/{config_id}/edit", response_class=HTMLResponse)
async def edit_provider(
    request: Request, config_id: uuid.UUID, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    # write=True: someone else's provider is a 404 (403 if an organization shares it).
    config = await ai_service.load_config(session, user=user, config_id=config_id, write=True)
    return _edit_provider_page(request, config, _provider_values(config), flash=notice(msg))


def _provider_values(config: AIProviderConfig) -> dict[str, Any]:
    options = config.options or {}
    return {
        "label": config.label,
        "default_model": config.default_model,
        "base_url": config.base_url or "",
        "is_default": config.is_default,
        **{name: _number_text(options.get(name)) for name, _, _ in PROVIDER_OPTION_FIELDS},
        **{name: options.get(name) or "" for name, *_ in PROVIDER_CHOICE_FIELDS},
    }


def _number_text(value: Any) -> str:
    """An option as typed: 45, not the stored 45.0 (repr keeps every digit of the rest)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _edit_provider_page(
    request: Request,
    config: AIProviderConfig,
    values: dict[str, Any],
    *,
    flash: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return settings_page(
        request,
        "providers",
        "account/provider_edit.html",
        {
            "config": config,
            "kinds": dict(PROVIDER_KINDS),
            "option_fields": PROVIDER_OPTION_FIELDS,
            "choice_fields": PROVIDER_CHOICE_FIELDS,
            "values": values,
            "errors": errors or {},
            "flash": flash,
        },
        status=status,
    )


@router.post("/settings/providers/{config_id}/edit", response_class=HTMLResponse)
async def save_provider(
    request: Request,
    config_id: uuid.UUID,
    user: WebUser,
    session: DB,
    label: FormText = "",
    api_key: FormText = "",
    remove_key: FormText = "",
    default_model: FormText = "",
    base_url: FormText = "",
    is_default: FormText = "",
    input_usd_per_mtok: FormText = "",
    output_usd_per_mtok: FormText = "",
    timeout_seconds: FormText = "",
    threads: FormText = "",
    context_window: FormText = "",
    generation_mode: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """PATCH /api/v1/ai-providers/{id} from a form: what differs from the stored provider
    is sent; an empty key field keeps the stored key."""
    here = f"/settings/providers/{config_id}/edit"
    if not csrf_ok(request, csrf_token):
        return back(here, "expired")
    config = await ai_service.load_config(session, user=user, config_id=config_id, write=True)
    options = {
        "input_usd_per_mtok": input_usd_per_mtok,
        "output_usd_per_mtok": output_usd_per_mtok,
        "timeout_seconds": timeout_seconds,
        "threads": threads,
        "context_window": context_window,
        "generation_mode": generation_mode,
    }
    values = {
        "label": label,
        "default_model": default_model,
        "base_url": base_url,
        "is_default": bool(is_default),
        **options,
    }
    try:
        body = ProviderUpdate.model_validate(
            {
                # Empty label or model: the schema's "at least 1 character" error.
                "label": label.strip(),
                "default_model": default_model.strip(),
                "base_url": base_url.strip() or None,
                "is_default": bool(is_default),
                "options": {k: v.strip() or None for k, v in options.items()},
                **({"api_key": api_key.strip()} if api_key.strip() else {}),
            }
        )
        _check_kind_rules(config, body)
        changes = _changes(config, body, remove_key=bool(remove_key))
        await ai_service.update_config(
            session, config=config, runtime=ai_runtime(request), changes=changes
        )
    except (ValidationError, InvalidInput) as error:
        errors = (
            _field_errors(error) if isinstance(error, ValidationError) else _service_errors(error)
        )
        if api_key:
            errors.setdefault("api_key", "Enter the key again (it is never sent back to you).")
        return _edit_provider_page(request, config, values, errors=errors, status=422)
    return back("/settings/providers", "provider-saved")


def _check_kind_rules(config: AIProviderConfig, body: ProviderUpdate) -> None:
    """The rules a new provider of this kind must meet (ProviderCreate's), on the edited
    one: a PATCH alone would let a custom server lose its base URL. A stored key counts
    as given, since an empty key field keeps it."""
    ProviderCreate.model_validate(
        {
            "provider": config.provider,
            "label": body.label,
            "api_key": body.api_key or ("stored" if config.api_key_hint else None),
            "default_model": body.default_model,
            "base_url": body.base_url,
        }
    )


def _changes(config: AIProviderConfig, body: ProviderUpdate, *, remove_key: bool) -> dict[str, Any]:
    """Only what differs, as a PATCH body would carry it (the service takes it as is)."""
    changes = {
        field: value
        for field, value in body.model_dump(exclude={"api_key", "options"}).items()
        if (str(value) if field == "base_url" and value else value) != getattr(config, field)
    }
    options = body.options.model_dump(exclude_none=True) if body.options else {}
    if options != (config.options or {}):
        changes["options"] = options
    if body.api_key:
        changes["api_key"] = body.api_key
    elif remove_key and config.api_key_hint:
        # The service refuses this for kinds that need a key, at the key's field.
        changes["api_key"] = None
    return changes


@router.post("/settings/providers/{config_id}/default")
async def make_default_provider(
    request: Request, config_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return back("/settings/providers", "expired")
    config = await ai_service.load_config(session, user=user, config_id=config_id, write=True)
    await ai_service.update_config(
        session, config=config, runtime=ai_runtime(request), changes={"is_default": True}
    )
    return back("/settings/providers", "provider-default")


@router.post("/settings/providers/{config_id}/delete")
async def delete_provider(
    request: Request, config_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return back("/settings/providers", "expired")
    config = await ai_service.load_config(session, user=user, config_id=config_id, write=True)
    await session.delete(config)
    await session.flush()
    return back("/settings/providers", "provider-deleted")
