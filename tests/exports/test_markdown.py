"""Markdown exports: generic, schema-driven rendering of any tool's artifacts."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from markdown_it import MarkdownIt

from atelier.ai.tools import Tool
from atelier.exports import ExportArtifact, artifact_markdown, project_markdown
from atelier.exports.markdown import Slugger, escape_inline, humanize, resolve
from atelier.exports.pdf import markdown_to_html
from atelier.packs.general.brief import BriefTool
from tests.exports.samples import (
    WHEN,
    JourneyTool,
    brief_artifact,
    journey_artifact,
    project,
)


def html_of(md: str) -> str:
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(md)


def table_rows(md: str, header_start: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with ``header_start``."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        # Split on pipes that are not escaped.
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


# --- the brief tool ----------------------------------------------------------------------------


def test_brief_output_scalars_lists_and_inputs() -> None:
    md = artifact_markdown(brief_artifact(1))
    assert md.startswith("# Brief 1\n")
    assert "*Brief · phase define · status complete · version 2 (ai) · updated 2025-03-14" in md
    # Short scalars on one line, long ones as a paragraph under their label.
    assert "**Title:** Tide tables for skippers 1" in md
    assert "**Summary**\n\nA pocket app that tells coastal skippers" in md
    # Schema titles as labels, lists of strings as bullets, "|" escaped.
    assert "**Goals**\n\n- 1,000 weekly users by summer\n- Rating of 4.5 or more" in md
    assert "- Tide data licences \\| cost" in md
    assert "**Next Steps**" in md
    # Inputs after the output, a heading lower; None fields left out; descriptions kept.
    output_end = md.index("## Inputs")
    assert md.index("**Goals**") < output_end
    inputs = md[output_end:]
    assert "**Name:** Tide 1" in inputs
    assert "**Constraints** — *budget, time, rules, technology*\n\n- Offline first" in inputs
    assert "Audience" not in inputs and "None" not in inputs
    # Never a JSON dump.
    assert "{" not in md and '"' not in md


def test_level_shifts_every_heading() -> None:
    md = artifact_markdown(journey_artifact(1), level=3)
    assert md.startswith("### Journey 1\n")
    assert "\n#### Persona\n" in md
    assert "\n##### Context\n" in md
    assert "\n#### Inputs\n" in md
    assert "\n# " not in md and "\n## " not in md


# --- a nested tool -----------------------------------------------------------------------------


def test_nested_objects_become_sections_after_the_plain_fields() -> None:
    md = artifact_markdown(journey_artifact(1))
    # $ref resolved into $defs: the persona's fields, the nested context under it.
    assert "\n## Persona\n\n*the person whose journey this is*\n" in md
    assert "**Role:** Weekend skipper \\| club member" in md
    assert "\n### Context\n\n**Location:** On deck, coastal waters" in md
    # Plain fields come before the first section so none reads as part of a section.
    first_section = md.index("## Persona")
    for label in ("**Confidence:** 0.7", "**Validated:** No", "**Open Questions**"):
        assert md.index(label) < first_section
    # Sections keep schema order.
    assert md.index("## Persona") < md.index("## Journey stages") < md.index("## Metrics")


def test_list_of_flat_objects_is_a_table() -> None:
    md = artifact_markdown(journey_artifact(1, stages=3))
    rows = table_rows(md, "| Step |")
    # Columns from the item schema, in schema order, with their titles; numbers right-aligned.
    assert rows[0] == ["Step", "Channel", "Emotion", "Pain Points", "Score"]
    assert rows[1] == ["---", "---", "---", "---", "---:"]
    assert len(rows) == 2 + 3
    # "|" escaped, newlines folded, nested lists joined with "; ".
    assert rows[2][0] == "Step 1: Search \\| compare harbours"
    assert rows[2][1] == "VHF radio then phone"
    assert rows[2][3] == "Pain 0a: no prices shown; Pain 0b: slow page"
    # The rendered table really has those cells (the escaped pipe does not split one).
    html = html_of(md)
    assert "<td>Step 1: Search | compare harbours</td>" in html
    assert "<th>Pain Points</th>" in html


def test_table_titles_optional_columns_and_descriptions() -> None:
    md = artifact_markdown(journey_artifact(1))
    assert "\n### Targets\n\n*what success looks like, measured*\n\n| Metric |" in md
    rows = table_rows(md, "| Metric |")
    assert rows[0] == ["Metric", "Baseline", "Target", "Unit"]
    assert rows[2] == ["Online share", "12", "45", "%"]
    # A missing optional value is an empty cell, not "None".
    assert rows[4] == ["Repeat bookings", "", "30", "%"]
    # Field(title=...) wins over the key, in a table nested two levels down.
    assert table_rows(md, "| Kind |")[0] == ["Kind", "Share (%)"]
    assert "**North-star metric:** Berths booked online per week" in md


def test_deeper_nesting_becomes_nested_lists() -> None:
    deep = {
        "level_one": {
            "level_two": {
                "level_three": {"depth": 3, "tags": ["a", "b"], "more": [{"x": 1, "y": [{"z": 2}]}]}
            }
        }
    }
    artifact = brief_artifact(1, tool=None, output_data=deep, input_data={})
    md = artifact_markdown(artifact)
    assert "\n## Level one\n" in md
    assert "\n### Level two\n" in md
    # Past two section levels: a labelled nested list.
    assert "**Level three**\n\n- **Depth:** 3\n- **Tags:** a; b\n- **More**\n  - **More 1**" in md
    assert "    - **X:** 1\n    - **Y**\n      - **Y 1**\n        - **Z:** 2" in md
    html = html_of(md)
    assert html.count("<ul>") >= 4
    assert "{" not in md


def test_rich_items_get_a_heading_each_named_after_them() -> None:
    output = {
        "personas": [
            {
                "name": "Marta",
                "role": "Skipper",
                "habits": [{"when": "dawn", "what": "check tides"}],
            },
            {"role": "Harbour master", "habits": [{"when": "noon", "what": "answer VHF"}]},
        ]
    }
    md = artifact_markdown(brief_artifact(1, tool=None, output_data=output, input_data={}))
    assert "\n## Personas\n\n### Marta\n\n**Role:** Skipper" in md
    assert "\n### Personas 2\n\n**Role:** Harbour master" in md
    assert "| When | What |" in md


def test_wide_lists_of_objects_are_not_squeezed_into_a_table() -> None:
    rows = [{f"column_{c}": c for c in range(9)} for _ in range(2)]
    md = artifact_markdown(brief_artifact(1, tool=None, output_data={"rows": rows}, input_data={}))
    assert "| Column 0 |" not in md
    assert "### Rows 1" in md and "**Column 8:** 8" in md


def test_without_a_schema_values_are_rendered_from_their_shape() -> None:
    output = {"bigPicture": "Calm seas", "scores": [{"item": "a", "value": 1.0}], "ok": True}
    md = artifact_markdown(brief_artifact(1, tool=None, output_data=output, input_data={}))
    assert "**Big picture:** Calm seas" in md
    assert "**Ok:** Yes" in md
    assert table_rows(md, "| Item |")[2] == ["a", "1"]


def test_odd_stored_data_still_renders() -> None:
    # Not an object, a list of empty objects, nested empty values: no crash, nothing bogus.
    md = artifact_markdown(brief_artifact(1, tool=None, output_data=["a", "b"], input_data={}))
    assert "**Output**\n\n- a\n- b" in md
    odd = {"rows": [{"a": None}, {"a": ""}], "blank": {"x": []}, "n": 0}
    md = artifact_markdown(brief_artifact(1, tool=None, output_data=odd, input_data={}))
    assert "| |" not in md and "Rows" not in md and "Blank" not in md
    assert "**N:** 0" in md


def test_stored_schema_wins_over_the_tools() -> None:
    schema = {"type": "object", "properties": {"title": {"title": "Headline", "type": "string"}}}
    md = artifact_markdown(brief_artifact(1, output_schema=schema))
    assert "**Headline:** Tide tables for skippers 1" in md
    # Fields the schema does not know are still shown, after the known ones.
    assert md.index("**Headline:**") < md.index("**Summary**")


def test_unknown_keys_follow_the_schema_order() -> None:
    output = {"extra_field": "later", **journey_artifact(1).output_data}  # type: ignore[dict-item]
    md = artifact_markdown(journey_artifact(1, output_data=output))
    assert md.index("**Title:**") < md.index("**Extra field:** later")


def test_missing_and_empty_output_say_so() -> None:
    for output in (None, {}):
        md = artifact_markdown(brief_artifact(1, output_data=output, status="draft", version=None))
        assert "*No output yet: this artifact has not been generated.*" in md
        assert "**Title:**" not in md
        assert "## Inputs" in md  # what it would be made from is still useful
        assert "version" not in md.split("\n\n")[1]


def test_user_text_is_escaped_not_interpreted() -> None:
    output = {
        "title": "# not a heading",
        "summary": "- not a list\n1. not numbered\n<b>not bold</b> *not emphasis* [no](link) &amp;",
        "problem": "===",
        "audience": "x",
        "value_proposition": "y",
        "goals": ["`code`", "2) two"],
        "risks": ["a | b"],
        "next_steps": ["c"],
    }
    md = artifact_markdown(brief_artifact(1, output_data=output))
    html = html_of(md)
    assert re.findall(r"<h\d>(.*?)</h\d>", html) == ["Brief 1", "Inputs"]
    assert "# not a heading" in html
    assert "- not a list<br />\n1. not numbered" in html
    assert "&lt;b&gt;not bold&lt;/b&gt; *not emphasis* [no](link) &amp;amp;" in html
    assert "<li>`code`</li>" in html and "<li>2) two</li>" in html
    assert "<ol" not in html and "<em>not" not in html and "<code>" not in html


def test_tool_override_replaces_the_output_part_only() -> None:
    class CustomBrief(BriefTool):
        def render_markdown(self, output: dict[str, Any]) -> str | None:
            return f"# Verdict\n\nShip **{output['title']}**.\n\n```\n# not a heading\n```"

    md = artifact_markdown(brief_artifact(1, tool=CustomBrief()), level=2)
    # The tool's headings sit under the artifact's; fenced code is left alone.
    assert "\n### Verdict\n\nShip **Tide tables for skippers 1**." in md
    assert "```\n# not a heading\n```" in md
    assert "**Goals**" not in md
    assert "### Inputs" in md


def test_tool_base_class_has_no_markdown_of_its_own() -> None:
    assert Tool.render_markdown(BriefTool(), {"title": "x"}) is None
    assert JourneyTool().render_markdown({}) is None


# --- projects ----------------------------------------------------------------------------------


def test_project_groups_by_double_diamond_phase_then_others() -> None:
    artifacts = [
        brief_artifact(1, phase="deliver"),
        brief_artifact(2, phase=None),
        brief_artifact(3, phase="research"),
        journey_artifact(4, phase="discover"),
        brief_artifact(5, phase="Define"),
        brief_artifact(6, phase="develop"),
        journey_artifact(7, phase="discover"),
    ]
    md = project_markdown(project(artifacts))
    headings = re.findall(r"^(#{1,2}) (.+)$", md, flags=re.M)
    assert headings == [
        ("#", "Harbour Tide"),
        ("##", "Contents"),
        ("#", "Discover"),
        ("##", "Journey 4"),
        ("##", "Journey 7"),  # the caller's order within a phase
        ("#", "Define"),
        ("##", "Brief 5"),
        ("#", "Develop"),
        ("##", "Brief 6"),
        ("#", "Deliver"),
        ("##", "Brief 1"),
        ("#", "Research"),
        ("##", "Brief 3"),
        ("#", "Other"),
        ("##", "Brief 2"),
    ]


def test_project_header_and_contents() -> None:
    md = project_markdown(project([journey_artifact(1), brief_artifact(2)]))
    assert md.startswith("# Harbour Tide\n\nTools for coastal skippers")
    assert (
        "*pack general · phase define · owner Ann Example · 2 artifacts · "
        "exported 2025-03-14 09:30 UTC*"
    ) in md
    contents = md[md.index("## Contents") : md.index("\n# Discover")]
    assert contents.strip().splitlines()[2:] == [
        "- [Discover](#discover)",
        "  - [Journey 1](#journey-1)",
        "- [Define](#define)",
        "  - [Brief 2](#brief-2)",
    ]


def test_contents_links_match_the_heading_anchors() -> None:
    # Repeated and awkward names: anchors are deduplicated the way GitHub does it.
    artifacts = [
        brief_artifact(1, name="Goals"),
        brief_artifact(2, name="Goals"),
        brief_artifact(3, name="Contents"),
        journey_artifact(4, name="Étude: «sea» & sky!"),
    ]
    md = project_markdown(project(artifacts))
    links = re.findall(r"\]\(#([^)]+)\)", md)
    assert "goals" in links and "goals-1" in links and "contents-1" in links
    assert "étude-sea--sky" in links
    # The PDF's HTML gives headings the same anchors.
    html = markdown_to_html(md, title="Harbour Tide", subtitle="", footer_left="")
    ids = set(re.findall(r' id="([^"]+)"', html))
    assert set(links) <= ids


def test_slugger_and_helpers() -> None:
    slugger = Slugger()
    assert [slugger.slug(t) for t in ("A b", "A  b", "a-b", "?!", "")] == [
        "a-b",
        "a-b-1",
        "a-b-2",
        "section",
        "section-1",
    ]
    assert humanize("next_steps") == "Next steps"
    assert humanize("bigPicture") == "Big picture"
    assert humanize("API_key") == "API key"
    assert escape_inline("1. a\n| b") == "1\\. a \\| b"
    root = {"$defs": {"X": {"type": "object", "title": "X", "properties": {}}}}
    optional = {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}], "title": "Mine"}
    assert resolve(optional, root, {"a": 1}) == {
        "type": "object",
        "title": "Mine",
        "properties": {},
    }
    assert resolve({"$ref": "#/$defs/Missing"}, root) == {}


def test_empty_project() -> None:
    md = project_markdown(project([]))
    assert "*This project has no artifacts yet.*" in md
    assert "Contents" not in md
    assert "0 artifacts" in md


def test_project_markdown_is_deterministic() -> None:
    p = project([journey_artifact(1), brief_artifact(2)])
    assert project_markdown(p) == project_markdown(replace(p))


def test_artifact_data_is_not_modified() -> None:
    artifact = journey_artifact(1)
    before = repr(artifact.output_data) + repr(artifact.input_data)
    artifact_markdown(artifact)
    assert repr(artifact.output_data) + repr(artifact.input_data) == before


def test_every_export_artifact_field_is_data() -> None:
    artifact = ExportArtifact(
        id="x",
        name="Bare",
        tool_key="some_tool",
        tool_title="",
        phase=None,
        status="draft",
        version=None,
        generated_by=None,
        updated_at=WHEN,
        input_data={},
        output_data=None,
        output_schema=None,
    )
    md = artifact_markdown(artifact)
    assert md.startswith("# Bare\n\n*Some tool · status draft · updated 2025-03-14 09:30 UTC*")
    assert "Inputs" not in md
