"""YAML in and out of packages.

Package data is JSON-shaped (objects, arrays, strings, numbers, booleans, null), so it is
written by a small block-style emitter of our own instead of PyYAML's: PyYAML's
representer took most of the 100 ms an export of a 60-endpoint API had (the document is
about 7,000 nodes). Strings that could read as anything but themselves (numbers, booleans,
dates, YAML syntax) are written double-quoted with JSON escapes, which YAML reads back
as the same string. Reading uses libyaml's safe loader when PyYAML has it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A plain scalar we can leave unquoted: starts with a letter, digit or "/", then a
# conservative set of characters (no ": ", no " #", nothing YAML reads as syntax), no
# trailing space; and YAML's own resolver must read it as a string ("3.1.0" yes, "1.5",
# "2026-01-01" or "yes" no).
_PLAIN = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9_./{}()+,' -]*(?<! )$")
_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
# What YAML does not allow unescaped in a document (its "printable" set, inverted).
# NEL and the Unicode line separators are escaped too: YAML 1.1 readers break lines there.
_UNPRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# Words YAML 1.1 readers turn into booleans or null.
_RESERVED = {
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
}  # fmt: skip


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        # YAML 1.1 reads a float only with a dot before the exponent: 1e+20 → 1.0e+20.
        text = repr(value)
        if "e" in text and "." not in text:
            text = text.replace("e", ".0e", 1)
        return text
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and text.lower() not in _RESERVED
        and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR
    ):
        return text
    # JSON's \u escapes are YAML's too: characters YAML may not hold raw go escaped.
    return _UNPRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _key(key: Any) -> str:
    return _scalar(str(key))


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{_key(key)}:")
                _emit(item, indent + (0 if isinstance(item, list) else 1), out)
            else:
                out.append(f"{pad}{_key(key)}: {_inline(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                lines: list[str] = []
                _emit(item, 0, lines)
                inner = "  " * (indent + 1)
                out.append(f"{pad}- {lines[0]}")
                out.extend(f"{inner}{line}" for line in lines[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
    else:
        out.append(pad + _inline(value))


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def dump_yaml(data: Any) -> str:
    """Block-style YAML of JSON-shaped data, keys in their order; ends with a newline."""
    out: list[str] = []
    if isinstance(data, dict | list) and data:
        _emit(data, 0, out)
    else:
        out.append(_inline(data))
    return "\n".join(out) + "\n"


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # a safe loader: plain data only
