"""Is a document valid OpenAPI 3.1? Fast enough to ask on every export.

Two passes, both compiled validators of jsonschema-rs (Rust), so a 60-endpoint document
takes a few milliseconds where openapi-spec-validator (pure Python) takes most of a
second:

1. **Structure**: the document against the OpenAPI 3.1 schema published by the OpenAPI
   Initiative (the copy in openapi-spec-validator's package data).
2. **Meaning**, what a schema cannot say, and only once the structure holds (these checks
   assume it): every local ``$ref`` resolves and nothing refers outside the document;
   every Schema Object is valid JSON Schema 2020-12; a schema's ``default`` matches the
   schema; an ``allOf`` requires only properties somebody defines; operation ids and tag
   names are unique; no parameter is declared twice; path parameters and the path's
   ``{template}`` names match both ways.

The checks are those openapi-spec-validator makes; tests/sdp/test_openapi_check.py holds
the two to the same verdict on valid and broken documents.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema_rs

Problem = tuple[str, str]  # (dotted location, what is wrong); "" is the document itself
Where = list[str | int]  # a location as keys and indexes
Located = tuple[Where, Any]  # a Schema Object and where it is

MAX_PROBLEMS = 50
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{([^{}/]+)\}")
_DOC_URI = "urn:atelier:openapi-document"


@functools.cache
def _structure_validator() -> jsonschema_rs.Validator:
    # Found without importing the package: its import alone takes a third of a second.
    spec = importlib.util.find_spec("openapi_spec_validator")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("openapi-spec-validator (for the OpenAPI 3.1 schema) is not installed")
    schema = Path(spec.submodule_search_locations[0], "resources/schemas/v3.1/schema.json")
    return jsonschema_rs.validator_for(json.loads(schema.read_text(encoding="utf-8")))


def _dotted(path: Iterator[str | int] | Where) -> str:
    return ".".join(str(part) for part in path)


def openapi_problems(doc: Any) -> list[Problem]:
    """(location, problem) for each way ``doc`` breaks OpenAPI 3.1; [] when it is valid."""
    problems: list[Problem] = []
    seen: set[Problem] = set()
    for error in _structure_validator().iter_errors(doc):
        problem = (_dotted(error.instance_path), error.message)
        if problem not in seen:
            seen.add(problem)
            problems.append(problem)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        return problems
    return list(_Meaning(doc).problems())[:MAX_PROBLEMS]


class _Meaning:
    """The checks of a structurally valid document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def problems(self) -> Iterator[Problem]:
        bad_refs = list(self._references(self.doc, []))
        yield from bad_refs
        yield from self._tags()
        yield from self._operations()
        for where, schema in self._schemas():
            yield from self._schema(where, schema, resolvable=not bad_refs)

    # ---------------------------------------------------------------- references

    def _references(self, node: Any, path: Where) -> Iterator[Problem]:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith("#"):
                    yield (
                        _dotted([*path, "$ref"]),
                        f"{ref!r} refers outside the document; it must be self-contained",
                    )
                elif self._resolve(ref) is _MISSING:
                    yield (_dotted([*path, "$ref"]), f"{ref!r} does not resolve")
            for key, value in node.items():
                yield from self._references(value, [*path, key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from self._references(value, [*path, index])

    def _resolve(self, ref: str) -> Any:
        node: Any = self.doc
        pointer = unquote(ref[1:])
        if not pointer:
            return node
        if not pointer.startswith("/"):
            return _MISSING  # a plain-name anchor: none of ours, and not resolvable here
        for raw in pointer[1:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return _MISSING
        return node

    def _follow(self, node: Any) -> Any:
        """A Reference Object's target (one hop at a time, at most a few hops)."""
        for _ in range(8):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node
            node = self._resolve(node["$ref"])
        return node

    # ---------------------------------------------------------------- names

    def _tags(self) -> Iterator[Problem]:
        seen: set[str] = set()
        for index, tag in enumerate(self.doc.get("tags", [])):
            if tag["name"] in seen:
                yield (f"tags.{index}.name", f"duplicate tag name {tag['name']!r}")
            seen.add(tag["name"])

    def _operations(self) -> Iterator[Problem]:
        ids: dict[str, str] = {}
        for path, item in self.doc.get("paths", {}).items():
            item = self._follow(item)
            if not isinstance(item, dict):
                continue
            shared = self._parameters(item.get("parameters", []))
            yield from self._duplicates(f"paths.{path}.parameters", shared)
            template = set(_TEMPLATE.findall(path))
            for method in _METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                where = f"paths.{path}.{method}"
                operation_id = operation.get("operationId")
                if operation_id is not None:
                    if operation_id in ids:
                        yield (
                            f"{where}.operationId",
                            f"operation id {operation_id!r} is also used by {ids[operation_id]}",
                        )
                    else:
                        ids[operation_id] = f"{method.upper()} {path}"
                own = self._parameters(operation.get("parameters", []))
                yield from self._duplicates(f"{where}.parameters", own)
                declared = {name for name, place in [*shared, *own] if place == "path"}
                for name in sorted(template - declared):
                    yield (
                        f"{where}.parameters",
                        f"path parameter {name!r} of {path} is not declared",
                    )
                for name in sorted(declared - template):
                    yield (
                        f"{where}.parameters",
                        f"path parameter {name!r} is declared but {path} has no {{{name}}}",
                    )

    def _parameters(self, parameters: list[Any]) -> list[tuple[str, str]]:
        found = []
        for parameter in parameters:
            target = self._follow(parameter)
            if isinstance(target, dict) and "name" in target and "in" in target:
                found.append((str(target["name"]), str(target["in"])))
        return found

    @staticmethod
    def _duplicates(where: str, parameters: list[tuple[str, str]]) -> Iterator[Problem]:
        seen: set[tuple[str, str]] = set()
        for name, place in parameters:
            if (name, place) in seen:
                yield (where, f"parameter {name!r} in {place} is declared twice")
            seen.add((name, place))

    # ---------------------------------------------------------------- schemas

    def _schemas(self) -> Iterator[Located]:
        """Every Schema Object the document holds directly (nested ones are walked later)."""
        components = self.doc.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            yield ["components", "schemas", name], schema
        for kind in ("parameters", "headers"):
            for name, holder in components.get(kind, {}).items():
                yield from self._held(["components", kind, name], holder)
        for name, body in components.get("requestBodies", {}).items():
            yield from self._content(["components", "requestBodies", name], body)
        for name, response in components.get("responses", {}).items():
            yield from self._response(["components", "responses", name], response)
        for path, item in self.doc.get("paths", {}).items():
            if not isinstance(item, dict):
                continue
            for index, parameter in enumerate(item.get("parameters", [])):
                yield from self._held(["paths", path, "parameters", index], parameter)
            for method in _METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                where: Where = ["paths", path, method]
                for index, parameter in enumerate(operation.get("parameters", [])):
                    yield from self._held([*where, "parameters", index], parameter)
                if "requestBody" in operation:
                    yield from self._content([*where, "requestBody"], operation["requestBody"])
                for status, response in operation.get("responses", {}).items():
                    yield from self._response([*where, "responses", status], response)

    def _held(self, where: Where, holder: Any) -> Iterator[Located]:
        """The schema of a parameter or header (directly or per media type)."""
        if isinstance(holder, dict) and "$ref" not in holder:
            if "schema" in holder:
                yield [*where, "schema"], holder["schema"]
            yield from self._content(where, holder)

    def _content(self, where: Where, holder: Any) -> Iterator[Located]:
        if isinstance(holder, dict) and "$ref" not in holder:
            for media, entry in holder.get("content", {}).items():
                if isinstance(entry, dict) and "schema" in entry:
                    yield [*where, "content", media, "schema"], entry["schema"]

    def _response(self, where: Where, response: Any) -> Iterator[Located]:
        if isinstance(response, dict) and "$ref" not in response:
            yield from self._content(where, response)
            for name, header in response.get("headers", {}).items():
                yield from self._held([*where, "headers", name], header)

    def _schema(self, where: Where, schema: Any, *, resolvable: bool) -> Iterator[Problem]:
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as error:
            inner = [*where, *error.instance_path]
            yield (_dotted(inner), f"not a valid JSON Schema: {error.message}")
            return
        except jsonschema_rs.ReferencingError as error:
            yield (_dotted(where), f"not a valid JSON Schema: {error}")
            return
        yield from self._nested(where, schema, resolvable=resolvable)

    def _nested(self, where: Where, schema: Any, *, resolvable: bool) -> Iterator[Problem]:
        if not isinstance(schema, dict):
            return
        if "allOf" in schema and isinstance(schema.get("required"), list):
            defined = set(schema.get("properties", {}))
            for part in schema["allOf"]:
                defined |= self._property_names(part)
            missing = [name for name in schema["required"] if name not in defined]
            if missing:
                yield (
                    _dotted([*where, "required"]),
                    f"required properties {missing} are defined by no part of the schema",
                )
        if "default" in schema and resolvable:
            yield from self._default(where, schema)
        for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            for index, part in enumerate(schema.get(key, [])):
                yield from self._nested([*where, key, index], part, resolvable=resolvable)
        for key in ("items", "not", "additionalProperties", "contains"):
            if isinstance(schema.get(key), dict):
                yield from self._nested([*where, key], schema[key], resolvable=resolvable)
        for name, part in schema.get("properties", {}).items():
            yield from self._nested([*where, "properties", name], part, resolvable=resolvable)

    def _property_names(self, schema: Any, depth: int = 0) -> set[str]:
        """The properties a schema defines, through its references and combinations."""
        schema = self._follow(schema)
        if not isinstance(schema, dict) or depth > 16:
            return set()
        names = set(schema.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(key, []):
                names |= self._property_names(part, depth + 1)
        return names

    def _default(self, where: Where, schema: dict[str, Any]) -> Iterator[Problem]:
        # The schema is checked where it stands, so that its own "#/components/..."
        # references resolve against this document.
        pointer = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in where)
        try:
            validator = jsonschema_rs.validator_for(
                {"$ref": f"{_DOC_URI}#{pointer}"},
                registry=jsonschema_rs.Registry([(_DOC_URI, self.doc)]),
            )
            errors = list(validator.iter_errors(schema["default"]))
        except (jsonschema_rs.ReferencingError, ValueError) as failure:
            yield (_dotted([*where, "default"]), f"the default could not be checked: {failure}")
            return
        for mismatch in errors[:5]:
            yield (
                _dotted([*where, "default", *mismatch.instance_path]),
                f"the default does not match the schema: {mismatch.message}",
            )


_MISSING = object()  # what a reference that does not resolve resolves to
