"""The data files of an uploaded package (and its manifest), read without trusting them.

Every fault is an UnreadableDataFile (a ValueError) whose message says what is wrong:
text that is not JSON or YAML, nesting deeper than ``MAX_NESTING``, YAML aliases, and
values that parse but cannot be stored as they are — a NUL character (PostgreSQL's text
and jsonb refuse it), a lone UTF-16 surrogate, an integer past 64 bits (the JSON column's
serializer refuses both), NaN or an infinity (not JSON), or what only YAML has (dates,
sets, binary, keys that are not text). Each of these used to reach the database and
answer 500, or crash the process.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from atelier.core.strict_json import MAX_DEPTH, JsonFault, check_json
from atelier.packs.sdp.yamlio import load_yaml

# Deeper than anything Atelier writes (its outputs nest a handful of levels) and far from
# where a parser, a validator or a later renderer would run out of stack.
MAX_NESTING = MAX_DEPTH
# One JSON string (escapes included) or one bracket: brackets inside strings are not
# nesting. In valid JSON this finds exactly the structural brackets.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_YAML_EVENTS: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSES = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class UnreadableDataFile(ValueError):
    """A package file that cannot be read, or not stored as it is; the message says why."""


def parse_data_file(path: str, text: str) -> Any:
    """A package file's data: YAML for ``.yaml``, JSON otherwise."""
    data = _parse_yaml(text) if path.endswith(".yaml") else _parse_json(text)
    _check_storable(data)
    return data


def _parse_json(text: str) -> Any:
    if _json_too_deep(text):
        raise UnreadableDataFile(f"nested deeper than {MAX_NESTING} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise UnreadableDataFile(f"not valid JSON: {error}") from None


def _json_too_deep(text: str) -> bool:
    """Whether ``text`` nests past MAX_NESTING, found before parsing (and stopping there):
    json.loads would only give up near the interpreter's recursion limit."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def _parse_yaml(text: str) -> Any:
    _check_yaml_events(text)
    try:
        return load_yaml(text)
    # Broad on purpose, at this one boundary: besides YAMLError, the safe constructor
    # lets plain Python errors out of its tag handlers (ValueError for "2026-02-30",
    # TypeError, OverflowError ...), and none of them is the server's fault.
    except Exception as error:
        raise UnreadableDataFile(f"not valid YAML: {error}") from None


def _check_yaml_events(text: str) -> None:
    """Refuse deep nesting and aliases from the event stream, before any node is built.

    PyYAML composes nodes recursively, in C with libyaml: with libyaml 0.2.5 (PyYAML
    6.0.3's) a file nested 100,000 levels deep crashes the whole process with a
    segmentation fault, which no ``except`` can catch (0.2.6 stops at 1,000 levels). The
    parser under it is iterative, so walking its events is safe whatever the version,
    and the walk stops at the first level too many. Aliases are refused because Atelier
    never writes one and they let a few bytes expand exponentially once the data is
    validated or rendered.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_YAML_EVENTS):
            if isinstance(event, yaml.AliasEvent):
                raise UnreadableDataFile("YAML aliases (*name) are not allowed in a package")
            if isinstance(event, _OPENS):
                depth += 1
                if depth > MAX_NESTING:
                    raise UnreadableDataFile(f"nested deeper than {MAX_NESTING} levels")
            elif isinstance(event, _CLOSES):
                depth -= 1
    except yaml.YAMLError as error:
        raise UnreadableDataFile(f"not valid YAML: {error}") from None


def _check_storable(data: Any) -> None:
    """Refuse values that parsed but cannot be stored as they are (see the module's
    docstring), naming where they are: the same check as every free-form API field."""
    try:
        check_json(data, max_depth=MAX_NESTING)
    except JsonFault as fault:
        raise UnreadableDataFile(f"{fault.path or '(root)'}: {fault.problem}") from None
