"""Provider configurations (keys encrypted) and generation requests."""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import limits
from atelier.accounts.models import OrgRole
from atelier.accounts.org_service import MANAGERS, membership_role
from atelier.accounts.principal import Principal
from atelier.ai.budgets import check_budget
from atelier.ai.generation_preflight import allowed_provider, generation_amounts
from atelier.ai.local_models import DEFAULT_MODEL
from atelier.ai.models import AIGeneration, AIProviderConfig, GenerationStatus, ProviderKind
from atelier.ai.pricing import estimate_cost
from atelier.ai.providers.base import GenerationRequest, Message, ProviderError
from atelier.ai.resolve import (
    ResolvedProvider,
    config_aad,
    from_config,
    visible_configs,
)
from atelier.ai.runtime import AIRuntime
from atelier.ai.tools import Tool
from atelier.artifacts.models import Artifact
from atelier.artifacts.versions import ensure_draft
from atelier.core.crypto import Cipher, DecryptionError, mask_secret, redact
from atelier.core.errors import Forbidden, InvalidInput, NotFound, field_error
from atelier.core.pagination import next_cursor, paginate_query
from atelier.jobs.models import Job
from atelier.jobs.service import enqueue
from atelier.projects.models import Project

LOCAL_DEFAULT_MODEL = DEFAULT_MODEL
# How a provider test call is named in the audit (GET /ai-generations).
PROVIDER_TEST_PROMPT = "provider_test@1"


# ------------------------------------------------------------------ provider configs
async def load_config(
    session: AsyncSession, *, user: Principal, config_id: uuid.UUID, write: bool = False
) -> AIProviderConfig:
    config = await session.scalar(
        select(AIProviderConfig).where(AIProviderConfig.id == config_id, visible_configs(user.id))
    )
    if config is None:
        raise NotFound("no such AI provider", code="ai_provider_not_found")
    if write and config.user_id != user.id:
        raise Forbidden("only the person who added this provider can change it")
    return config


async def list_configs(
    session: AsyncSession, *, user: Principal, cursor: str | None, limit: int
) -> tuple[list[AIProviderConfig], str | None]:
    query = paginate_query(
        select(AIProviderConfig).where(visible_configs(user.id)),
        created_col=AIProviderConfig.created_at,
        id_col=AIProviderConfig.id,
        cursor=cursor,
        limit=limit,
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


def _set_key(config: AIProviderConfig, api_key: str | None, runtime: AIRuntime) -> None:
    if api_key:
        config.api_key_encrypted = runtime.cipher.encrypt(api_key, aad=config_aad(config))
        config.api_key_hint = mask_secret(api_key)
    else:
        config.api_key_encrypted = None
        config.api_key_hint = None


async def _clear_other_defaults(
    session: AsyncSession, user_id: uuid.UUID, *, keep: uuid.UUID
) -> None:
    # ``keep`` is left alone: clearing it behind the ORM's back would leave it cleared
    # when it was already the default (setting True again is no change to the ORM).
    await session.execute(
        update(AIProviderConfig)
        .where(
            AIProviderConfig.user_id == user_id,
            AIProviderConfig.is_default.is_(True),
            AIProviderConfig.id != keep,
        )
        .values(is_default=False)
        .execution_options(synchronize_session=False)
    )


async def create_config(
    session: AsyncSession, *, user: Principal, runtime: AIRuntime, data: dict[str, Any]
) -> AIProviderConfig:
    org_id = data.get("organization_id")
    if org_id is not None:
        role = await membership_role(session, user_id=user.id, organization_id=org_id)
        if role is None:
            raise field_error("body.organization_id", "no such organization")
        if role not in MANAGERS:
            raise Forbidden(f"you are {OrgRole(role)}; only owners and admins share providers")
    kind = ProviderKind(data["provider"])
    config = AIProviderConfig(
        id=uuid.uuid4(),
        user_id=user.id,
        organization_id=org_id,
        provider=kind,
        label=data["label"],
        default_model=data.get("default_model")
        or {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o-mini"}.get(
            kind.value, LOCAL_DEFAULT_MODEL
        ),
        base_url=str(data["base_url"]) if data.get("base_url") else None,
        is_default=bool(data.get("is_default")),
        options={k: v for k, v in (data.get("options") or {}).items() if v is not None},
    )
    _set_key(config, data.get("api_key"), runtime)
    if config.is_default:
        await _clear_other_defaults(session, user.id, keep=config.id)
    session.add(config)
    await session.flush()
    return config


async def update_config(
    session: AsyncSession, *, config: AIProviderConfig, runtime: AIRuntime, changes: dict[str, Any]
) -> AIProviderConfig:
    for required in ("label", "default_model"):
        if required in changes and changes[required] is None:
            raise field_error(f"body.{required}", "may not be null")
    if "api_key" in changes:
        key = changes.pop("api_key")
        if not key and config.provider in (ProviderKind.ANTHROPIC, ProviderKind.OPENAI):
            raise field_error("body.api_key", f"{config.provider.value} needs an API key")
        _set_key(config, key, runtime)
    if changes.get("is_default"):
        await _clear_other_defaults(session, config.user_id, keep=config.id)
    if "base_url" in changes:
        changes["base_url"] = str(changes["base_url"]) if changes["base_url"] else None
    if "options" in changes:
        changes["options"] = {k: v for k, v in (changes["options"] or {}).items() if v is not None}
    for field, value in changes.items():
        setattr(config, field, value if field != "is_default" else bool(value))
    await session.flush()
    return config


async def rotate_keys(session: AsyncSession, cipher: Cipher) -> int:
    """Re-encrypt every stored API key that is not under the cipher's current key id
    (same associated data), in the caller's transaction; returns how many were.

    Values no configured key decrypts (a key already dropped, a row copied onto another
    owner) are left as they are: they were unusable before and stay so."""
    configs = await session.scalars(
        select(AIProviderConfig)
        .where(AIProviderConfig.api_key_encrypted.is_not(None))
        .order_by(AIProviderConfig.id)
        .with_for_update()
    )
    rotated = 0
    for config in configs:
        stored = config.api_key_encrypted
        if stored is None:
            continue
        try:
            if not cipher.needs_rotation(stored):
                continue
            plain = cipher.decrypt(stored, aad=config_aad(config))
        except DecryptionError:
            continue
        config.api_key_encrypted = cipher.encrypt(plain, aad=config_aad(config))
        rotated += 1
    await session.flush()
    return rotated


async def test_config(
    session: AsyncSession, config: AIProviderConfig, runtime: AIRuntime, *, user: Principal
) -> dict[str, Any]:
    """A tiny real call: does the key work, does the model answer? It may cost money, so
    it counts against the budget and is audited like any other call."""
    await check_budget(session, settings=runtime.settings, user_id=user.id, organization_id=None)
    resolved = from_config(config, runtime.cipher, runtime.settings)
    provider = runtime.providers.get(resolved.cache_key, resolved.settings)
    started = time.monotonic()
    outcome = await _ping(provider, resolved, started)
    session.add(_test_audit_row(user, resolved, outcome, started))
    await session.flush()
    return outcome


def _test_audit_row(
    user: Principal, resolved: ResolvedProvider, outcome: dict[str, Any], started: float
) -> AIGeneration:
    tokens_in, tokens_out = outcome.pop("_tokens", (0, 0))
    model = str(outcome.get("model") or resolved.settings.default_model)
    return AIGeneration(
        user_id=user.id,
        provider_id=resolved.config_id,
        provider=resolved.kind,
        model=model[:200],
        prompt_template=PROVIDER_TEST_PROMPT,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        total_tokens=tokens_in + tokens_out,
        estimated_cost=estimate_cost(
            provider=resolved.kind,
            model=model,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            options=resolved.options,
        ),
        duration_ms=int((time.monotonic() - started) * 1000),
        status=GenerationStatus.SUCCESS if outcome["ok"] else GenerationStatus.ERROR,
        error_message=outcome.get("message"),
        attempt=1,
    )


async def _ping(provider: Any, resolved: ResolvedProvider, started: float) -> dict[str, Any]:
    request = GenerationRequest(
        messages=[Message(role="user", content='Reply with the JSON object {"ok": true}.')],
        json_schema={
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": False,
        },
        schema_name="ping",
        max_tokens=20,
        timeout=min(resolved.settings.timeout, 60.0),
    )
    try:
        result = await provider.generate(request)
    except ProviderError as error:
        return {
            "ok": False,
            "duration_ms": int((time.monotonic() - started) * 1000),
            "error": error.code,
            "message": redact(error.message, resolved.settings.api_key),
        }
    return {
        "ok": True,
        "model": result.model,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "output": result.text[:200],
        "_tokens": (result.input_tokens, result.output_tokens),
    }


# ------------------------------------------------------------------ generation requests
def validate_inputs(tool: Tool, input_data: dict[str, Any], *, field: str) -> dict[str, Any]:
    """The inputs as the tool's input model sees them; a 422 naming each bad field."""
    try:
        model: BaseModel = tool.input_model.model_validate(input_data)
    except ValidationError as error:
        raise InvalidInput(
            [
                {
                    "field": ".".join([field, *(str(p) for p in e["loc"])]),
                    "message": e["msg"],
                    "type": e["type"],
                }
                for e in error.errors()
            ]
        ) from None
    return model.model_dump(mode="json")


def tool_for(runtime: AIRuntime, artifact_type: str, *, field: str = "body.type") -> Tool:
    tool = runtime.tools.get(artifact_type)
    if tool is None:
        known = ", ".join(t.key for t in runtime.tools.all())
        raise field_error(field, f"no tool named {artifact_type!r}; known tools: {known}")
    return tool


async def request_generation(
    session: AsyncSession,
    *,
    runtime: AIRuntime,
    user: Principal,
    artifact: Artifact,
    project_organization_id: uuid.UUID | None,
    project_provider_id: uuid.UUID | None,
    provider_id: uuid.UUID | None,
    notify: Any = None,
    kind: str = "generate",
    payload: dict[str, Any] | None = None,
) -> tuple[Job, ResolvedProvider]:
    """Check everything that can be checked now (tool, inputs, budget, provider), then
    enqueue the job in the caller's transaction. Kind "generate" makes a new version
    (so the artifact must be a draft and its inputs valid); other kinds (e.g.
    "smart_populate") only read the artifact."""
    tool = tool_for(runtime, artifact.type, field="type")
    counted: dict[str, int] = {}
    if kind == "generate":
        ensure_draft(artifact)
        validate_inputs(tool, artifact.input_data, field="input_data")
        counted = generation_amounts(tool.meters)
    resolved = await allowed_provider(
        session,
        runtime=runtime,
        user_id=user.id,
        organization_id=project_organization_id,
        project_provider_id=project_provider_id,
        provider_id=provider_id,
    )
    # Counted with the job, in its transaction (a request that fails after this point
    # takes its count back with it), and refused if that passes a limit.
    await limits.charge(
        session,
        user_id=user.id,
        organization_id=project_organization_id,
        amounts=counted,
        settings=runtime.settings,
    )
    job = await enqueue(
        session,
        user_id=user.id,
        kind=kind,
        payload={**(payload or {}), "provider_id": str(provider_id) if provider_id else None},
        project_id=artifact.project_id,
        artifact_id=artifact.id,
        queue=runtime.settings.job_queue,
        notify=notify,
    )
    return job, resolved


async def request_for_artifact(
    session: AsyncSession,
    *,
    runtime: AIRuntime,
    user: Principal,
    artifact: Artifact,
    provider_id: uuid.UUID | None,
    notify: Any = None,
    kind: str = "generate",
    payload: dict[str, Any] | None = None,
) -> Job:
    """request_generation for an artifact loaded on its own (its project read here)."""
    project = await project_of(session, artifact.project_id)
    job, _ = await request_generation(
        session,
        runtime=runtime,
        user=user,
        artifact=artifact,
        project_organization_id=project.organization_id,
        project_provider_id=project.ai_provider_id,
        provider_id=provider_id,
        notify=notify,
        kind=kind,
        payload=payload,
    )
    return job


async def project_of(session: AsyncSession, project_id: uuid.UUID) -> Project:
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound("no such project", code="project_not_found")
    return project
