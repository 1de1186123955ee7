"""What the exporters render: plain data, filled by the caller from the database or elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atelier.ai.tools import Tool


@dataclass(slots=True)
class ExportArtifact:
    """One artifact as exported: its active version's data and, when known, its tool.

    ``output_schema`` / ``input_schema`` override the tool's own (e.g. a schema stored with an
    older version); without either, the values are rendered from their shape alone.
    """

    id: str
    name: str
    tool_key: str
    tool_title: str
    phase: str | None
    status: str
    version: int | None
    generated_by: str | None
    updated_at: datetime
    input_data: dict[str, Any]
    output_data: dict[str, Any] | None
    output_schema: dict[str, Any] | None = None
    tool: Tool | None = None
    input_schema: dict[str, Any] | None = None
    # The active version's quality checks (ai/quality), when the export asks for them.
    quality: dict[str, Any] | None = None


@dataclass(slots=True)
class ExportProject:
    """A project and the artifacts to export, in the order the caller wants within a phase."""

    name: str
    description: str | None
    pack: str
    phase: str | None
    owner_name: str | None
    exported_at: datetime
    artifacts: list[ExportArtifact] = field(default_factory=list)
