"""API models for projects."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from atelier.core.languages import LANGUAGES
from atelier.core.schemas import InputModel, OutputModel
from atelier.core.strict_json import StrictJsonObject
from atelier.projects.catalog import DEFAULT_PACK, PackKey
from atelier.projects.models import Phase, ProjectStatus

ProjectName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _known_language(code: str) -> str:
    if code not in LANGUAGES:
        raise ValueError(f"unknown language; one of: {', '.join(LANGUAGES)}")
    return code


# A project's language (core/languages.py): what its answers are checked against.
Language = Annotated[
    str,
    Field(json_schema_extra={"enum": list(LANGUAGES)}, description="a language code"),
    AfterValidator(_known_language),
]
Description = Annotated[str, StringConstraints(max_length=10_000)]


class ProjectCreate(InputModel):
    name: ProjectName
    description: Description | None = None
    pack: PackKey = DEFAULT_PACK
    phase: Phase = Phase.DISCOVER
    status: ProjectStatus = ProjectStatus.ACTIVE
    organization_id: uuid.UUID | None = None
    current_stage: Annotated[int, Field(ge=1, le=100)] | None = None
    metadata: StrictJsonObject = Field(default_factory=dict)
    # Start from a template (GET /api/v1/templates): its pack and stage defaults are used.
    template_id: uuid.UUID | None = None
    # The language answers are written in; null: the owner's preference, else English.
    language: Language | None = None


class ProjectUpdate(InputModel):
    name: ProjectName | None = None
    description: Description | None = None
    phase: Phase | None = None
    status: ProjectStatus | None = None
    organization_id: uuid.UUID | None = None
    current_stage: Annotated[int, Field(ge=1, le=100)] | None = None
    metadata: StrictJsonObject | None = None
    # This project's generations use this provider (GET /api/v1/ai-providers); null goes
    # back to the user's default.
    ai_provider_id: uuid.UUID | None = None
    language: Language | None = None


class ProjectOut(OutputModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    organization_id: uuid.UUID | None
    name: str
    slug: str
    description: str | None
    pack: str
    phase: Phase
    status: ProjectStatus
    current_stage: int | None
    metadata: dict[str, Any] = Field(validation_alias="metadata_")
    ai_provider_id: uuid.UUID | None
    template_id: uuid.UUID | None
    language: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
