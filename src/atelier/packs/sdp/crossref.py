"""Cross-reference validation of a Software Design Package: deterministic, no AI.

Each stage is written separately, so nothing but this check makes sure that the
relationships name real entities, the SQL has a table per entity, the API serves real
fields and the sections call real endpoints. Every problem is a :class:`ValidationMessage`
with a rule code, the package file it is in and the item it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from atelier.packs.sdp.api_spec import (
    ApiDesign,
    ApiEndpoint,
    entity_field,
    key_entity,
    openapi_problems,
    path_parameters,
    render_openapi,
)
from atelier.packs.sdp.datamodel import DataModel, join_table_name, key_holder, table_name
from atelier.packs.sdp.stages import STAGES, StageSpec, stage

Level = Literal["error", "warning"]
Status = Literal["valid", "warnings", "errors"]

DATA_MODEL_FILE = f"{stage('dataModel').folder}/data-model.json"
ENDPOINTS_FILE = f"{stage('api').folder}/endpoints.json"
OPENAPI_FILE = f"{stage('api').folder}/openapi.yaml"
SECTIONS_FILE = f"{stage('sections').folder}/sections.json"

# The order rules run in, which is the order of their messages in a report.
RULES = (
    "missing_stage",
    "missing_input",
    "relationship_entity",
    "foreign_key_field",
    "entity_table",
    "table_entity",
    "api_entity",
    "api_field",
    "api_path_param",
    "openapi_valid",
    "section_endpoint",
)


@dataclass(slots=True)
class PackageContents:
    data_model: DataModel | None
    sql: dict[str, str]  # package path → SQL script
    api: ApiDesign | None
    sections: list[dict[str, Any]] | None  # the "sections" list of sections.json
    missing_stages: list[str]  # labels of stages without an output
    # The stored OpenAPI document, when there is one; otherwise the one rendered from
    # the API design is checked.
    openapi: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ValidationMessage:
    level: Level
    rule: str
    file: str
    item: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "level": self.level,
            "rule": self.rule,
            "file": self.file,
            "item": self.item,
            "message": self.message,
        }


@dataclass(slots=True)
class ValidationReport:
    messages: list[ValidationMessage] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for m in self.messages if m.level == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for m in self.messages if m.level == "warning")

    @property
    def status(self) -> Status:
        if self.errors:
            return "errors"
        return "warnings" if self.warnings else "valid"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "counts": {"errors": self.errors, "warnings": self.warnings},
            "messages": [m.to_json() for m in self.messages],
        }


Messages = Iterator[ValidationMessage]


def _error(rule: str, file: str, item: str, message: str) -> ValidationMessage:
    return ValidationMessage("error", rule, file, item, message)


def _warning(rule: str, file: str, item: str, message: str) -> ValidationMessage:
    return ValidationMessage("warning", rule, file, item, message)


# ------------------------------------------------------------------------- missing parts


def _stage_for(label: str) -> StageSpec | None:
    return next((s for s in STAGES if label in (s.label, s.name)), None)


def _missing_stages(contents: PackageContents) -> Messages:
    for label in contents.missing_stages:
        spec = _stage_for(label)
        yield _warning(
            "missing_stage",
            spec.folder if spec else "",
            spec.label if spec else label,
            f"The {spec.label if spec else label} stage has no output, "
            "so its part of the package is missing.",
        )


def _missing_inputs(contents: PackageContents) -> Messages:
    """A warning per input the checks need but do not have, unless its stage is already
    reported missing: the reader should learn which checks did not run, once."""
    missing = {spec.name for label in contents.missing_stages if (spec := _stage_for(label))}
    inputs = (
        ("dataModel", DATA_MODEL_FILE, contents.data_model is None, "The data model is"),
        ("database", stage("database").folder, not contents.sql, "The SQL schema is"),
        ("api", ENDPOINTS_FILE, contents.api is None, "The API design is"),
        ("sections", SECTIONS_FILE, contents.sections is None, "The sections are"),
    )
    for name, file, absent, subject in inputs:
        if absent and name not in missing:
            yield _warning(
                "missing_input",
                file,
                stage(name).label,
                f"{subject} missing, so the references to and from it were not checked.",
            )


# ------------------------------------------------------------------------- data model


def _relationship_entities(model: DataModel) -> Messages:
    names = {e.name for e in model.entities}
    for i, rel in enumerate(model.relationships):
        for key, end in (("from", rel.from_), ("to", rel.to)):
            if end not in names:
                yield _error(
                    "relationship_entity",
                    DATA_MODEL_FILE,
                    f"relationships[{i}].{key}",
                    f"Relationship {rel.from_} → {rel.to}: '{end}' is not an entity "
                    "of the data model.",
                )


def _foreign_keys(model: DataModel) -> Messages:
    for i, rel in enumerate(model.relationships):
        holder = key_holder(rel)
        entity = model.entity(holder[0]) if holder else None
        # Many-to-many keys live in a join table; unknown holders are relationship_entity's.
        if entity is None or entity_field(entity, rel.foreign_key) is not None:
            continue
        yield _error(
            "foreign_key_field",
            DATA_MODEL_FILE,
            f"relationships[{i}].foreignKey",
            f"Relationship {rel.from_} → {rel.to} ({rel.type}): the foreign key "
            f"'{rel.foreign_key}' is not a field of {entity.name}.",
        )


# ------------------------------------------------------------------------- database

_CREATE_TABLE = re.compile(
    r"""'(?:[^']|'')*'                       # a string literal, skipped
    | --[^\n]*                               # a line comment, skipped
    | /\*.*?\*/                              # a block comment, skipped
    | \bCREATE\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?
      (?P<name>(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)
               (?:\s*\.\s*(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*))?)
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
_NAME_PART = re.compile(r'"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*')


def _unquote(part: str) -> str:
    if part[:1] in ('"', "`", "["):
        return part[1:-1].replace('""', '"')
    return part


def _tables(sql: str) -> list[str]:
    """Tables the script creates, in order, without schema; strings and comments that
    merely mention CREATE TABLE are matched first and so never count."""
    names: dict[str, None] = {}
    for match in _CREATE_TABLE.finditer(sql):
        if match.group("name"):
            parts = _NAME_PART.findall(match.group("name"))
            names[_unquote(parts[-1])] = None
    return list(names)


def _entity_tables(model: DataModel, sql: dict[str, str]) -> Messages:
    for path in sorted(sql):
        tables = {t.lower() for t in _tables(sql[path])}
        for entity in model.entities:
            table = table_name(entity.name)
            if table.lower() not in tables:
                yield _error(
                    "entity_table",
                    path,
                    entity.name,
                    f'Entity {entity.name} has no table "{table}" in {path}.',
                )


def _table_entities(model: DataModel, sql: dict[str, str]) -> Messages:
    known = {table_name(e.name).lower() for e in model.entities}
    known |= {
        join_table_name(rel).lower() for rel in model.relationships if rel.type == "many-to-many"
    }
    for path in sorted(sql):
        for table in _tables(sql[path]):
            if table.lower() not in known:
                yield _error(
                    "table_entity",
                    path,
                    table,
                    f'Table "{table}" in {path} is neither an entity\'s table nor the join '
                    "table of a many-to-many relationship.",
                )


# ------------------------------------------------------------------------- api


def _api_entities(api: ApiDesign, model: DataModel) -> Messages:
    for endpoint in api.endpoints:
        if endpoint.entity and model.entity(endpoint.entity) is None:
            yield _error(
                "api_entity",
                ENDPOINTS_FILE,
                endpoint.key,
                f"{endpoint.key} serves '{endpoint.entity}', which is not an entity "
                "of the data model.",
            )


def _api_fields(api: ApiDesign, model: DataModel) -> Messages:
    for endpoint in api.endpoints:
        entity = model.entity(endpoint.entity) if endpoint.entity else None
        if entity is None:
            continue  # no entity, or an unknown one that api_entity reports
        for kind, names in (
            ("request", endpoint.request_fields),
            ("response", endpoint.response_fields),
        ):
            for name in dict.fromkeys(names):
                if entity_field(entity, name) is None:
                    yield _error(
                        "api_field",
                        ENDPOINTS_FILE,
                        endpoint.key,
                        f"{endpoint.key}: {kind} field '{name}' is not a field of {entity.name}.",
                    )


def _known_param(param: str, endpoint: ApiEndpoint, model: DataModel) -> bool:
    entity = model.entity(endpoint.entity) if endpoint.entity else None
    return (
        param == "id"
        or entity_field(entity, param) is not None
        or key_entity(param, model) is not None
    )


def _api_path_params(api: ApiDesign, model: DataModel) -> Messages:
    for endpoint in api.endpoints:
        for param in path_parameters(endpoint.path):
            if not _known_param(param, endpoint, model):
                yield _error(
                    "api_path_param",
                    ENDPOINTS_FILE,
                    endpoint.key,
                    f"{endpoint.key}: path parameter '{param}' is neither a field of "
                    f"{endpoint.entity or 'its entity'} nor the id of an entity.",
                )


def _openapi(contents: PackageContents) -> Messages:
    doc = contents.openapi
    if doc is None and contents.api is not None:
        doc = render_openapi(contents.api, contents.data_model, title="API")
    if doc is None:
        return
    for where, what in openapi_problems(doc):
        yield _error(
            "openapi_valid",
            OPENAPI_FILE,
            where or "openapi",
            f"The OpenAPI document is not valid OpenAPI 3.1 at {where or 'its root'}: {what}",
        )


# ------------------------------------------------------------------------- sections

_TEMPLATE = re.compile(r"\{[^{}/]*\}")


def _route(path: str, base_path: str) -> str:
    """A path as compared: without the base path, parameter names or a trailing slash, so
    ``/api/v1/projects/{id}/`` and ``/projects/{projectId}`` are the same endpoint."""
    path = "/" + path.strip("/")
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        path = path[len(base_path) :] or "/"
    return _TEMPLATE.sub("{}", path)


def _endpoint_refs(section: dict[str, Any]) -> list[Any]:
    refs = section.get("endpoints")
    return refs if isinstance(refs, list) else []


def _section_endpoints(sections: list[dict[str, Any]], api: ApiDesign) -> Messages:
    routes = {(e.method, _route(e.path, api.base_path)) for e in api.endpoints}
    for i, section in enumerate(sections):
        if not isinstance(section, dict):
            continue
        name = str(section.get("name") or f"sections[{i}]")
        for ref in _endpoint_refs(section):
            parts = str(ref).split()
            if len(parts) >= 2 and (parts[0].upper(), _route(parts[1], api.base_path)) in routes:
                continue
            yield _error(
                "section_endpoint",
                SECTIONS_FILE,
                name,
                f"Section {name} uses '{ref}', which is not an endpoint of the API.",
            )


# ------------------------------------------------------------------------- the report


def _checks(contents: PackageContents) -> Messages:
    yield from _missing_stages(contents)
    yield from _missing_inputs(contents)
    model, api = contents.data_model, contents.api
    if model is not None:
        yield from _relationship_entities(model)
        yield from _foreign_keys(model)
        yield from _entity_tables(model, contents.sql)
        yield from _table_entities(model, contents.sql)
        if api is not None:
            yield from _api_entities(api, model)
            yield from _api_fields(api, model)
            yield from _api_path_params(api, model)
    yield from _openapi(contents)
    if api is not None and contents.sections is not None:
        yield from _section_endpoints(contents.sections, api)


def validate_package(contents: PackageContents) -> ValidationReport:
    """Every cross-reference problem of the package, rule by rule in :data:`RULES` order,
    each rule's messages in the order of the items in the package."""
    return ValidationReport(list(_checks(contents)))
