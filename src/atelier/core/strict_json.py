"""Free-form JSON that every part of the stack can store and read back unchanged.

Python's ``json`` accepts more than JSON: integers of any size, ``NaN`` and ``Infinity``,
lone UTF-16 surrogates (``"\\ud800"``) and nesting as deep as the recursion limit. The
database layer does not: orjson refuses integers past 64 bits and lone surrogates, SQLite's
JSON functions stop at a nesting depth, PostgreSQL's jsonb refuses a NUL character
(``\\u0000``), and non-finite floats were silently stored as ``null``. Each of those reached
the serializer and answered 500, or lost data.

``StrictJsonObject`` is the one type every API model uses for a free-form JSON field: the
value is checked before anything is written, and a fault is a 422 naming the field and
the path inside it. The walk is iterative so that depth itself cannot crash it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_DEPTH = 64
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class JsonFault(ValueError):
    """What is wrong with a value, and where (``a.b[2]``)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{problem} at {path}" if path else problem)


def _child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _text_fault(text: str) -> str | None:
    """What makes ``text`` unstorable, or None."""
    if "\x00" in text:
        return "text holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text holds a lone UTF-16 surrogate (invalid Unicode)"
    return None


def _check_scalar(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise JsonFault(path, "integer outside the signed 64-bit range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise JsonFault(path, "NaN and infinite numbers are not JSON")
    elif isinstance(value, str):
        if fault := _text_fault(value):
            raise JsonFault(path, fault)
    else:
        raise JsonFault(path, f"a {type(value).__name__} is not a JSON value")


def check_json(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise JsonFault unless ``value`` is plain, portable JSON no deeper than max_depth."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise JsonFault(path, f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise JsonFault(path, "object keys must be text")
                    if fault := _text_fault(key):
                        raise JsonFault(path, f"a key: {fault}")
                    stack.append((child, _child_path(path, key), depth + 1))
            else:
                for index, child in enumerate(item):
                    stack.append((child, _child_path(path, index), depth + 1))
        else:
            _check_scalar(item, path)


def _strict(value: dict[str, Any]) -> dict[str, Any]:
    check_json(value)
    return value


StrictJsonObject = Annotated[dict[str, Any], AfterValidator(_strict)]
