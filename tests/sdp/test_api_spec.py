"""The api stage's output model and the OpenAPI 3.1 document rendered from it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from atelier.ai.providers.openai_compat import strict_compatible, strict_schema
from atelier.packs.sdp.api_spec import (
    ApiDesign,
    ApiEndpoint,
    openapi_yaml,
    render_openapi,
    type_schema,
    validate_openapi,
)
from atelier.packs.sdp.datamodel import DataModel

# --- a realistic design: users, their projects, the projects' stages ------------------------


def data_model() -> DataModel:
    def field(name: str, type_: str, required: bool = True, about: str = "") -> dict[str, Any]:
        return {"name": name, "type": type_, "required": required, "description": about}

    return DataModel.model_validate(
        {
            "entities": [
                {
                    "name": "User",
                    "description": "A person with an account.",
                    "fields": [
                        field("id", "uuid"),
                        field("email", "string", about="sign-in address"),
                        field("displayName", "string"),
                        field("createdAt", "datetime"),
                    ],
                },
                {
                    "name": "Project",
                    "description": "A piece of work a user owns.",
                    "fields": [
                        field("id", "uuid"),
                        field("ownerId", "uuid", about="FK to User"),
                        field("name", "string"),
                        field("description", "text", required=False),
                        field("status", "enum(draft,active,archived)"),
                        field("budget", "decimal(10,2)", required=False),
                        field("settings", "jsonb", required=False),
                        field("createdAt", "datetime"),
                    ],
                },
                {
                    "name": "Stage",
                    "description": "One step of a project.",
                    "fields": [
                        field("id", "uuid"),
                        field("projectId", "uuid", about="FK to Project"),
                        field("number", "integer"),
                        field("name", "string"),
                        field("done", "boolean"),
                        field("dueDate", "date", required=False),
                    ],
                },
                {
                    "name": "Tag",
                    "description": "A label for projects.",
                    "fields": [field("id", "uuid"), field("label", "string")],
                },
            ],
            "relationships": [
                {
                    "from": "User",
                    "to": "Project",
                    "type": "one-to-many",
                    "foreignKey": "ownerId",
                    "description": "a user owns projects",
                },
                {
                    "from": "Project",
                    "to": "Stage",
                    "type": "one-to-many",
                    "foreignKey": "projectId",
                    "description": "a project has stages",
                },
                {
                    "from": "Project",
                    "to": "Tag",
                    "type": "many-to-many",
                    "foreignKey": "tagId",
                    "description": "projects carry tags",
                },
            ],
        }
    )


def endpoint(
    method: str,
    path: str,
    entity: str,
    *,
    request: tuple[str, ...] = (),
    response: tuple[str, ...] = (),
    auth: bool = True,
) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "summary": f"{method.lower()} {entity or 'status'}",
        "entity": entity,
        "auth": auth,
        "request_fields": list(request),
        "response_fields": list(response),
    }


def api_json() -> dict[str, Any]:
    return {
        "base_path": "/api/v1",
        "endpoints": [
            endpoint(
                "POST",
                "/auth/signup",
                "User",
                request=("email", "displayName"),
                response=("id", "email", "displayName"),
                auth=False,
            ),
            endpoint("GET", "/projects", "Project"),
            endpoint("POST", "/projects", "Project", request=("name", "description", "status")),
            endpoint("GET", "/projects/{projectId}", "Project"),
            endpoint(
                "PATCH",
                "/projects/{projectId}",
                "Project",
                request=("name", "description", "status", "budget"),
            ),
            endpoint("DELETE", "/projects/{projectId}", "Project"),
            endpoint(
                "GET",
                "/projects/{projectId}/stages",
                "Stage",
                response=("id", "number", "name", "done"),
            ),
            endpoint(
                "POST",
                "/projects/{projectId}/stages",
                "Stage",
                request=("number", "name", "dueDate"),
            ),
            endpoint("PUT", "/stages/{id}", "Stage", request=("number", "name", "done", "dueDate")),
            endpoint("GET", "/health", "", auth=False),
        ],
    }


def api_design() -> ApiDesign:
    return ApiDesign.model_validate(api_json())


def render(api: ApiDesign | None = None, model: DataModel | None = None) -> dict[str, Any]:
    return render_openapi(
        api or api_design(), model or data_model(), title="Atelier", description="Design work"
    )


# --- the document ----------------------------------------------------------------------------


def test_the_rendered_document_is_valid_openapi_3_1() -> None:
    doc = render()
    assert doc["openapi"] == "3.1.0"
    assert validate_openapi(doc) == []


def test_the_document_has_every_path_and_operation() -> None:
    doc = render()
    assert doc["info"] == {"title": "Atelier", "version": "1.0.0", "description": "Design work"}
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert {path: list(item) for path, item in doc["paths"].items()} == {
        "/auth/signup": ["post"],
        "/projects": ["get", "post"],
        "/projects/{projectId}": ["get", "patch", "delete"],
        "/projects/{projectId}/stages": ["get", "post"],
        "/stages/{id}": ["put"],
        "/health": ["get"],
    }
    operations = [op for item in doc["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(set(ids)) == len(ids) == 10
    assert doc["paths"]["/projects"]["get"]["operationId"] == "listProjects"
    assert doc["paths"]["/projects/{projectId}"]["get"]["operationId"] == "getProjectsByProjectId"
    assert [t["name"] for t in doc["tags"]] == ["User", "Project", "Stage"]
    assert doc["paths"]["/projects"]["get"]["tags"] == ["Project"]
    assert "tags" not in doc["paths"]["/health"]["get"]


def test_entity_schemas_follow_the_field_types() -> None:
    schemas = render()["components"]["schemas"]
    assert list(schemas) == ["User", "Project", "Stage"]  # Tag serves no endpoint
    project = schemas["Project"]
    assert project["type"] == "object"
    assert project["required"] == ["id", "ownerId", "name", "status", "createdAt"]
    props = project["properties"]
    assert props["id"] == {"type": "string", "format": "uuid"}
    assert props["ownerId"] == {"type": "string", "format": "uuid", "description": "FK to User"}
    assert props["description"] == {"type": "string"}
    assert props["status"] == {"type": "string", "enum": ["draft", "active", "archived"]}
    assert props["budget"] == {"type": "number"}
    assert props["settings"] == {"type": "object"}
    assert props["createdAt"] == {"type": "string", "format": "date-time"}
    stage = schemas["Stage"]["properties"]
    assert stage["number"] == {"type": "integer"}
    assert stage["done"] == {"type": "boolean"}
    assert stage["dueDate"] == {"type": "string", "format": "date"}


@pytest.mark.parametrize(
    ("type_name", "schema"),
    [
        ("uuid", {"type": "string", "format": "uuid"}),
        ("String", {"type": "string"}),
        ("varchar(255)", {"type": "string"}),
        ("integer", {"type": "integer"}),
        ("number", {"type": "number"}),
        ("timestamp with time zone", {"type": "string", "format": "date-time"}),
        ("json", {"type": "object"}),
        ("enum('a', 'b', 'a')", {"type": "string", "enum": ["a", "b"]}),
        ("text[]", {"type": "array", "items": {"type": "string"}}),
        ("geometry", {}),
    ],
)
def test_type_schema(type_name: str, schema: dict[str, Any]) -> None:
    assert type_schema(type_name) == schema


def test_path_parameters_are_typed_from_the_data_model() -> None:
    paths = render()["paths"]
    (project_id,) = paths["/projects/{projectId}"]["get"]["parameters"]
    assert project_id == {
        "name": "projectId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    (stage_id,) = paths["/stages/{id}"]["put"]["parameters"]
    assert stage_id["schema"] == {"type": "string", "format": "uuid"}
    (by_field,) = paths["/projects/{projectId}/stages"]["get"]["parameters"]
    assert by_field["schema"] == {"type": "string", "format": "uuid"}
    assert "parameters" not in paths["/projects"]["get"]


def test_request_bodies_refer_to_the_entity_fields() -> None:
    paths = render()["paths"]
    create = paths["/projects"]["post"]["requestBody"]
    assert create["required"] is True
    schema = create["content"]["application/json"]["schema"]
    assert schema["properties"]["name"] == {"$ref": "#/components/schemas/Project/properties/name"}
    assert list(schema["properties"]) == ["name", "description", "status"]
    assert schema["required"] == ["name", "status"]
    patch = paths["/projects/{projectId}"]["patch"]["requestBody"]
    assert "required" not in patch["content"]["application/json"]["schema"]  # partial update
    assert "requestBody" not in paths["/projects"]["get"]
    assert "requestBody" not in paths["/projects/{projectId}"]["delete"]


def test_responses_by_method_and_path() -> None:
    paths = render()["paths"]
    listed = paths["/projects"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/Project"}}
    one = paths["/projects/{projectId}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert one["schema"] == {"$ref": "#/components/schemas/Project"}
    assert set(paths["/projects"]["post"]["responses"]) == {"201", "401"}
    assert set(paths["/projects/{projectId}"]["patch"]["responses"]) == {"200", "401"}
    assert set(paths["/stages/{id}"]["put"]["responses"]) == {"200", "401"}
    deleted = paths["/projects/{projectId}"]["delete"]["responses"]
    assert set(deleted) == {"204", "401"} and "content" not in deleted["204"]
    stages = paths["/projects/{projectId}/stages"]["get"]["responses"]["200"]
    items = stages["content"]["application/json"]["schema"]["items"]
    assert list(items["properties"]) == ["id", "number", "name", "done"]
    assert items["required"] == ["id", "number", "name", "done"]
    assert paths["/health"]["get"]["responses"] == {"200": {"description": "Success"}}


def test_security_for_endpoints_that_need_auth() -> None:
    doc = render()
    assert doc["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }
    assert doc["paths"]["/projects"]["get"]["security"] == [{"bearerAuth": []}]
    signup = doc["paths"]["/auth/signup"]["post"]
    assert "security" not in signup and "401" not in signup["responses"]

    public = api_json()
    for item in public["endpoints"]:
        item["auth"] = False
    doc = render(ApiDesign.model_validate(public))
    assert "securitySchemes" not in doc["components"]
    assert validate_openapi(doc) == []


def test_unknown_entities_and_fields_still_render_a_valid_document() -> None:
    broken = api_json()
    broken["endpoints"] += [
        endpoint("GET", "/invoices/{invoiceId}", "Invoice", response=("total",)),
        endpoint("POST", "/invoices", "Invoice", request=("total",)),
        endpoint("PATCH", "/projects/{slug}", "Project", request=("colour",)),
    ]
    doc = render(ApiDesign.model_validate(broken))
    assert validate_openapi(doc) == []
    invoice = doc["paths"]["/invoices/{invoiceId}"]["get"]
    assert invoice["parameters"][0]["schema"] == {"type": "string"}
    assert "Invoice" not in doc["components"]["schemas"]
    body = doc["paths"]["/projects/{slug}"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["properties"] == {"colour": {}}
    # Without a data model at all, too.
    assert validate_openapi(render_openapi(api_design(), None, title="Bare")) == []


def test_a_repeated_method_and_path_keeps_the_first() -> None:
    repeated = api_json()
    second = endpoint("GET", "/projects", "Stage")
    second["summary"] = "the second one"
    repeated["endpoints"].append(second)
    doc = render(ApiDesign.model_validate(repeated))
    assert doc["paths"]["/projects"]["get"]["summary"] == "get Project"
    assert validate_openapi(doc) == []


def test_the_same_design_renders_the_same_yaml() -> None:
    first, second = openapi_yaml(render()), openapi_yaml(render())
    assert first == second
    assert "&id" not in first and "*id" not in first  # no YAML anchors or aliases
    assert yaml.safe_load(first) == render()
    assert first.startswith("openapi: 3.1.0\ninfo:\n")
    shared = {"type": "string"}
    assert "&" not in openapi_yaml({"a": shared, "b": shared})


def test_validate_openapi_reports_problems() -> None:
    doc = render()
    del doc["info"]
    doc["paths"]["/projects"]["get"]["responses"] = "nothing"
    problems = validate_openapi(doc)
    assert problems and any("info" in p for p in problems)


# --- the model's output ---------------------------------------------------------------------


def test_paths_are_normalised() -> None:
    design = ApiDesign.model_validate(
        {
            "base_path": "api/v1/",
            "endpoints": [endpoint("GET", "projects/:projectId/", "Project")],
        }
    )
    assert design.base_path == "/api/v1"
    assert design.endpoints[0].path == "/projects/{projectId}"
    assert design.endpoints[0].key == "GET /projects/{projectId}"
    assert ApiDesign.model_validate({**api_json(), "base_path": "/"}).base_path == ""
    with pytest.raises(ValueError):
        ApiEndpoint.model_validate(endpoint("GET", "/projects?page=1", "Project"))
    with pytest.raises(ValueError):
        ApiEndpoint.model_validate({**endpoint("GET", "/x", ""), "extra": 1})


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


def test_the_output_schema_is_strict() -> None:
    """All properties required, no extras, nothing nullable, every length bounded: what
    OpenAI's strict mode and a small model under a grammar both need."""
    schema = ApiDesign.model_json_schema()
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
            assert node["maxLength"] <= 200, node
        elif node.get("type") == "array":
            assert node["maxItems"] <= 150, node
    assert objects == 2
    assert strict_compatible(schema)
    assert not any("anyOf" in node for node in nodes(strict_schema(schema)))


def test_the_output_schema_becomes_an_exact_grammar() -> None:
    pytest.importorskip(
        "llama_cpp", reason="the grammar converter is llama-cpp-python's (make test installs it)"
    )
    from atelier.ai.providers.local import _grammar, grammar_schema

    _, exact = _grammar(json.dumps(grammar_schema(ApiDesign.model_json_schema())))
    assert exact, "the local provider would fall back to generic JSON"
