"""The data model stage's document: Markdown in exactly the layout of seed 001, and back.

The document carries the model twice: as readable per-entity tables for people, and as
two JSON blocks ("## Raw Entity Schema", "## Relationships") for machines. Only the JSON
blocks are read back, so hand edits to the tables never silently change the model.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from atelier.packs.sdp.datamodel import DataModel, Entity

ENTITIES_HEADING = "Raw Entity Schema"
RELATIONSHIPS_HEADING = "Relationships"

# Every part ends with a newline; the seed puts two blank lines between sections and one
# between the entities of "## Entities".
_SECTION_GAP = "\n\n"
# The seed leaves three blank lines after its last block before the "---" footer; keeping
# them means ``render_markdown(model) + footer`` reproduces an imported document exactly.
_TRAILER = "\n\n\n"


def render_markdown(model: DataModel) -> str:
    """The data model as the seed's Markdown, up to (not including) its ``---`` footer."""
    parts = [
        "# Data Model\n\n## Entities\n\n" + "\n".join(_entity_section(e) for e in model.entities),
        _json_section(ENTITIES_HEADING, "entities", model),
        _json_section(RELATIONSHIPS_HEADING, "relationships", model),
    ]
    return _SECTION_GAP.join(parts) + _TRAILER


def _entity_section(entity: Entity) -> str:
    lines = [f"### {entity.name}", ""]
    if entity.description:
        lines += [_cell(entity.description), ""]
    lines += [
        "| Field | Type | Required | Description |",
        "|-------|------|----------|-------------|",
    ]
    for field in entity.fields:
        required = "Yes" if field.required else "No"
        cells = [_cell(field.name), _cell(field.type), required, _cell(field.description)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    # A table row is one line, and an unescaped pipe would start a new cell.
    return " ".join(text.split("\n")).replace("|", "\\|")


def _json_section(heading: str, key: str, model: DataModel) -> str:
    # indent=2 and ASCII escapes ("\u2014") are what the seed's blocks use.
    payload = {key: model.model_dump(mode="json")[key]}
    body = json.dumps(payload, indent=2, ensure_ascii=True)
    return f"## {heading}\n\n```json\n{body}\n```\n"


# --------------------------------------------------------------------------------- parsing
_HEADING = re.compile(r"^##[ \t]+(?P<title>[^\n]*?)[ \t]*#*[ \t]*$", re.MULTILINE)
_FENCE = re.compile(
    r"^```[ \t]*(?:json)?[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL
)


def parse_markdown(text: str) -> DataModel:
    """Read a document in the seed's layout back into a model, from its two JSON blocks.

    Raises ValueError naming the missing or broken part: a section, its ```json block,
    invalid JSON, a block without its top-level key, or a model that does not validate.
    """
    text = text.replace("\r\n", "\n")
    entities = _read_block(text, ENTITIES_HEADING, "entities")
    relationships = _read_block(text, RELATIONSHIPS_HEADING, "relationships")
    try:
        return DataModel.model_validate({"entities": entities, "relationships": relationships})
    except ValidationError as exc:
        raise ValueError(f"the document's data model is invalid: {exc}") from exc


def _read_block(text: str, heading: str, key: str) -> Any:
    section = _section(text, heading)
    if section is None:
        raise ValueError(f"missing '## {heading}' section with a ```json block")
    fence = _FENCE.search(section)
    if fence is None:
        raise ValueError(f"the '## {heading}' section has no ```json block")
    try:
        data = json.loads(fence["body"])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the '## {heading}' JSON block is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"the '## {heading}' JSON block has no top-level \"{key}\" key")
    return data[key]


def _section(text: str, heading: str) -> str | None:
    """The text under the first ``## heading`` (case-insensitive) up to the next ``##``."""
    headings = list(_HEADING.finditer(text))
    for i, match in enumerate(headings):
        if match["title"].strip().lower() == heading.lower():
            end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
            return text[match.end() : end]
    return None
