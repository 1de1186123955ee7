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


def descriptions(schema: Schema) -> list[str]:
    """Every ``description`` and ``title`` in a schema: text an answer must not echo."""
    out: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("description", "title") and isinstance(value, str):
                    out.append(value)
                else:
                    visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return out


def property_names(schema: Schema) -> set[str]:
    """Every property name a schema defines, at any depth (its ``$defs`` included)."""
    out: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                out.update(k for k in props if isinstance(k, str))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return out


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
