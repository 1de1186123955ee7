"""API models for artifacts and versions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from atelier.artifacts.derivation import Mode
from atelier.artifacts.models import ArtifactStatus, Derivation, GeneratedBy, VersionFormat
from atelier.core.schemas import InputModel, OutputModel
from atelier.core.strict_json import StrictJsonObject
from atelier.jobs.schemas import JobOut

ToolKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$"),
    Field(description="the tool that made this artifact, e.g. value_proposition"),
]
ArtifactName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ArtifactCreate(InputModel):
    type: ToolKey
    name: ArtifactName
    input_data: StrictJsonObject = Field(default_factory=dict)
    output_data: StrictJsonObject | None = None
    status: ArtifactStatus = ArtifactStatus.DRAFT
    parent_id: uuid.UUID | None = Field(
        default=None, description="the artifact this one was derived from (same project)"
    )
    derivation: Derivation | None = Field(
        default=None, description="how it was derived from parent_id; required with a parent"
    )
    generate: bool = Field(
        default=False, description="start an AI generation from input_data (see `job`)"
    )
    provider_id: uuid.UUID | None = Field(
        default=None, description="with generate: the AI provider to use"
    )


class ArtifactUpdate(InputModel):
    name: ArtifactName | None = None
    status: ArtifactStatus | None = None
    input_data: StrictJsonObject | None = None
    output_data: StrictJsonObject | None = Field(
        default=None, description="a change creates a new active version, generated_by=human"
    )


class DuplicateIn(InputModel):
    name: ArtifactName | None = None


class ArtifactOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID
    stage_id: uuid.UUID | None
    type: str
    name: str
    status: ArtifactStatus
    input_data: dict[str, Any]
    output_data: dict[str, Any] | None
    parent_id: uuid.UUID | None
    derivation: Derivation
    latest_version: int
    active_version: int | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class ArtifactCreated(ArtifactOut):
    job: JobOut | None = Field(default=None, description="the generation, when one was asked")


class QualityFinding(OutputModel):
    rule: str = Field(
        description="instruction_echo, example_copy, input_parroting, duplicate, "
        "off_script, placeholder or cut_off"
    )
    path: str = Field(description='the field, e.g. "value_map.pain_relievers[2].reliever"')
    message: str


class Quality(OutputModel):
    """The quality checks' report on an AI answer (ai/quality): what they still found
    after the repair, field by field."""

    score: float = Field(description="share of the answer's text fields with no finding")
    checked: int = Field(description="text fields checked")
    rules_version: int
    findings: list[QualityFinding]


class VersionOut(OutputModel):
    id: uuid.UUID
    artifact_id: uuid.UUID
    version: int
    format: VersionFormat
    content: str
    generated_by: GeneratedBy
    ai_generation_id: uuid.UUID | None
    created_by_id: uuid.UUID | None
    is_active: bool
    created_at: dt.datetime
    quality: Quality | None = Field(
        default=None, description="the quality checks' findings; null when not checked"
    )


class VersionSummary(OutputModel):
    version: int
    format: VersionFormat
    generated_by: GeneratedBy
    is_active: bool
    created_at: dt.datetime


class HistoryNode(ArtifactOut):
    deleted_at: dt.datetime | None = None
    depth: int = Field(description="0 for the original, 1 for what was derived from it, …")
    children: list[uuid.UUID] = Field(description="artifacts derived from this one, oldest first")
    versions: list[VersionSummary]


class HistoryOut(OutputModel):
    root_id: uuid.UUID = Field(description="the original the whole tree grew from")
    current_id: uuid.UUID = Field(description="the artifact whose history was asked for")
    items: list[HistoryNode] = Field(
        description="the whole iteration tree in pre-order (parents before their children)"
    )


class SmartPopulateIn(InputModel):
    mode: Mode = Field(
        description="edit_inputs: the original inputs; continue_from_results: AI turns the "
        "output into a richer input; merge_enhance: AI combines inputs and output"
    )
    provider_id: uuid.UUID | None = Field(default=None, description="AI modes: the provider")


class SmartPopulateOut(OutputModel):
    mode: Mode
    derivation: Derivation = Field(
        description="what to send as `derivation` (with `parent_id`) when generating from it"
    )
    explanation: str
    proposal: dict[str, Any] | None = Field(
        description="the starting input (not saved); for AI modes it is in the job's "
        "result as `proposal` once the job succeeds"
    )
    job: JobOut | None = Field(description="AI modes: the job that makes the proposal")
