"""The api stage's output, and the OpenAPI 3.1 document rendered from it.

A model writes an :class:`ApiDesign`: a flat list of endpoints, each naming the data-model
entity it serves and the fields it carries. The OpenAPI document is not written by the
model but rendered here, deterministically, from that design and the data model, so the
schemas always match the data model and the document is always valid OpenAPI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from atelier.packs.sdp.datamodel import DataModel, Entity, EntityField, snake_case, table_name
from atelier.packs.sdp.openapi_check import openapi_problems as check_openapi
from atelier.packs.sdp.yamlio import dump_yaml

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

# Bounded so a small local model under a grammar cannot run on forever.
ApiPath = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
BasePath = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EntityName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
FieldName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

MAX_ENDPOINTS = 150
MAX_FIELDS = 60  # the data model's own limit on an entity's fields

_PARAM = re.compile(r"\{([^{}/]+)\}")


def _clean_path(value: str) -> str:
    """``projects/:projectId/`` → ``/projects/{projectId}``: small models mix styles, and a
    fixable slip should not cost a retry."""
    if any(ch.isspace() for ch in value) or "?" in value or "#" in value:
        raise ValueError("a path is one URL path: no spaces, no query string")
    segments = [
        f"{{{segment[1:]}}}" if segment.startswith(":") and len(segment) > 1 else segment
        for segment in value.strip("/").split("/")
    ]
    return "/" + "/".join(segments)


class ApiEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Endpoint")

    method: Method = Field(description="HTTP method")
    path: ApiPath = Field(
        description=(
            "path below the base path, starting with '/', parameters in braces, "
            "e.g. /projects/{projectId}/stages"
        )
    )
    summary: Summary = Field(description="what the endpoint does, in a few words")
    entity: EntityName = Field(
        description="name of the data-model entity the endpoint serves, or '' for none"
    )
    auth: bool = Field(description="true when the caller must be signed in")
    request_fields: list[FieldName] = Field(
        max_length=MAX_FIELDS,
        description="names of the entity's fields the request body carries; [] for none",
    )
    response_fields: list[FieldName] = Field(
        max_length=MAX_FIELDS,
        description="names of the entity's fields the response returns; [] for all or none",
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return _clean_path(value)

    @property
    def key(self) -> str:
        """``GET /projects/{projectId}``: how sections and messages name the endpoint."""
        return f"{self.method} {self.path}"


class ApiDesign(BaseModel):
    model_config = ConfigDict(extra="forbid", title="API design")

    base_path: BasePath = Field(description="prefix of every path, e.g. /api/v1")
    endpoints: list[ApiEndpoint] = Field(
        min_length=1, max_length=MAX_ENDPOINTS, description="every endpoint of the API"
    )

    @field_validator("base_path")
    @classmethod
    def _base_path(cls, value: str) -> str:
        # "" and "/" both mean the root; stored without a trailing slash.
        return "" if value.strip("/") == "" else _clean_path(value)


# ------------------------------------------------------------------------- shared helpers


def path_parameters(path: str) -> list[str]:
    """The ``{name}`` parameters of a path, in order, each once."""
    return list(dict.fromkeys(_PARAM.findall(path)))


def key_entity(param: str, data_model: DataModel | None) -> Entity | None:
    """The entity a key parameter such as ``projectId`` or ``stage_output_id`` names."""
    if data_model is None:
        return None
    for suffix in ("_id", "Id"):
        if param.endswith(suffix) and len(param) > len(suffix):
            wanted = snake_case(param[: -len(suffix)])
            return next((e for e in data_model.entities if table_name(e.name) == wanted), None)
    return None


def entity_field(entity: Entity | None, name: str) -> EntityField | None:
    if entity is None:
        return None
    return next((f for f in entity.fields if f.name == name), None)


# ------------------------------------------------------------------------- field schemas

_STRING = {"type": "string"}
_TYPES: dict[str, dict[str, str]] = {
    "uuid": {"type": "string", "format": "uuid"},
    "string": _STRING,
    "text": _STRING,
    "varchar": _STRING,
    "char": _STRING,
    "email": {"type": "string", "format": "email"},
    "url": {"type": "string", "format": "uri"},
    "integer": {"type": "integer"},
    "int": {"type": "integer"},
    "bigint": {"type": "integer"},
    "smallint": {"type": "integer"},
    "decimal": {"type": "number"},
    "number": {"type": "number"},
    "numeric": {"type": "number"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "real": {"type": "number"},
    "boolean": {"type": "boolean"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "timestamp": {"type": "string", "format": "date-time"},
    "timestamptz": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "json": {"type": "object"},
    "jsonb": {"type": "object"},
}
_ENUM = re.compile(r"enum\s*\((.*)\)", re.IGNORECASE | re.DOTALL)


def type_schema(type_name: str) -> dict[str, Any]:
    """The JSON schema of a data-model field type; ``{}`` (any value) for an unknown type."""
    text = type_name.strip()
    if text.endswith("[]"):
        return {"type": "array", "items": type_schema(text[:-2])}
    enum = _ENUM.fullmatch(text)
    if enum:
        values = [v.strip().strip("'\"") for v in enum.group(1).split(",")]
        values = list(dict.fromkeys(v for v in values if v))
        return {"type": "string", "enum": values} if values else dict(_STRING)
    # "varchar(255)", "decimal(10,2)", "timestamp with time zone": the base name decides.
    base = re.split(r"[\s(]", text.lower(), maxsplit=1)[0]
    return dict(_TYPES.get(base, {}))


def field_schema(field: EntityField) -> dict[str, Any]:
    schema = type_schema(field.type)
    if field.description:
        schema["description"] = field.description
    return schema


def entity_schema(entity: Entity) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if entity.description:
        schema["description"] = entity.description
    schema["properties"] = {field.name: field_schema(field) for field in entity.fields}
    required = [field.name for field in entity.fields if field.required]
    if required:
        schema["required"] = required
    return schema


def _schema_ref(entity: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{entity}"}


def _field_ref(entity: Entity | None, name: str) -> dict[str, Any]:
    # A reference into the entity's schema keeps one definition per field; an unknown
    # field still renders (as any value) and cross-reference validation reports it.
    if entity is None or entity_field(entity, name) is None:
        return {}
    return {"$ref": f"#/components/schemas/{entity.name}/properties/{name}"}


def _fields_object(entity: Entity | None, names: list[str], *, required: bool) -> dict[str, Any]:
    names = list(dict.fromkeys(names))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: _field_ref(entity, name) for name in names},
    }
    if required:
        needed = [n for n in names if (f := entity_field(entity, n)) is not None and f.required]
        if needed:
            schema["required"] = needed
    return schema


# ------------------------------------------------------------------------- operations

_VERBS = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
_STATUS = {"GET": "200", "POST": "201", "PUT": "200", "PATCH": "200", "DELETE": "204"}


def _is_collection(path: str) -> bool:
    return _PARAM.fullmatch(path.rstrip("/").rsplit("/", 1)[-1]) is None


def _pascal(text: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", text)
    return "".join(word[:1].upper() + word[1:] for word in words)


def _operation_id(endpoint: ApiEndpoint, taken: set[str]) -> str:
    """``GET /projects/{projectId}/stages`` → ``listProjectsByProjectIdStages``: readable,
    and derived from method and path alone so it is stable across renders."""
    collection = _is_collection(endpoint.path)
    verb = _VERBS.get(endpoint.method) or ("list" if collection else "get")
    parts = []
    for segment in endpoint.path.strip("/").split("/"):
        param = _PARAM.fullmatch(segment)
        parts.append("By" + _pascal(param.group(1)) if param else _pascal(segment))
    base = verb + ("".join(parts) or "Root")
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    taken.add(candidate)
    return candidate


def _parameter_schema(param: str, entity: Entity | None, data_model: DataModel | None) -> Any:
    field = entity_field(entity, param)
    if field is None and param == "id":
        field = entity_field(entity, "id")
    if field is None:
        field = entity_field(key_entity(param, data_model), "id")
    schema = type_schema(field.type) if field is not None else {}
    if schema.get("type") not in ("string", "integer"):
        return {"type": "string"}
    return {key: schema[key] for key in ("type", "format") if key in schema}


def _parameters(
    endpoint: ApiEndpoint, entity: Entity | None, data_model: DataModel | None
) -> list[dict[str, Any]]:
    return [
        {
            "name": param,
            "in": "path",
            "required": True,
            "schema": _parameter_schema(param, entity, data_model),
        }
        for param in path_parameters(endpoint.path)
    ]


def _request_body(endpoint: ApiEndpoint, entity: Entity | None) -> dict[str, Any] | None:
    if endpoint.method not in ("POST", "PUT", "PATCH") or not endpoint.request_fields:
        return None
    # A PATCH sends only what changes, so nothing in it is required.
    schema = _fields_object(entity, endpoint.request_fields, required=endpoint.method != "PATCH")
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _response_item(endpoint: ApiEndpoint, entity: Entity | None) -> dict[str, Any] | None:
    fields = endpoint.response_fields
    if entity is not None and (not fields or set(fields) == {f.name for f in entity.fields}):
        return _schema_ref(entity.name)
    if fields:
        return _fields_object(entity, fields, required=True)
    if endpoint.entity:  # an entity the data model lacks: still a valid document
        return {"type": "object"}
    return None


def _responses(endpoint: ApiEndpoint, entity: Entity | None) -> dict[str, Any]:
    status = _STATUS[endpoint.method]
    item = _response_item(endpoint, entity)
    if status == "204":
        response: dict[str, Any] = {"description": "Done; no content"}
    elif item is None:
        response = {"description": "Success"}
    elif endpoint.method == "GET" and _is_collection(endpoint.path):
        response = {
            "description": f"A list of {endpoint.entity or 'results'}",
            "content": {"application/json": {"schema": {"type": "array", "items": item}}},
        }
    else:
        response = {
            "description": f"The {endpoint.entity or 'result'}",
            "content": {"application/json": {"schema": item}},
        }
    responses = {status: response}
    if endpoint.auth:
        responses["401"] = {"description": "Missing or invalid bearer token"}
    return responses


def _operation(
    endpoint: ApiEndpoint, data_model: DataModel | None, taken: set[str]
) -> dict[str, Any]:
    entity = data_model.entity(endpoint.entity) if data_model and endpoint.entity else None
    operation: dict[str, Any] = {
        "operationId": _operation_id(endpoint, taken),
        "summary": endpoint.summary,
    }
    if endpoint.entity:
        operation["tags"] = [endpoint.entity]
    parameters = _parameters(endpoint, entity, data_model)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(endpoint, entity)
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = _responses(endpoint, entity)
    if endpoint.auth:
        operation["security"] = [{"bearerAuth": []}]
    return operation


def unique_endpoints(endpoints: Iterable[ApiEndpoint]) -> list[ApiEndpoint]:
    """The endpoints without repeats of a method and path; the first one wins."""
    seen: set[str] = set()
    kept = []
    for endpoint in endpoints:
        if endpoint.key not in seen:
            seen.add(endpoint.key)
            kept.append(endpoint)
    return kept


# ------------------------------------------------------------------------- the document


def _tags(endpoints: list[ApiEndpoint], data_model: DataModel | None) -> list[dict[str, str]]:
    tags = []
    for name in dict.fromkeys(e.entity for e in endpoints if e.entity):
        entity = data_model.entity(name) if data_model else None
        tag = {"name": name}
        if entity is not None and entity.description:
            tag["description"] = entity.description
        tags.append(tag)
    return tags


def _components(endpoints: list[ApiEndpoint], data_model: DataModel | None) -> dict[str, Any]:
    components: dict[str, Any] = {}
    used = {e.entity for e in endpoints}
    if data_model is not None:
        # Data-model order, not endpoint order: the schemas read like the data model.
        schemas = {e.name: entity_schema(e) for e in data_model.entities if e.name in used}
        if schemas:
            components["schemas"] = schemas
    if any(e.auth for e in endpoints):
        components["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    return components


def render_openapi(
    api: ApiDesign,
    data_model: DataModel | None,
    *,
    title: str,
    version: str = "1.0.0",
    description: str = "",
) -> dict[str, Any]:
    """An OpenAPI 3.1.0 document for the design; the same inputs give the same document."""
    endpoints = unique_endpoints(api.endpoints)
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": api.base_path or "/"}],
    }
    tags = _tags(endpoints, data_model)
    if tags:
        doc["tags"] = tags
    paths: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for endpoint in endpoints:
        operation = _operation(endpoint, data_model, taken)
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    doc["paths"] = paths
    components = _components(endpoints, data_model)
    if components:
        doc["components"] = components
    return doc


def openapi_yaml(doc: dict[str, Any]) -> str:
    """The document as YAML, keys in document order. A JSON round trip first gives every
    node its own object, so YAML never writes anchors and aliases (&id001) for shared ones."""
    return dump_yaml(json.loads(json.dumps(doc)))


def openapi_problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(location, problem) for each way the document breaks OpenAPI 3.1; the location is
    dotted, e.g. ``paths./projects.get.responses``, and "" for the document itself."""
    return check_openapi(doc)


def validate_openapi(doc: dict[str, Any]) -> list[str]:
    """Problems with the document as OpenAPI 3.1; [] when it is valid."""
    return [f"{where}: {what}" if where else what for where, what in openapi_problems(doc)]
