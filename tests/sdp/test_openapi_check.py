"""The fast OpenAPI 3.1 check: one test per rule, and the same verdicts as
openapi-spec-validator (the reference) on valid and broken documents."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from atelier.packs.sdp.openapi_check import MAX_PROBLEMS, openapi_problems
from tests.sdp.test_api_spec import render

Doc = dict[str, Any]

OK = {"200": {"description": "ok"}}


def path_param(name: str) -> Doc:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def a_schema(doc: Doc) -> Doc:
    schemas: Doc = doc["components"]["schemas"]
    return schemas["Project"]


def first_list_operation(doc: Doc) -> Doc:
    operation: Doc = doc["paths"]["/projects"]["get"]
    return operation


def set_path(path: str, item: Doc) -> Callable[[Doc], None]:
    return lambda doc: doc["paths"].__setitem__(path, item)


# Each broken document: how it is broken, and a word the problem's location or text holds.
BROKEN: dict[str, tuple[Callable[[Doc], None], str]] = {
    "missing info": (lambda d: d.pop("info"), "info"),
    "responses not an object": (
        lambda d: first_list_operation(d).__setitem__("responses", "nothing"),
        "paths./projects.get.responses",
    ),
    "unknown field": (lambda d: d.__setitem__("paths2", {}), "paths2"),
    "reference to nowhere": (
        lambda d: a_schema(d).__setitem__("allOf", [{"$ref": "#/components/schemas/Nope"}]),
        "does not resolve",
    ),
    "reference outside": (
        lambda d: a_schema(d).__setitem__("allOf", [{"$ref": "other.yaml#/Thing"}]),
        "outside the document",
    ),
    "operation id twice": (
        lambda d: d["paths"]["/projects"]["post"].__setitem__(
            "operationId", first_list_operation(d)["operationId"]
        ),
        "operationId",
    ),
    "path parameter not declared": (set_path("/x/{y}", {"get": {"responses": OK}}), "'y'"),
    "path parameter not in the path": (
        set_path("/x", {"get": {"parameters": [path_param("y")], "responses": OK}}),
        "'y'",
    ),
    "parameter declared twice": (
        set_path(
            "/x",
            {
                "get": {
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}] * 2,
                    "responses": OK,
                }
            },
        ),
        "twice",
    ),
    "tag name twice": (lambda d: d["tags"].append(dict(d["tags"][0])), "tags"),
    "schema not JSON Schema": (
        lambda d: a_schema(d).__setitem__("type", "strnig"),
        "components.schemas.Project.type",
    ),
    "default of the wrong type": (
        lambda d: a_schema(d)["properties"]["name"].__setitem__("default", 5),
        "default",
    ),
    "allOf requires what nobody defines": (
        lambda d: d["components"]["schemas"].__setitem__(
            "Named",
            {"allOf": [{"$ref": "#/components/schemas/Project"}], "required": ["nickname"]},
        ),
        "nickname",
    ),
}

VALID: dict[str, Callable[[Doc], None]] = {
    "as rendered": lambda d: None,
    "a default that fits": lambda d: a_schema(d)["properties"]["name"].__setitem__("default", "x"),
    "path parameters declared on the path item": set_path(
        "/x/{y}", {"parameters": [path_param("y")], "get": {"responses": OK}}
    ),
    "allOf requires what a part defines": lambda d: d["components"]["schemas"].__setitem__(
        "Named", {"allOf": [{"$ref": "#/components/schemas/Project"}], "required": ["name"]}
    ),
    "a parameter by reference": lambda d: (
        d["components"].__setitem__("parameters", {"Y": path_param("y")}),
        set_path(
            "/x/{y}",
            {"get": {"parameters": [{"$ref": "#/components/parameters/Y"}], "responses": OK}},
        )(d),
    ),
}


def reference_verdict(doc: Doc) -> bool:
    """Whether openapi-spec-validator finds the document valid. It raises instead of
    reporting on some broken documents (an unresolvable reference): that is "invalid" too."""
    try:
        return not list(OpenAPIV31SpecValidator(doc).iter_errors())
    except Exception:
        return False


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_kind_of_broken_document_is_reported(case: str) -> None:
    doc = copy.deepcopy(render())
    breaks, expected = BROKEN[case]
    breaks(doc)
    problems = openapi_problems(doc)
    assert problems, case
    assert any(expected in where or expected in what for where, what in problems), problems
    assert reference_verdict(doc) is False  # the reference agrees it is broken


@pytest.mark.parametrize("case", sorted(VALID))
def test_valid_documents_pass(case: str) -> None:
    doc = copy.deepcopy(render())
    VALID[case](doc)
    assert openapi_problems(doc) == []
    assert reference_verdict(doc) is True


def test_problems_name_their_place() -> None:
    doc = copy.deepcopy(render())
    first_list_operation(doc)["responses"] = "nothing"
    assert ("paths./projects.get.responses", '"nothing" is not of type "object"') in (
        openapi_problems(doc)
    )
    doc = copy.deepcopy(render())
    a_schema(doc)["properties"]["name"]["default"] = 5
    [(where, what)] = openapi_problems(doc)
    assert where == "components.schemas.Project.properties.name.default"
    assert "does not match" in what


def test_a_very_broken_document_gives_a_bounded_list() -> None:
    doc = copy.deepcopy(render())
    for operation in doc["paths"].values():
        for method in list(operation):
            operation[method] = {"responses": 5}
    doc["paths"].update({f"/p{n}": {"get": {"responses": n}} for n in range(80)})
    problems = openapi_problems(doc)
    assert 0 < len(problems) <= MAX_PROBLEMS
    assert len(set(problems)) == len(problems)


@pytest.mark.parametrize("value", [None, [], "openapi", 3])
def test_not_a_document_at_all(value: Any) -> None:
    assert openapi_problems(value)
