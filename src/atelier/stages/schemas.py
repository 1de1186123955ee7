"""API models for pipeline stages."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import orjson
from pydantic import StringConstraints

from atelier.artifacts.models import ArtifactVersion, GeneratedBy, VersionFormat
from atelier.artifacts.schemas import Quality
from atelier.core.schemas import InputModel, OutputModel
from atelier.core.strict_json import StrictJsonObject
from atelier.jobs.schemas import JobOut
from atelier.stages.pipeline import StageState


class StageOut(OutputModel):
    number: int
    name: str
    label: str
    status: str  # locked | active | generating | review | complete
    needs_review: bool
    user_input: str | None
    data: dict[str, Any] | None
    artifact_id: uuid.UUID
    active_version: int | None
    latest_version: int
    job_id: uuid.UUID | None
    completed_at: dt.datetime | None
    validated_at: dt.datetime | None
    updated_at: dt.datetime

    @classmethod
    def of(cls, state: StageState, active_version: int | None) -> StageOut:
        stage, artifact = state.stage, state.artifact
        return cls(
            number=stage.stage_number,
            name=stage.stage_name,
            label=stage.stage_label,
            status=state.status,
            needs_review=stage.needs_review,
            user_input=stage.user_input,
            data=artifact.output_data if active_version else None,
            artifact_id=artifact.id,
            active_version=active_version,
            latest_version=artifact.latest_version,
            job_id=stage.job_id,
            completed_at=stage.completed_at,
            validated_at=stage.validated_at,
            updated_at=stage.updated_at,
        )


class StagesOut(OutputModel):
    project_id: uuid.UUID
    current_stage: int | None
    items: list[StageOut]


class StageUpdate(InputModel):
    user_input: Annotated[str, StringConstraints(max_length=8000)] | None = None
    # A human edit of the output: validated against the stage's output model, saved as a
    # new version (generated_by=human).
    data: StrictJsonObject | None = None


class StageGenerateIn(InputModel):
    provider_id: uuid.UUID | None = None
    # Database stage only: false compiles the SQL from the data model without asking the
    # AI for additions.
    ai: bool = True


class StageGenerateOut(OutputModel):
    stage: StageOut
    job: JobOut | None


class StageOutputOut(OutputModel):
    """Seed 001 StageOutput: one version of a stage's output."""

    id: uuid.UUID
    version: int
    format: VersionFormat
    generated_by: GeneratedBy
    ai_generation_id: uuid.UUID | None
    is_active: bool
    created_at: dt.datetime
    data: Any
    quality: Quality | None = None

    @classmethod
    def of(cls, version: ArtifactVersion) -> StageOutputOut:
        data: Any = version.content
        if version.format == VersionFormat.JSON:
            data = orjson.loads(version.content)
        return cls(
            id=version.id,
            version=version.version,
            format=version.format,
            generated_by=version.generated_by,
            ai_generation_id=version.ai_generation_id,
            is_active=version.is_active,
            created_at=version.created_at,
            data=data,
            quality=Quality.model_validate(version.quality) if version.quality else None,
        )


class StageFilesOut(OutputModel):
    """The files the stage's active output renders to, as in an exported package."""

    files: dict[str, str]
