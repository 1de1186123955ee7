"""The data model document: seed 001's exact Markdown layout, rendered and read back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from atelier.packs.sdp.datamodel import DataModel, Entity, EntityField, Relationship
from atelier.packs.sdp.datamodel_markdown import parse_markdown, render_markdown

SEED = Path(__file__).parent / "data" / "seed_001_data_model.md"


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def without_footer(text: str) -> str:
    """The document up to, not including, its final ``---`` line."""
    return text[: text.rindex("\n---\n") + 1]


def seed_model() -> DataModel:
    return parse_markdown(seed_text())


def small_model(**changes: object) -> DataModel:
    data: dict[str, object] = {
        "entities": [
            Entity(
                name="Author",
                description="Someone who writes | edits posts",
                fields=[
                    EntityField(name="id", type="uuid", required=True, description="Primary key"),
                    EntityField(
                        name="bio", type="text", required=False, description="Line one\nline two"
                    ),
                ],
            )
        ],
        "relationships": [],
    }
    data.update(changes)
    return DataModel.model_validate(data)


# --- the seed ------------------------------------------------------------------------------


def test_seed_parses_to_its_entities_and_relationships() -> None:
    model = seed_model()
    assert [e.name for e in model.entities] == [
        "User",
        "AIProviderConfig",
        "Project",
        "Stage",
        "StageOutput",
        "AIGeneration",
        "Template",
        "ExportPackage",
        "MCPToken",
    ]
    assert len(model.relationships) == 12
    project = model.entity("Project")
    assert project is not None
    ai_provider = next(f for f in project.fields if f.name == "aiProviderId")
    assert ai_provider.required is False
    assert ai_provider.description == "FK to AIProviderConfig \u2014 override for this project"
    first = model.relationships[0]
    assert (first.from_, first.to, first.type, first.foreign_key) == (
        "User",
        "Project",
        "one-to-many",
        "userId",
    )


def test_render_reproduces_the_seed_byte_for_byte_up_to_its_footer() -> None:
    text = seed_text()
    rendered = render_markdown(parse_markdown(text))
    assert rendered == without_footer(text)
    # So the import footer can be appended as it stands.
    assert rendered + text[len(rendered) :] == text
    assert text[len(rendered) :].startswith("---\n*Imported from SDP")


def test_render_uses_indent_2_and_ascii_escapes_in_the_json_blocks() -> None:
    rendered = render_markdown(seed_model())
    assert '"description": "FK to AIProviderConfig \\u2014 override for this project"' in rendered
    assert "\u2014" in rendered  # the readable tables keep the real character
    assert '{\n  "entities": [\n    {\n      "name": "User",' in rendered
    assert '{\n  "relationships": [\n    {\n      "from": "User",' in rendered


def test_parse_of_render_is_the_identity() -> None:
    for model in (seed_model(), small_model()):
        assert parse_markdown(render_markdown(model)) == model


def test_json_dump_uses_the_seed_keys() -> None:
    dumped = seed_model().model_dump(mode="json")
    relationship = dumped["relationships"][0]
    assert list(relationship) == ["from", "to", "type", "foreignKey", "description"]
    assert "from_" not in relationship and "foreign_key" not in relationship
    assert list(dumped["entities"][0]["fields"][0]) == ["name", "type", "required", "description"]


def test_relationships_section_is_present_when_empty() -> None:
    rendered = render_markdown(small_model())
    assert '## Relationships\n\n```json\n{\n  "relationships": []\n}\n```\n' in rendered
    assert parse_markdown(rendered).relationships == []


def test_table_cells_escape_pipes_and_line_breaks() -> None:
    rendered = render_markdown(small_model())
    assert "### Author\n\nSomeone who writes \\| edits posts\n\n| Field |" in rendered
    assert "| bio | text | No | Line one line two |" in rendered
    # The JSON keeps the exact text.
    assert parse_markdown(rendered).entities[0].fields[1].description == "Line one\nline two"


def test_sections_are_separated_like_the_seed() -> None:
    model = small_model(
        relationships=[
            Relationship.model_validate(
                {
                    "from": "Author",
                    "to": "Author",
                    "type": "one-to-many",
                    "foreignKey": "id",
                    "description": "x",
                }
            )
        ]
    )
    rendered = render_markdown(model)
    assert rendered.startswith("# Data Model\n\n## Entities\n\n### Author\n\n")
    assert "| Primary key |\n| bio |" in rendered
    assert "line two |\n\n\n## Raw Entity Schema\n\n```json\n" in rendered
    assert "}\n```\n\n\n## Relationships\n\n```json\n" in rendered
    assert rendered.endswith("}\n```\n\n\n\n")


# --- reading documents ---------------------------------------------------------------------


def test_parse_reads_only_the_json_blocks() -> None:
    # An edit to the readable table does not change the model.
    text = seed_text().replace("| email | string | Yes |", "| email | integer | No |")
    user = parse_markdown(text).entity("User")
    assert user is not None
    email = next(f for f in user.fields if f.name == "email")
    assert (email.type, email.required) == ("string", True)


def test_parse_accepts_windows_line_endings() -> None:
    assert parse_markdown(seed_text().replace("\n", "\r\n")) == seed_model()


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: t.replace("## Raw Entity Schema", "## Schema"), "'## Raw Entity Schema'"),
        (lambda t: t.replace("## Relationships", "## Links"), "'## Relationships' section"),
        (
            lambda t: t.replace('```json\n{\n  "relationships"', '    {\n  "relationships"'),
            "'## Relationships' section has no ```json block",
        ),
        (
            lambda t: t.replace('"entities": [', '"entities": [,', 1),
            "'## Raw Entity Schema' JSON block is not valid JSON",
        ),
        (
            lambda t: t.replace('{\n  "relationships": [', '{\n  "links": [', 1),
            'no top-level "relationships" key',
        ),
        (
            lambda t: t.replace('"type": "one-to-many"', '"type": "some"', 1),
            "data model is invalid",
        ),
    ],
)
def test_parse_names_what_is_missing_or_broken(mangle: Callable[[str], str], message: str) -> None:
    text = mangle(seed_text())
    assert text != seed_text()
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_markdown(text)


def test_parse_of_a_document_without_json_blocks_fails() -> None:
    with pytest.raises(ValueError, match="Raw Entity Schema"):
        parse_markdown("# Data Model\n\n## Entities\n\n### User\n")


def test_rendered_json_blocks_are_plain_json() -> None:
    rendered = render_markdown(seed_model())
    blocks = rendered.split("```json\n")[1:]
    parsed = [json.loads(block.split("\n```")[0]) for block in blocks]
    assert [list(p) for p in parsed] == [["entities"], ["relationships"]]
