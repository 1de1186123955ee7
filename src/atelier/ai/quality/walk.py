"""Walking an answer together with its JSON schema: every string and every list, with
its path ("value_map.pain_relievers[2].reliever") and the schema that governs it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Leaf:
    path: Path
    value: Any
    schema: Schema


def path_text(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def pattern_text(path: Path) -> str:
    """The path with list positions blank ("a.items[].name"), as tools declare fields."""
    return re.sub(r"\[\d+\]", "[]", path_text(path))


def resolve(schema: Schema, root: Schema) -> Schema:
    """Follow ``$ref`` and pick the non-null branch of an optional (``anyOf``)."""
    for _ in range(32):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            node: Any = root
            for part in ref[2:].split("/"):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            schema = node if isinstance(node, dict) else {}
            continue
        branches = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(branches, list):
            real = [b for b in branches if isinstance(b, dict) and b.get("type") != "null"]
            if len(real) == 1:
                schema = real[0]
                continue
        return schema
    return schema


def leaves(data: Any, schema: Schema, root: Schema | None = None) -> Iterator[Leaf]:
    """Every value in ``data``, objects and lists included, depth first."""
    root = root if root is not None else schema
    yield from _walk(data, schema, root, ())


def _walk(data: Any, schema: Schema, root: Schema, path: Path) -> Iterator[Leaf]:
    node = resolve(schema, root)
    yield Leaf(path, data, node)
    if isinstance(data, dict):
        props = node.get("properties") or {}
        for key, value in data.items():
            yield from _walk(value, props.get(key) or {}, root, (*path, key))
    elif isinstance(data, list):
        items = node.get("items") or {}
        for index, value in enumerate(data):
            yield from _walk(value, items if isinstance(items, dict) else {}, root, (*path, index))


def nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a schema (or any JSON value), depth first, itself included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from nodes(item)


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list | tuple):
        for item in value.values() if isinstance(value, dict) else value:
            yield from strings_in(item)


def descriptions(schema: Schema) -> list[str]:
    """Every ``description`` and ``title`` in a schema: text an answer must not echo."""
    return [
        node[key]
        for node in nodes(schema)
        for key in ("description", "title")
        if isinstance(node.get(key), str)
    ]


def property_names(schema: Schema) -> set[str]:
    """Every property name a schema defines, at any depth (its ``$defs`` included)."""
    return {
        name
        for node in nodes(schema)
        if isinstance(node.get("properties"), dict)
        for name in node["properties"]
        if isinstance(name, str)
    }


def is_choice(schema: Schema) -> bool:
    """A value picked from a set (an enum, a const, a yes/no, a number), not written."""
    return (
        "enum" in schema
        or "const" in schema
        or schema.get("type")
        in (
            "boolean",
            "integer",
            "number",
        )
    )


def item_text(
    value: Any, schema: Schema | None = None, root: Schema | None = None, *, choices: bool = True
) -> str:
    """An item of a list as one text (an object's strings joined), for duplicates;
    ``choices=False`` leaves out the fields ``schema`` says are picked, not written."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        props = (schema or {}).get("properties") or {}
        parts = []
        for key, item in value.items():
            node = resolve(props.get(key) or {}, root or schema or {})
            if not isinstance(item, str | dict) or (not choices and is_choice(node)):
                continue
            parts.append(item_text(item, node, root, choices=choices))
        return " | ".join(parts)
    return ""
