"""Pages of the web UI: account settings (profile, API keys, AI providers, local models),
the usage page's charts and budget (its route is in ``pages_usage``), and ``ai_ready``, the
check behind the "no AI provider" guidance.

Reads go through the services; writes are form posts (CSRF-checked, then PRG with a
``?msg=`` code naming a fixed notice, so no text from the URL is ever shown). Creating an
API key is the exception: the page's script calls the JSON API so that the raw key only
ever lives in the page that asked for it (a reload shows it no more).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import org_service
from atelier.accounts import service as accounts
from atelier.accounts.principal import Principal
from atelier.accounts.schemas import ApiKeyCreate, ProfileUpdate
from atelier.accounts.scopes import DEFAULT_SCOPES
from atelier.ai import local_models
from atelier.ai import service as ai_service
from atelier.ai.budgets import Limit, month_start, plan_limits, spent_this_month, user_plan
from atelier.ai.models import AIProviderConfig, ProviderKind
from atelier.ai.resolve import ProviderUnavailable, instance_default, visible_configs
from atelier.ai.runtime import AIRuntime
from atelier.ai.schemas import ProviderCreate, ProviderOptions, ProviderUpdate
from atelier.config import Settings
from atelier.core.db import utcnow
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, InvalidInput
from atelier.core.pagination import decode_cursor
from atelier.web.flash import FormText, back, notice_of
from atelier.web.forms import json_object
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)


INSTALL_COMMAND = f"atelier models install {local_models.DEFAULT_MODEL}"

TABS = (
    ("profile", "/settings/profile", "Profile"),
    ("organizations", "/settings/organizations", "Organizations"),
    ("providers", "/settings/providers", "AI providers"),
    ("models", "/settings/models", "Local models"),
    ("api-keys", "/settings/api-keys", "API keys"),
)

# ?msg= codes → the notice shown after a redirect.
NOTICES: dict[str, tuple[str, str]] = {
    "profile-saved": ("ok", "Profile saved."),
    "key-revoked": ("ok", "API key revoked: programs using it can no longer sign in."),
    "provider-added": ("ok", "AI provider added. Its key is stored encrypted."),
    "provider-default": ("ok", "Default AI provider changed."),
    "provider-deleted": ("ok", "AI provider deleted."),
    "provider-saved": ("ok", "AI provider saved."),
    "expired": ("error", "The form expired. Please try again."),
}

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
)
# The form sends every option and a PATCH replaces them all: one missing here would be
# wiped by every edit.
assert {name for name, _, _ in PROVIDER_OPTION_FIELDS} == set(ProviderOptions.model_fields)

EXPIRY_CHOICES = (("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"))
SCOPE_CHOICES = (
    ("read", "Read (GET)"),
    ("write", "Write: create, change, delete, generate"),
    ("keys", "Create and revoke keys and MCP tokens"),
)


# ------------------------------------------------------------------ shared helpers
async def ai_ready(request: Request, session: AsyncSession, user: Principal) -> bool:
    """Whether a generation for ``user`` can find a provider at all: a config of theirs
    (or one an organization shares) that can run, else the instance default working on
    its own (a hosted default with its key, or the local model installed)."""
    settings = _settings(request)
    configs = await session.execute(
        select(AIProviderConfig.provider, AIProviderConfig.default_model)
        .where(visible_configs(user.id))
        .limit(50)
    )
    for kind, model in configs.all():
        # A hosted config may still have a wrong key, but that is for its "Test" button;
        # a local one without its model installed cannot work at all.
        if kind != ProviderKind.LOCAL or _local_model_installed(settings, model):
            return True
    try:
        instance_default(settings)
    except ProviderUnavailable:
        return False
    return True


def _local_model_installed(settings: Settings, model: str | None) -> bool:
    try:
        local_models.resolve_model_path(settings, model=model)
    except local_models.LocalModelError:
        return False
    return True


def notice(msg: str | None) -> dict[str, str] | None:
    return notice_of(NOTICES, msg)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _runtime(request: Request) -> AIRuntime:
    runtime: AIRuntime = request.app.state.ai
    return runtime


def _settings_page(
    request: Request, tab: str, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    return render(
        request,
        template,
        {"nav": "settings", "tabs": TABS, "tab": tab, **context},
        status=status,
    )


def _form_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic errors by field; a model-level error names its field in its message
    ("api_key is required for …"). A provider option is named by itself (its form field),
    not by ``options``."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        loc = problem["loc"]
        if not loc:
            name = message.split(" ", 1)[0]
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


def cursor_or_none(cursor: str | None) -> str | None:
    """A cursor a page can use: a broken one (edited URL) starts from the first page."""
    if not cursor:
        return None
    try:
        decode_cursor(cursor)
    except AtelierError:
        return None
    return cursor


# ------------------------------------------------------------------ settings
@router.get("/settings", response_class=HTMLResponse)
async def settings_home(user: WebUser) -> Response:
    return RedirectResponse("/settings/profile", status_code=303)


@router.get("/settings/profile", response_class=HTMLResponse)
async def profile(request: Request, user: WebUser, session: DB, msg: str | None = None) -> Response:
    return await _profile_page(request, session, user, flash=notice(msg))


async def _profile_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    flash: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    account = await accounts.load_user(session, user)
    typed = typed or {
        "name": account.name,
        "avatar_url": account.avatar_url or "",
        "preferences": json.dumps(account.preferences, indent=2, ensure_ascii=False)
        if account.preferences
        else "",
    }
    orgs, _ = await org_service.list_organizations(session, user=user, cursor=None, limit=100)
    return _settings_page(
        request,
        "profile",
        "account/profile.html",
        {
            "account": account,
            "name": typed["name"],
            "avatar_url": typed["avatar_url"],
            "preferences": typed["preferences"],
            "orgs": orgs,
            "errors": errors or {},
            "flash": flash,
        },
        status=status,
    )


@router.post("/settings/profile", response_class=HTMLResponse)
async def save_profile(
    request: Request,
    user: WebUser,
    session: DB,
    name: FormText = "",
    avatar_url: FormText = "",
    preferences: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    if not csrf_ok(request, csrf_token):
        return back("/settings/profile", "expired")
    typed = {"name": name.strip(), "avatar_url": avatar_url.strip(), "preferences": preferences}
    errors: dict[str, str] = {}
    chosen = json_object(preferences)
    if chosen is None:
        errors["preferences"] = 'Write a JSON object, e.g. {"theme": "dark"}, or leave it empty.'
    try:
        changes = ProfileUpdate.model_validate(
            {"name": typed["name"], "avatar_url": typed["avatar_url"], "preferences": chosen}
        ).model_dump(exclude_unset=True)
    except ValidationError as error:
        errors |= {
            str(e["loc"][0]): "Enter a name of 1 to 100 characters."
            if e["loc"][0] == "name"
            else e["msg"].removeprefix("Value error, ").capitalize() + "."
            for e in error.errors()
        }
    if errors:
        return await _profile_page(request, session, user, typed=typed, errors=errors, status=422)
    await accounts.update_profile(session, await accounts.load_user(session, user), changes)
    return back("/settings/profile", "profile-saved")


# ------------------------------------------------------------------ API keys
@router.get("/settings/api-keys", response_class=HTMLResponse)
async def api_keys(
    request: Request, user: WebUser, session: DB, msg: str | None = None
) -> Response:
    return await _api_keys_page(request, session, user, flash=notice(msg))


async def _api_keys_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    flash: dict[str, str] | None = None,
    created: str | None = None,
    errors: dict[str, str] | None = None,
    label: str = "",
    checked_scopes: list[str] | None = None,
    status: int = 200,
) -> Response:
    keys, _ = await accounts.list_api_keys(session, user=user, cursor=None, limit=200)
    return _settings_page(
        request,
        "api-keys",
        "account/api_keys.html",
        {
            "keys": keys,
            "now": utcnow(),
            "created": created,
            "errors": errors or {},
            "label": label,
            "expiry_choices": EXPIRY_CHOICES,
            "scope_choices": SCOPE_CHOICES,
            "checked_scopes": checked_scopes or [scope.value for scope in DEFAULT_SCOPES],
            "flash": flash,
        },
        status=status,
    )


@router.post("/settings/api-keys", response_class=HTMLResponse)
async def create_api_key(
    request: Request,
    user: WebUser,
    session: DB,
    label: FormText = "",
    expires_in_days: FormText = "",
    scopes: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    scopes_shown: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """Without JavaScript: the key is created here and shown in this response only."""
    if not csrf_ok(request, csrf_token):
        return back("/settings/api-keys", "expired")
    expires = None
    if expires_in_days.isdigit():
        expires = utcnow() + dt.timedelta(days=min(int(expires_in_days), 3650))
    try:
        body = ApiKeyCreate(label=label.strip(), expires_at=expires, scopes=scopes or None)
    except ValidationError as error:
        wrong = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
        errors = {}
        if "label" in wrong:
            errors["label"] = "Enter a label of 1 to 100 characters."
        if "scopes" in wrong:
            errors["scopes"] = "Choose from the listed scopes."
        return await _api_keys_page(
            request,
            session,
            user,
            label=label,
            checked_scopes=scopes,
            errors=errors,
            status=422,
        )
    # The page's form says it showed the scope boxes: none ticked is a mistake, not a
    # request for the defaults (which a client that sends no scopes gets).
    if scopes_shown and not scopes:
        return await _api_keys_page(
            request,
            session,
            user,
            label=label,
            checked_scopes=[],
            errors={"scopes": "Choose at least one thing the key may do."},
            status=422,
        )
    _, raw = await accounts.create_api_key(
        session, user=user, label=body.label, expires_at=body.expires_at, scopes=body.scopes
    )
    response = await _api_keys_page(request, session, user, created=raw)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/api-keys/{key_id}/revoke")
async def revoke_api_key(
    request: Request, key_id: uuid.UUID, user: WebUser, session: DB, csrf_token: FormText = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return back("/settings/api-keys", "expired")
    key = await accounts.revoke_api_key(session, user=user, key_id=key_id)
    request.app.state.auth_cache.forget(key.key_hash)
    return back("/settings/api-keys", "key-revoked")


# ------------------------------------------------------------------ AI providers
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
    return _settings_page(
        request,
        "providers",
        "account/providers.html",
        {
            "configs": configs,
            "user_id": user.id,
            "ready": ready,
            "instance": _instance_summary(_settings(request)),
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
            session, user=user, runtime=_runtime(request), data=body.model_dump()
        )
    except (ValidationError, InvalidInput) as error:
        errors = (
            _form_errors(error) if isinstance(error, ValidationError) else _service_errors(error)
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
    return _settings_page(
        request,
        "providers",
        "account/provider_edit.html",
        {
            "config": config,
            "kinds": dict(PROVIDER_KINDS),
            "option_fields": PROVIDER_OPTION_FIELDS,
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
            session, config=config, runtime=_runtime(request), changes=changes
        )
    except (ValidationError, InvalidInput) as error:
        errors = (
            _form_errors(error) if isinstance(error, ValidationError) else _service_errors(error)
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
        session, config=config, runtime=_runtime(request), changes={"is_default": True}
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


# ------------------------------------------------------------------ local models
@router.get("/settings/models", response_class=HTMLResponse)
async def models(request: Request, user: WebUser) -> Response:
    settings = _settings(request)
    statuses = local_models.list_models(settings)
    return _settings_page(
        request,
        "models",
        "account/models.html",
        {
            "models": statuses,
            "installed": [m for m in statuses if m.installed],
            "configured": local_models.configured_model(settings),
            "instance_kind": settings.ai_provider,
            "size": human_size,
        },
    )


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns


# ------------------------------------------------------------------ usage
# Charts are inline SVG drawn by the template from what is computed here. Horizontal
# positions are percentages of the SVG's width and vertical ones pixels, with no viewBox:
# the chart spans its card at any width while its text keeps its size (a scaled viewBox
# would shrink the labels to nothing on a phone).
@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # what the bar is (a day, a model)
    text: str  # its value as written in the tooltip
    x: float  # % of the width
    width: float  # % of the width
    y: float  # px
    height: float  # px
    # A second segment stacked on top (output tokens above input tokens).
    y2: float = 0.0
    height2: float = 0.0
    note: str = ""  # written at the end of a horizontal bar


@dataclass(frozen=True, slots=True)
class AxisLabel:
    x: float  # % of the width
    anchor: str  # start | middle | end: the first and last labels stay inside the chart
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    description: str  # what the chart shows and what it says, for people who cannot see it
    height: int  # px
    bars: list[Bar]
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y px, value) gridlines
    labels: list[AxisLabel] = field(default_factory=list)
    baseline: float = 0.0  # y px of the zero line
    horizontal: bool = False
    empty_text: str = ""  # written across an empty chart


DAY_CHART_HEIGHT, PLOT_TOP, PLOT_BOTTOM = 200, 18, 24


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def _format_tokens(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.0f}"


def _format_usd(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:.4f}" if value < 0.01 else f"${value:.2f}"


def _axis_labels(days: list[str], slot: float) -> list[AxisLabel]:
    """A handful of dates (one per bar would collide on 30 bars), kept inside the chart."""
    every = max(1, round(len(days) / 5))
    labels = []
    for i in range(0, len(days), every):
        middle = (i + 0.5) * slot
        if middle < 8:
            labels.append(AxisLabel(round(i * slot, 3), "start", days[i][5:]))
        elif middle > 92:
            labels.append(AxisLabel(round((i + 1) * slot, 3), "end", days[i][5:]))
        else:
            labels.append(AxisLabel(round(middle, 3), "middle", days[i][5:]))
    return labels


def day_chart(
    key: str,
    title: str,
    description: str,
    days: list[str],
    values: list[float],
    fmt: Callable[[float], str],
    *,
    stacked: list[float] | None = None,
    empty_text: str = "",
    minimum: float = 0.0,
) -> Chart:
    """Vertical bars, one per day; ``stacked`` puts a second segment on top of each."""
    upper = stacked or [0.0] * len(values)
    totals = [a + b for a, b in zip(values, upper, strict=True)]
    top = _nice_max(max([*totals, minimum]))
    plot_h = DAY_CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    base = PLOT_TOP + plot_h
    slot = 100 / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        if not totals[i]:
            continue
        h1, h2 = values[i] / top * plot_h, upper[i] / top * plot_h
        text = f"{fmt(values[i])} in, {fmt(upper[i])} out" if stacked else fmt(values[i])
        bars.append(
            Bar(
                label=day,
                text=text,
                x=round(i * slot + slot * 0.15, 3),
                width=round(slot * 0.7, 3),
                y=round(base - h1, 2),
                height=round(h1, 2),
                y2=round(base - h1 - h2, 2),
                height2=round(h2, 2),
            )
        )
    # No scale on an empty chart: it would only label nothing.
    ticks = [(round(base - plot_h * f, 2), fmt(top * f)) for f in (0.5, 1) if any(totals)]
    busiest = max(range(len(days)), key=lambda i: totals[i]) if any(totals) else None
    said = (
        f" Total {fmt(sum(totals))}; the highest day is {days[busiest]} with "
        f"{fmt(totals[busiest])}."
        if busiest is not None
        else ""
    )
    return Chart(
        key,
        title,
        description + said,
        DAY_CHART_HEIGHT,
        bars,
        ticks,
        _axis_labels(days, slot),
        baseline=base,
        empty_text="" if any(totals) else empty_text,
    )


def model_chart(rows: list[dict[str, Any]]) -> Chart:
    """One bar per model: its name above, its tokens after it, cost and calls in the tooltip."""
    row_h = 46
    top = max((int(r["total_tokens"]) for r in rows), default=0) or 1
    bars = []
    for i, row in enumerate(rows):
        tokens = int(row["total_tokens"])
        width = max(tokens / top * 80, 0.5)  # room is left for the note after the longest
        bars.append(
            Bar(
                label=str(row["model"]),
                text=f"{_format_tokens(tokens)} tokens, {_format_usd(float(row['cost_usd']))}, "
                f"{row['calls']} calls",
                x=0,
                width=round(width, 3),
                y=i * row_h + 20,
                height=16,
                note=f"{_format_tokens(tokens)} tokens",
            )
        )
    listed = "; ".join(f"{bar.label}: {bar.text}" for bar in bars)
    return Chart(
        "by-model",
        "Tokens per model",
        "Bars: total tokens of each model in the period." + (f" {listed}." if listed else ""),
        max(len(rows), 1) * row_h + 4,
        bars,
        horizontal=True,
        empty_text="" if rows else "No AI calls in this period",
    )


def _days(start: dt.date, end: dt.date) -> list[str]:
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def usage_charts(summary: dict[str, Any], start: dt.date, end: dt.date) -> list[Chart]:
    days = _days(start, end)
    per_day = {str(row["day"])[:10]: row for row in summary["by_day"]}
    zero = {"input_tokens": 0, "output_tokens": 0, "cost_usd": "0"}
    rows = [per_day.get(day, zero) for day in days]
    span = f"{days[0]} to {days[-1]}"
    no_calls = "No AI calls in this period"
    cost = day_chart(
        "cost",
        "Cost per day (USD)",
        f"Bars: estimated cost in US dollars of each day from {span}.",
        days,
        [float(r["cost_usd"]) for r in rows],
        _format_usd,
        empty_text="No cost: these calls were free" if summary["by_day"] else no_calls,
    )
    tokens = day_chart(
        "tokens",
        "Tokens per day",
        f"Stacked bars: input tokens (dark) and output tokens (light) of each day from {span}.",
        days,
        [float(r["input_tokens"]) for r in rows],
        _format_tokens,
        stacked=[float(r["output_tokens"]) for r in rows],
        empty_text=no_calls,
        minimum=10,  # whole tokens on the scale
    )
    return [cost, tokens, model_chart(summary["by_model"])]


@dataclass(frozen=True, slots=True)
class Budget:
    plan: str
    limit: Limit
    tokens_used: int
    usd_used: Decimal
    resets: dt.date

    @property
    def tokens_left(self) -> int | None:
        return max(self.limit.tokens - self.tokens_used, 0) if self.limit.tokens else None

    @property
    def usd_left(self) -> Decimal | None:
        return max(self.limit.usd - self.usd_used, Decimal(0)) if self.limit.usd else None


async def monthly_budget(session: AsyncSession, settings: Settings, user: Principal) -> Budget:
    plan = await user_plan(session, user.id)
    limit = plan_limits(settings).get(plan, Limit(0, Decimal(0)))
    spend = await spent_this_month(session, user_id=user.id)
    start = month_start()
    resets = (start + dt.timedelta(days=32)).replace(day=1).date()
    return Budget(plan, limit, spend.tokens, spend.usd, resets)
