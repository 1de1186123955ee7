"""The strategy pack: every tool's examples, schemas, prompt and generation round trip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import Response

from atelier.ai.providers.fake import FakeProvider
from atelier.ai.providers.openai_compat import strict_compatible, strict_schema
from atelier.ai.tools import Tool, load_tools
from atelier.core.packs import packs
from atelier.exports import ExportArtifact, artifact_markdown
from atelier.packs import strategy
from atelier.packs.strategy.customer_journey import CustomerJourneyTool
from tests.conftest import run_jobs
from tests.factories import Account, Api, error_code
from tests.packs.strategy_examples import INPUTS, MENTIONED, OUTPUTS

PHASES = {"discover", "define", "develop", "deliver"}
KEYS = sorted(INPUTS)
MAX_STRING = 1000
MAX_ITEMS = 12


def strategy_tools() -> dict[str, Tool]:
    return {tool.key: tool for tool in strategy.tools()}


TOOLS = strategy_tools()


def fields(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [e["field"] for e in response.json()["detail"]]


def nodes(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema node, ``$defs`` included."""
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key not in ("enum", "const", "required", "examples"):
                yield from nodes(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from nodes(item)


def required_only(key: str) -> dict[str, Any]:
    """The example input cut down to its required fields."""
    required = TOOLS[key].input_model.model_json_schema()["required"]
    return {name: INPUTS[key][name] for name in required}


# --- the pack ------------------------------------------------------------------------------


def test_the_pack_covers_every_phase() -> None:
    assert set(TOOLS) == set(INPUTS) == set(OUTPUTS) == set(MENTIONED)
    assert {tool.phase for tool in TOOLS.values()} == PHASES
    for key, tool in TOOLS.items():
        assert tool.pack == "strategy" and tool.phase in PHASES, key
        assert tool.prompt_name() == f"{key}@1", key
        assert tool.title and tool.description, key
        assert tool.prompt_file.is_file(), key


def test_the_pack_is_built_in() -> None:
    """Registered through its entry point, like any pack, with its tools."""
    assert packs.get("strategy") is strategy.PACK
    registry = load_tools()
    assert set(TOOLS) <= {tool.key for tool in registry.all()}
    assert registry.get("brief") is not None


# --- examples and schemas ------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_examples_are_valid(key: str) -> None:
    tool = TOOLS[key]
    tool.input_model.model_validate(INPUTS[key])
    output = tool.output_model.model_validate(OUTPUTS[key])
    assert output.model_dump(mode="json") == OUTPUTS[key]


@pytest.mark.parametrize("key", KEYS)
def test_output_schema_is_strict(key: str) -> None:
    """All properties required, no extras, nothing nullable, every length bounded: what
    OpenAI's strict mode and a small model under a grammar both need."""
    schema = TOOLS[key].output_schema()
    objects = 0
    for node in nodes(schema):
        assert not {"anyOf", "oneOf", "allOf", "default"} & set(node), node
        if node.get("type") == "object":
            objects += 1
            assert node["additionalProperties"] is False, node
            assert node["properties"] and node["required"] == list(node["properties"]), node
            for name, prop in node["properties"].items():
                assert prop.get("description"), (node["title"], name)
        elif node.get("type") == "string" and "enum" not in node:
            assert 1 <= node["minLength"] <= node["maxLength"] <= MAX_STRING, node
        elif node.get("type") == "array":
            assert 1 <= node["minItems"] <= node["maxItems"] <= MAX_ITEMS, node
    assert objects == 1 + len(schema.get("$defs", {}))
    assert strict_compatible(schema)
    # Strict conversion has nothing to make nullable.
    assert not any("anyOf" in node for node in nodes(strict_schema(schema)))


@pytest.mark.parametrize("key", KEYS)
def test_output_schema_becomes_an_exact_grammar(key: str) -> None:
    pytest.importorskip(
        "llama_cpp", reason="the grammar converter is llama-cpp-python's (make test installs it)"
    )
    from atelier.ai.providers.local import _grammar, grammar_schema

    _, exact = _grammar(json.dumps(grammar_schema(TOOLS[key].output_schema())))
    assert exact, "the local provider would fall back to generic JSON"


@pytest.mark.parametrize("key", KEYS)
def test_input_schema_suits_a_form(key: str) -> None:
    schema = TOOLS[key].input_model.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"], "a user must say something"
    assert "$defs" not in schema  # flat forms
    assert strict_compatible(schema)  # smart-populate asks a model for inputs with it
    for name, prop in schema["properties"].items():
        assert prop.get("description"), name
        for node in nodes(prop):
            if node.get("type") == "string":
                assert node["minLength"] == 1 and node["maxLength"] <= 4000, name
            elif node.get("type") == "array":
                assert node["maxItems"] <= MAX_ITEMS, name


# --- prompts -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_prompt_renders_with_the_example(key: str) -> None:
    tool = TOOLS[key]
    system, user = tool.render(INPUTS[key], {})
    assert (system.role, user.role) == ("system", "user")
    assert tool.output_schema_text() in system.content
    assert json.loads(tool.output_schema_text()) == tool.output_schema()
    assert MENTIONED[key] in user.content
    assert MENTIONED[key] not in system.content


@pytest.mark.parametrize("key", KEYS)
def test_prompt_renders_with_required_fields_only(key: str) -> None:
    inputs = required_only(key)
    _, user = TOOLS[key].render(inputs, {})
    first = next(iter(inputs.values()))
    assert (first[0] if isinstance(first, list) else first) in user.content
    for leftover in ("None", "[]", "{{", "{%"):
        assert leftover not in user.content, leftover
    assert "\n\n\n" not in user.content


# --- through the API -----------------------------------------------------------------------


async def ready(api: Api) -> tuple[Account, dict[str, Any]]:
    who = await api.signup()
    await api.provider(who)
    return who, await api.project(who, phase="define")


@pytest.mark.anyio
async def test_tools_listing(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.get("/api/v1/tools", params={"pack": "strategy"}, headers=ann.headers)
    assert r.status_code == 200, r.text
    listed = {t["key"]: t for t in r.json()["items"]}
    assert set(listed) == set(TOOLS)
    for key, item in listed.items():
        assert item["pack"] == "strategy" and item["phase"] == TOOLS[key].phase, key
        assert item["prompt_template"] == f"{key}@1"
        assert item["output_schema"] == TOOLS[key].output_schema()
        assert set(item["output_schema"]["required"]) == set(OUTPUTS[key])
        assert set(INPUTS[key]) <= set(item["input_schema"]["properties"])


@pytest.mark.anyio
@pytest.mark.parametrize("key", KEYS)
async def test_generation_round_trip(api: Api, app: Any, fake_ai: FakeProvider, key: str) -> None:
    ann, project = await ready(api)
    fake_ai.push(OUTPUTS[key])
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": key, "name": f"ShedShare {key}", "input_data": INPUTS[key], "generate": True},
        headers=ann.headers,
    )
    assert r.status_code == 201, r.text
    art = r.json()
    assert art["job"]["status"] == "queued"
    await run_jobs(app, art["job"]["id"])

    r = await api.client.get(f"/api/v1/jobs/{art['job']['id']}", headers=ann.headers)
    assert r.json()["status"] == "succeeded", r.json()
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["output_data"] == OUTPUTS[key]
    assert r.json()["input_data"] == TOOLS[key].input_model.model_validate(INPUTS[key]).model_dump(
        mode="json"
    )
    assert r.json()["active_version"] == 1
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}/versions", headers=ann.headers)
    (version,) = r.json()["items"]
    assert (version["version"], version["generated_by"]) == (1, "ai")

    (request,) = fake_ai.requests
    assert request.json_schema == TOOLS[key].output_schema()
    assert MENTIONED[key] in "\n".join(m.content for m in request.messages)


def bad_inputs(key: str) -> list[tuple[dict[str, Any], str]]:
    """Inputs the tool must refuse, each with the one field the error must name."""
    good = INPUTS[key]
    first, *_ = TOOLS[key].input_model.model_json_schema()["required"]
    listed = next(name for name, value in good.items() if isinstance(value, list))
    text = next(name for name, value in good.items() if isinstance(value, str))
    missing = {name: value for name, value in good.items() if name != first}
    return [
        (missing, first),
        ({**good, text: 42}, text),
        ({**good, text: "   "}, text),
        ({**good, listed: "not a list"}, listed),
        ({**good, listed: ["x"] * (MAX_ITEMS + 1)}, listed),
        ({**good, "colour": "red"}, "colour"),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("key", KEYS)
async def test_bad_inputs_are_refused(api: Api, fake_ai: FakeProvider, key: str) -> None:
    ann, project = await ready(api)
    url = f"/api/v1/projects/{project['id']}/artifacts"
    for bad, field in bad_inputs(key):
        body = {"type": key, "name": "Bad", "input_data": bad, "generate": True}
        r = await api.client.post(url, json=body, headers=ann.headers)
        assert fields(r) == [f"body.input_data.{field}"], (bad, r.json())
    r = await api.client.get(url, headers=ann.headers)
    assert r.json()["items"] == []
    r = await api.client.get("/api/v1/jobs", headers=ann.headers)
    assert r.json()["items"] == [] and fake_ai.requests == []

    # An existing artifact's inputs are held to the same model.
    body = {"type": key, "name": "Good", "input_data": INPUTS[key]}
    art = (await api.client.post(url, json=body, headers=ann.headers)).json()
    r = await api.client.patch(
        f"/api/v1/artifacts/{art['id']}",
        json={"input_data": {**INPUTS[key], "colour": "red"}},
        headers=ann.headers,
    )
    assert fields(r) == ["body.input_data.colour"]


# --- Markdown ----------------------------------------------------------------------------


def cells(row: str) -> list[str]:
    parts = row.replace("\\|", "\0").strip().strip("|").split("|")
    return [part.strip().replace("\0", "\\|") for part in parts]


def table_rows(markdown: str) -> list[list[str]]:
    return [cells(line) for line in markdown.splitlines() if line.startswith("|")]


def journey(stages: int | None = None) -> dict[str, Any]:
    """The example journey (a deep copy), with its stages repeated to ``stages`` if given."""
    data: dict[str, Any] = json.loads(json.dumps(OUTPUTS["customer_journey"]))
    if stages is not None:
        data["stages"] = [
            {**data["stages"][i % len(data["stages"])], "stage": f"Stage {i + 1}"}
            for i in range(stages)
        ]
    return data


LABELS = ["Actions", "Touchpoints", "Emotions", "Pain points", "Opportunities"]


def test_customer_journey_renders_stages_as_columns() -> None:
    data = journey()
    data["stages"][0]["customer_actions"].append("Compares | prices\nonline <b>now</b>")
    markdown = CustomerJourneyTool().render_markdown(data)
    assert markdown is not None
    rows = table_rows(markdown)
    stages = data["stages"]
    assert len(rows) == 2 + len(LABELS)  # header, separator, one row per aspect
    assert all(len(row) == len(stages) + 1 for row in rows), rows
    assert rows[0][1:] == [f"**{s['stage']}**" for s in stages]
    assert [row[0] for row in rows[2:]] == [f"**{label}**" for label in LABELS]
    assert rows[2][1] == (
        "Unpacks shelves<br>Finds she has no drill<br>Compares \\| prices online \\<b\\>now\\</b\\>"
    )
    assert rows[4][3].endswith("<br>*very negative*")  # the third stage's mood
    assert "\n# Stages\n" in markdown and "\n# Key insights\n" in markdown
    assert f"- {data['key_insights'][0]}" in markdown


def test_a_long_customer_journey_turns_to_one_row_per_stage() -> None:
    markdown = CustomerJourneyTool().render_markdown(journey(stages=8))
    assert markdown is not None
    rows = table_rows(markdown)
    assert rows[0] == ["**Stage**", *(f"**{label}**" for label in LABELS)]
    assert [row[0] for row in rows[2:]] == [f"**Stage {i}**" for i in range(1, 9)]
    assert all(len(row) == 1 + len(LABELS) for row in rows)


def test_customer_journey_leaves_invalid_output_to_the_generic_renderer() -> None:
    tool = CustomerJourneyTool()
    assert tool.render_markdown({"persona": "Priya"}) is None
    assert tool.render_markdown({**journey(), "stages": []}) is None


@pytest.mark.parametrize("key", KEYS)
def test_every_tool_exports_to_markdown(key: str) -> None:
    tool = TOOLS[key]
    artifact = ExportArtifact(
        id="a1",
        name=tool.title,
        tool_key=key,
        tool_title=tool.title,
        phase=tool.phase,
        status="draft",
        version=1,
        generated_by="ai",
        updated_at=datetime(2025, 5, 1, tzinfo=UTC),
        input_data=INPUTS[key],
        output_data=OUTPUTS[key],
        tool=tool,
    )
    markdown = artifact_markdown(artifact)
    assert markdown.startswith(f"# {tool.title}\n")
    assert "ShedShare" in markdown
    if key == "customer_journey":
        assert "\n## Stages\n" in markdown and "<br>" in markdown
