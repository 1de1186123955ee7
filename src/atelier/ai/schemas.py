"""API models for AI providers, tools, generations and usage."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, StringConstraints, model_validator

from atelier.ai.models import GenerationStatus, ProviderKind
from atelier.core.schemas import InputModel, OutputModel
from atelier.core.strict_json import StrictJsonObject

Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ApiKeyText = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ProviderOptions(InputModel):
    input_usd_per_mtok: Annotated[float, Field(ge=0, le=10_000)] | None = None
    output_usd_per_mtok: Annotated[float, Field(ge=0, le=10_000)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] | None = None
    threads: Annotated[int, Field(ge=1, le=256)] | None = None
    # "sections": one call per part of the answer (small models); "one_shot": the whole
    # answer in one call. None: the instance default (ATELIER_LOCAL_GENERATION_MODE for
    # the embedded model, one_shot for the others).
    generation_mode: Literal["one_shot", "sections"] | None = None
    # Tokens the model reads at once, for a model whose window Atelier does not know
    # (ai/windows.py): chat replies fit their history to it.
    context_window: Annotated[int, Field(ge=256, le=10_000_000)] | None = None


class ProviderCreate(InputModel):
    provider: ProviderKind
    label: Label
    api_key: ApiKeyText | None = Field(default=None, description="stored encrypted, never shown")
    default_model: ModelName | None = None
    base_url: AnyHttpUrl | None = None
    is_default: bool = False
    organization_id: uuid.UUID | None = Field(
        default=None, description="share with this organization's members (you must manage it)"
    )
    options: ProviderOptions = Field(default_factory=ProviderOptions)

    @model_validator(mode="after")
    def _required_per_kind(self) -> ProviderCreate:
        if self.provider in (ProviderKind.ANTHROPIC, ProviderKind.OPENAI) and not self.api_key:
            raise ValueError(f"api_key is required for {self.provider.value}")
        if self.provider == ProviderKind.CUSTOM and self.base_url is None:
            raise ValueError("base_url is required for a custom (OpenAI-compatible) provider")
        if self.provider == ProviderKind.CUSTOM and not self.default_model:
            raise ValueError("default_model is required for a custom provider")
        return self


class ProviderUpdate(InputModel):
    label: Label | None = None
    api_key: ApiKeyText | None = None
    default_model: ModelName | None = None
    base_url: AnyHttpUrl | None = None
    is_default: bool | None = None
    options: ProviderOptions | None = None


class ProviderOut(OutputModel):
    id: uuid.UUID
    provider: ProviderKind
    label: str
    api_key_hint: str | None = Field(description="masked; the key itself is never returned")
    default_model: str
    base_url: str | None
    is_default: bool
    organization_id: uuid.UUID | None
    user_id: uuid.UUID
    options: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class ProviderTestOut(BaseModel):
    ok: bool
    model: str | None = None
    duration_ms: int
    output: str | None = None
    error: str | None = None
    message: str | None = None


class ToolOut(BaseModel):
    key: str
    title: str
    description: str
    pack: str
    phase: str | None
    prompt_template: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


class GenerateIn(InputModel):
    provider_id: uuid.UUID | None = Field(
        default=None, description="use this provider instead of the project's or your default"
    )
    input_data: StrictJsonObject | None = Field(
        default=None, description="replace the artifact's inputs before generating"
    )


class AIGenerationOut(OutputModel):
    id: uuid.UUID
    user_id: uuid.UUID
    project_id: uuid.UUID | None
    artifact_id: uuid.UUID | None
    stage_id: uuid.UUID | None
    job_id: uuid.UUID | None
    provider_id: uuid.UUID | None
    provider: str
    model: str
    prompt_template: str
    input_tokens: int
    output_tokens: int
    total_tokens: int
    estimated_cost: Decimal
    duration_ms: int
    status: GenerationStatus
    error_message: str | None
    attempt: int
    created_at: dt.datetime
