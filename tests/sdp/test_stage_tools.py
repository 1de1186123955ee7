"""The software design pipeline's stage tools: examples, schemas, prompts and templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from atelier.ai.providers.openai_compat import strict_compatible, strict_schema
from atelier.packs.sdp import stage_tools
from atelier.packs.sdp.api_spec import ApiDesign, path_parameters
from atelier.packs.sdp.crossref import PackageContents, validate_package
from atelier.packs.sdp.datamodel import DataModel, key_holder
from atelier.packs.sdp.sqlgen import IndexSpec, compile_all
from atelier.packs.sdp.stages import STAGES
from atelier.packs.sdp.templates import BUILT_IN_TEMPLATES, TemplateSpec
from atelier.projects.models import TemplateCategory
from tests.sdp.examples import (
    API,
    DATA_MODEL,
    DATABASE_ADDITIONS,
    OUTPUTS,
    PROJECT_DESCRIPTION,
    PROJECT_NAME,
    SECTIONS,
    STACK,
)

AI_STAGES = [spec.name for spec in STAGES if spec.name != "export"]
TOOLS: dict[str, stage_tools.StageTool] = {
    tool.spec.name: tool() for tool in stage_tools.STAGE_TOOLS
}
ALLOWED_TYPES = {
    "uuid",
    "string",
    "text",
    "integer",
    "decimal",
    "boolean",
    "datetime",
    "date",
    "jsonb",
}
USER_INPUT = "Keep the first version small enough for two developers to ship in a month."
MAX_API_PROMPT_TOKENS = 3000  # estimated at four characters a token
MAX_PROMPT_TOKENS = 3500  # any stage's prompt with the example data


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


def context(earlier: dict[str, Any] | None = None) -> dict[str, Any]:
    """What StageTool.context gives a prompt: the project and the earlier stages it uses."""
    return {
        "project_name": PROJECT_NAME,
        "project_description": PROJECT_DESCRIPTION,
        "earlier": earlier or {},
    }


def full_context(name: str) -> dict[str, Any]:
    return context({used: OUTPUTS[used] for used in type(TOOLS[name]).uses})


def render(name: str, ctx: dict[str, Any], user_input: str = USER_INPUT) -> tuple[str, str]:
    system, user = TOOLS[name].render({"user_input": user_input}, ctx)
    assert (system.role, user.role) == ("system", "user")
    return system.content, user.content


def entity_line(entity: dict[str, Any]) -> str:
    fields = ", ".join(f"{f['name']} ({f['type']})" for f in entity["fields"])
    return f"{entity['name']}: {fields}"


def endpoint_keys() -> list[str]:
    return [f"{e['method']} {e['path']}" for e in API["endpoints"]]


# --- the tools -------------------------------------------------------------------------------


def test_every_ai_stage_has_one_tool() -> None:
    assert list(TOOLS) == AI_STAGES == list(OUTPUTS)
    for name, tool in TOOLS.items():
        assert tool.key == f"sdp_{name}" and tool.pack == "sdp", name
        assert tool.prompt_file.is_file(), name
        assert tool.title and tool.description, name
        # A stage builds only on stages before it.
        number = type(tool).spec.number
        for used in type(tool).uses:
            assert AI_STAGES.index(used) + 1 < number, (name, used)


# --- examples --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", AI_STAGES)
def test_example_is_valid(name: str) -> None:
    output = TOOLS[name].output_model.model_validate(OUTPUTS[name])
    assert output.model_dump(mode="json", by_alias=True) == OUTPUTS[name]


def test_data_model_example_keeps_the_conventions() -> None:
    """The example is what the prompt asks for, so it may serve as a model answer."""
    model = DataModel.model_validate(DATA_MODEL)
    assert len(model.entities) >= 4 and len(model.relationships) >= 3
    names = {e.name for e in model.entities}
    for entity in model.entities:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", entity.name), entity.name
        first, *_, before_last, last = entity.fields
        assert (first.name, first.type, first.required) == ("id", "uuid", True)
        assert first.description == "Primary key"
        assert (before_last.name, last.name) == ("createdAt", "updatedAt")
        for field in entity.fields:
            assert re.fullmatch(r"[a-z][A-Za-z0-9]*", field.name), field.name
            assert field.type in ALLOWED_TYPES or re.fullmatch(
                r"enum\([a-z_]+(,[a-z_]+)+\)", field.type
            ), field.type
            if field.name.endswith("Id"):
                assert field.type == "uuid"
                assert re.fullmatch(r"FK to [A-Z]\w*", field.description), field.description
                assert field.description[6:] in names
    for rel in model.relationships:
        holder = key_holder(rel)
        assert holder is not None
        keeper = model.entity(holder[0])
        assert keeper is not None
        key = next(f for f in keeper.fields if f.name == rel.foreign_key)
        assert key.description == f"FK to {holder[1]}", rel


def test_examples_make_a_consistent_package() -> None:
    model = DataModel.model_validate(DATA_MODEL)
    api = ApiDesign.model_validate(API)
    indexes = [
        IndexSpec(
            table=index["entity"],
            columns=tuple(index["fields"]),
            unique=index["unique"],
            reason=index["reason"],
        )
        for index in DATABASE_ADDITIONS["indexes"]
    ]
    sql = compile_all(model, indexes)
    for script in sql.values():
        assert "skipped" not in script
    contents = PackageContents(
        data_model=model,
        sql={f"03-database/schema.{dialect}.sql": script for dialect, script in sql.items()},
        api=api,
        sections=SECTIONS["sections"],
        missing_stages=[],
    )
    report = validate_package(contents)
    assert report.messages == []


def test_examples_reference_each_other() -> None:
    entities = {e["name"]: {f["name"] for f in e["fields"]} for e in DATA_MODEL["entities"]}
    for index in DATABASE_ADDITIONS["indexes"]:
        assert set(index["fields"]) <= entities[index["entity"]], index

    assert len(API["endpoints"]) >= 8
    keys = endpoint_keys()
    assert len(keys) == len(set(keys))
    for endpoint in API["endpoints"]:
        if endpoint["entity"]:
            fields = entities[endpoint["entity"]]
            assert set(endpoint["request_fields"]) <= fields, endpoint
            assert set(endpoint["response_fields"]) <= fields, endpoint
        for param in path_parameters(endpoint["path"]):
            # {projectId} names the Project it identifies.
            assert param.endswith("Id") and param[0].upper() + param[1:-2] in entities, param

    used = [ref for section in SECTIONS["sections"] for ref in section["endpoints"]]
    assert set(used) <= set(keys)  # exactly "METHOD /path", without the base path
    assert set(used) == set(keys)  # and every endpoint has a caller
    assert not any(API["base_path"] in ref for ref in used)

    layers = {choice["layer"] for choice in STACK["choices"]}
    assert {"frontend", "backend", "database"} <= layers


# --- output schemas --------------------------------------------------------------------------


@pytest.mark.parametrize("name", AI_STAGES)
def test_output_schema_is_strict_compatible(name: str) -> None:
    """No free-form maps, every object closed, every string and list bounded: what OpenAI's
    strict mode and a small model under a grammar both need."""
    schema = TOOLS[name].output_schema()
    assert strict_compatible(schema)
    for node in nodes(schema):
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, node.get("title")
        elif node.get("type") == "string" and "enum" not in node:
            assert node.get("maxLength") or node.get("pattern"), node
        elif node.get("type") == "array":
            assert node.get("maxItems"), node
    strict = strict_schema(schema)
    for node in nodes(strict):
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert set(node["required"]) == set(node["properties"]), node.get("title")


@pytest.mark.parametrize("name", AI_STAGES)
def test_output_schema_becomes_an_exact_grammar(name: str) -> None:
    pytest.importorskip(
        "llama_cpp", reason="the grammar converter is llama-cpp-python's (make test installs it)"
    )
    from atelier.ai.providers.local import _grammar, grammar_schema

    _, exact = _grammar(json.dumps(grammar_schema(TOOLS[name].output_schema())))
    assert exact, "the local provider would fall back to generic JSON"


# --- prompts ---------------------------------------------------------------------------------


def mentioned(name: str) -> list[str]:
    """What the user message must say when the earlier stages are the examples."""
    product = OUTPUTS["product"]
    features = [f["name"] for f in product["features"] if f["priority"] != "could"]
    entity_lines = [entity_line(e) for e in DATA_MODEL["entities"]]
    relationships = [
        f"{r['from']} {r['type']} {r['to']} via {r['foreignKey']}"
        for r in DATA_MODEL["relationships"]
    ]
    return {
        "product": [PROJECT_NAME, PROJECT_DESCRIPTION],
        "dataModel": [product["tagline"], *features, "FK to <Entity>", "Primary key"],
        "database": [*entity_lines, *relationships],
        "api": [*entity_lines, *relationships, *features, "{projectId}"],
        "stack": [product["tagline"], *(p["name"] for p in product["personas"]), *features],
        "design": [*(p["needs"] for p in product["personas"]), *features],
        "sections": [*endpoint_keys(), *(f["name"] for f in product["features"])],
        "infrastructure": [f"{c['layer']}: {c['choice']}" for c in STACK["choices"]],
    }[name]


def assert_clean(user: str) -> None:
    for leftover in ("None", "{{", "{%", "Undefined", "\n\n\n"):
        assert leftover not in user, leftover
    # Earlier stages are summarised, never dumped as JSON.
    assert '{"' not in user and '"entities"' not in user


@pytest.mark.parametrize("name", AI_STAGES)
def test_prompt_renders_with_the_earlier_stages(name: str) -> None:
    system, user = render(name, full_context(name))
    assert system.endswith(TOOLS[name].output_schema_text())
    assert "Answer with one JSON object that matches this JSON schema, and nothing else:" in system
    assert USER_INPUT in user and USER_INPUT not in system
    assert PROJECT_NAME in user
    for text in mentioned(name):
        assert text in user, text
    assert_clean(user)


@pytest.mark.parametrize("name", AI_STAGES)
def test_prompt_renders_without_earlier_stages(name: str) -> None:
    _, user = render(name, context())
    assert USER_INPUT in user and PROJECT_NAME in user
    assert_clean(user)
    missing = {
        "database": "There is no data model yet",
        "api": "There is no data model yet",
        "sections": "There is no API design yet",
        "infrastructure": "There is no tech stack yet",
    }
    if name in missing:
        assert missing[name] in user


@pytest.mark.parametrize("name", AI_STAGES)
def test_prompt_renders_with_nothing_at_all(name: str) -> None:
    _, user = render(name, {}, user_input="")
    assert user.strip()
    assert_clean(user)
    assert "What the team wants" not in user


def test_sections_prompt_lists_endpoints_without_the_base_path() -> None:
    _, user = render("sections", full_context("sections"))
    for key in endpoint_keys():
        assert f"- {key}:" in user, key
    assert API["base_path"] not in user


def test_api_prompt_lists_only_data_model_entities() -> None:
    _, user = render("api", full_context("api"))
    listed = re.findall(r"^- ([A-Z]\w*): id \(uuid\)", user, re.MULTILINE)
    assert listed == [e["name"] for e in DATA_MODEL["entities"]]


def tokens(messages: tuple[str, str]) -> int:
    return sum(len(text) for text in messages) // 4


def test_api_prompt_fits_a_small_context() -> None:
    assert tokens(render("api", full_context("api"))) < MAX_API_PROMPT_TOKENS


@pytest.mark.parametrize("name", AI_STAGES)
def test_every_prompt_fits_a_small_context(name: str) -> None:
    # 8192 tokens hold the prompt and the whole answer.
    assert tokens(render(name, full_context(name))) < MAX_PROMPT_TOKENS


# --- templates -------------------------------------------------------------------------------


def test_templates_are_distinct() -> None:
    assert len(BUILT_IN_TEMPLATES) == 6
    keys = [t.key for t in BUILT_IN_TEMPLATES]
    assert len(set(keys)) == len(keys)
    assert len({t.name for t in BUILT_IN_TEMPLATES}) == len(keys)
    assert {t.category for t in BUILT_IN_TEMPLATES} == {
        "saas",
        "api",
        "landing",
        "mobile",
        "cli",
        "fullstack",
    }
    assert "saas-dashboard" in keys and "rest-api" in keys


@pytest.mark.parametrize("template", BUILT_IN_TEMPLATES, ids=lambda t: t.key)
def test_template_fills_every_ai_stage(template: TemplateSpec) -> None:
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", template.key)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", template.icon)
    assert TemplateCategory(template.category).value == template.category
    assert template.name.strip() and len(template.description) >= 40
    assert list(template.stage_defaults) == AI_STAGES  # stage order, and no export
    for name, defaults in template.stage_defaults.items():
        assert set(defaults) == {"userInput"}, name
        text = defaults["userInput"]
        assert 80 <= len(text) <= 1500, (name, len(text))
        assert text == text.strip() and "  " not in text, name
        sentences = len(re.findall(r"[.!?](\s|$)", text))
        assert 2 <= sentences <= 6, (name, sentences)
        stage_tools.StageInput.model_validate({"user_input": text})


@pytest.mark.parametrize("template", BUILT_IN_TEMPLATES, ids=lambda t: t.key)
def test_template_guidance_reaches_the_prompt(template: TemplateSpec) -> None:
    for name, defaults in template.stage_defaults.items():
        _, user = render(name, context(), user_input=defaults["userInput"])
        assert defaults["userInput"] in user
