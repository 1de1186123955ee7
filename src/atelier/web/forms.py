"""HTML forms from JSON schemas, and posted forms back into JSON.

A tool's input (or output) model is the only description of its form: ``build_fields``
walks the model's JSON schema (``$ref`` followed into ``$defs``, ``Optional`` unwrapped
from ``anyOf``) and returns a tree of ``FormField`` that ``templates/forms/fields.html``
renders; ``parse_form`` walks the same schema over the posted names and rebuilds the JSON.
Validation stays with the models: ``errors_from_detail`` / ``validate_model`` turn their
errors into plain messages (``form_messages``) keyed by the form names, so each shows next
to its field.

Form names follow the data's path: ``offering``, ``known_jobs[0]``,
``customer_profile.customer_jobs[1].job``. Indices may have gaps (rows removed in the
browser); parsing keeps the order and closes them.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from atelier.core.strict_json import check_json
from atelier.exports.markdown import humanize
from atelier.web.form_messages import plain_error, plain_message

Schema = dict[str, Any]
FormValues = Mapping[str, Sequence[str]]

# Above this many characters a string gets a textarea. The packs bound one-line values
# (names, list entries) at 300 and prose at 1000+, so this splits them cleanly.
LONG_TEXT_CHARS = 300
# Descriptions that ask for prose rather than a phrase.
_LONG_HINT = re.compile(
    r"\b(sentences?|paragraphs?|notes|in detail|describe|background|evidence|context)\b", re.I
)
_STRING_INPUT_TYPES = {"email": "email", "uri": "url"}
# Dates are typed as the app writes them (2026-12-07): a browser's date input would show
# them in the reader's locale instead (07/12/2026 or 12/07/2026), so a text input that
# shows the form to follow.
_DATE_PLACEHOLDERS = {"date": "YYYY-MM-DD", "date-time": "YYYY-MM-DD HH:MM"}
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
# The one field of a form whose schema has no properties (free-form JSON).
ROOT_FIELD = "data"


class _Missing:
    """Nothing posted for a field: the key is left out and the model's default applies."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class RawText(str):
    """What was typed into a JSON field that does not parse: shown again as it was."""


class Kind(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    SELECT = "select"
    CHECKBOX = "checkbox"
    CHOICES = "choices"  # an array of enum values: one checkbox per value
    LIST = "list"  # an array of scalars: repeatable inputs
    RECORDS = "records"  # an array of objects: repeatable fieldsets
    GROUP = "group"  # a nested object: a fieldset
    JSON = "json"  # anything else: JSON in a textarea


@dataclass(slots=True)
class FormField:
    name: str
    label: str
    kind: Kind
    hint: str | None = None
    required: bool = False
    value: Any = None
    error: str | None = None
    input_type: str = "text"
    attrs: dict[str, Any] = field(default_factory=dict)
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[FormField] = field(default_factory=list)
    # Arrays: an empty item whose name holds ``placeholder`` where its index goes; the
    # page script copies it when a row is added.
    prototype: FormField | None = None
    placeholder: str = ""
    item_label: str = ""
    next_index: int = 0
    min_items: int | None = None
    max_items: int | None = None

    @property
    def id(self) -> str:
        return "f-" + _ID_UNSAFE.sub("-", self.name).strip("-")

    @property
    def text_value(self) -> str:
        """The value as an input shows it."""
        if self.value is None or self.value is MISSING:
            return ""
        if self.kind == Kind.JSON and not isinstance(self.value, RawText):
            return json.dumps(self.value, indent=2, ensure_ascii=False)
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    @property
    def shown_hint(self) -> str | None:
        """The hint, unless the error says the same ("At least 8 characters." twice
        would be read twice by a screen reader, and looks like a glitch)."""
        if self.hint and self.error and _same_words(self.hint, self.error):
            return None
        return self.hint

    @property
    def selected(self) -> set[str]:
        """Choices and selects: the option values that are on."""
        values = self.value if isinstance(self.value, list) else [self.value]
        return {_option_value(v) for v in values if v is not None and v is not MISSING}

    def walk(self) -> Iterable[FormField]:
        yield self
        for child in self.children:
            yield from child.walk()


# --- schemas ---------------------------------------------------------------------------------


def _same_words(a: str, b: str) -> bool:
    return a.strip().rstrip(".").casefold() == b.strip().rstrip(".").casefold()


def _lookup(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        return {}  # only local references: a form never fetches a schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = (
            node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
        )
    return node if isinstance(node, dict) else {}


def normalize(prop: Schema | None, root: Schema) -> tuple[Schema, bool]:
    """A property's schema with ``$ref``/``allOf`` merged in and ``anyOf``/``oneOf`` with
    ``null`` unwrapped; the flag says whether null is allowed. The property's own keys
    (title, description, default) win over the referenced ones."""
    node, nullable = dict(prop or {}), False
    for _ in range(32):  # a bound: a self-referencing schema must not loop
        if "$ref" in node:
            own = {k: v for k, v in node.items() if k != "$ref"}
            node = {**_lookup(root, str(node["$ref"])), **own}
            continue
        union = node.get("anyOf") or node.get("oneOf")
        if isinstance(union, list):
            branches = [b for b in union if isinstance(b, dict)]
            real = [b for b in branches if b.get("type") != "null"]
            nullable = nullable or len(real) < len(branches)
            own = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            if len(real) == 1:
                node = {**real[0], **own}
                continue
            # A real union (str | int, two object shapes): JSON is the honest input.
            return {**own, "x-form-json": True}, nullable
        every = node.get("allOf")
        if isinstance(every, list) and len(every) == 1 and isinstance(every[0], dict):
            own = {k: v for k, v in node.items() if k != "allOf"}
            node = {**every[0], **own}
            continue
        break
    if isinstance(node.get("type"), list):  # {"type": ["string", "null"]}
        types = [t for t in node["type"] if t != "null"]
        nullable = nullable or len(types) < len(node["type"])
        node = {**node, "type": types[0] if len(types) == 1 else None}
    return node, nullable


def _properties(schema: Schema) -> dict[str, Schema]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _kind(schema: Schema) -> Kind:
    if schema.get("x-form-json"):
        return Kind.JSON
    if "enum" in schema or "const" in schema:
        return Kind.SELECT
    kind = schema.get("type")
    if kind == "string":
        return Kind.TEXTAREA if _is_long(schema) else Kind.TEXT
    if kind in ("integer", "number"):
        return Kind.NUMBER
    if kind == "boolean":
        return Kind.CHECKBOX
    if kind == "object" and _properties(schema):
        return Kind.GROUP
    return Kind.JSON


def _array_kind(items: Schema) -> Kind:
    inner = _kind(items)
    if inner == Kind.SELECT:
        return Kind.CHOICES
    if inner in (Kind.TEXT, Kind.TEXTAREA, Kind.NUMBER):
        return Kind.LIST
    if inner == Kind.GROUP:
        return Kind.RECORDS
    return Kind.JSON


def _is_long(schema: Schema) -> bool:
    limit = schema.get("maxLength")
    if isinstance(limit, int) and limit > LONG_TEXT_CHARS:
        return True
    if limit is None and schema.get("format") is None:
        return bool(_LONG_HINT.search(str(schema.get("description") or "")))
    return False


def _label(key: str, prop: Schema) -> str:
    # pydantic titles every field "Known Jobs"; a title set by hand is kept as written.
    title = prop.get("title")
    auto = key.replace("_", " ").title()
    if isinstance(title, str) and title.strip() and title != auto:
        return title.strip()
    return humanize(key)


def _hint(prop: Schema, resolved: Schema) -> str | None:
    text = prop.get("description") or resolved.get("description")
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    return text[0].upper() + text[1:]


def _option_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _options(schema: Schema) -> list[tuple[str, str]]:
    values = schema["enum"] if isinstance(schema.get("enum"), list) else [schema.get("const")]
    return [(_option_value(v), humanize(str(v)) if isinstance(v, str) else str(v)) for v in values]


def _item_title(items: Schema, label: str) -> str:
    """What one entry of a list of objects is called: its model's title ("Customer job";
    a class name such as "JourneyStage" reads "Journey stage"), else "<label> item"."""
    title = items.get("title")
    if not isinstance(title, str) or not title.strip():
        return f"{label} item"
    return title.strip() if " " in title.strip() else humanize(title.strip())


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def name_of(path: Sequence[str | int]) -> str:
    """("stages", 0, "stage") → "stages[0].stage"."""
    name = ""
    for part in path:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            name += f"[{int(part)}]"
        else:
            name = join(name, str(part))
    return name


# --- building fields ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    root: Schema
    errors: Mapping[str, str]


def build_fields(
    schema: Schema,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[FormField]:
    """The fields of an object schema, filled with ``values`` and ``errors`` (by name)."""
    node, _ = normalize(schema, schema)
    ctx = _Context(root=schema, errors=errors or {})
    if _kind(node) != Kind.GROUP:
        # Not an object with properties (free-form data): one JSON field for all of it.
        return [
            FormField(
                name=ROOT_FIELD,
                label="Data",
                kind=Kind.JSON,
                value=values,
                error=ctx.errors.get(ROOT_FIELD),
            )
        ]
    return _object_fields(node, dict(values or {}), ctx, prefix="", depth=0)


def _object_fields(
    node: Schema, values: Mapping[str, Any], ctx: _Context, *, prefix: str, depth: int
) -> list[FormField]:
    required = set(node.get("required") or [])
    return [
        _field(key, prop, values.get(key, MISSING), ctx, join(prefix, key), key in required, depth)
        for key, prop in _properties(node).items()
    ]


def _field(
    key: str, prop: Schema, value: Any, ctx: _Context, name: str, required: bool, depth: int
) -> FormField:
    resolved, nullable = normalize(prop, ctx.root)
    if value is MISSING:
        value = resolved.get("default")
    out = FormField(
        name=name,
        label=_label(key, prop),
        kind=_kind(resolved),
        hint=_hint(prop, resolved),
        required=required and not nullable,
        value=value,
        error=ctx.errors.get(name),
    )
    if resolved.get("type") == "array" and not resolved.get("x-form-json"):
        _array(out, resolved, ctx, depth)
    else:
        _scalar(out, resolved, ctx, depth)
    return out


def _scalar(out: FormField, schema: Schema, ctx: _Context, depth: int) -> None:
    if out.kind in (Kind.TEXT, Kind.TEXTAREA):
        out.input_type = _STRING_INPUT_TYPES.get(str(schema.get("format")), "text")
        if (placeholder := _DATE_PLACEHOLDERS.get(str(schema.get("format")))) is not None:
            out.attrs["placeholder"] = placeholder
        for key, attr in (("maxLength", "maxlength"), ("minLength", "minlength")):
            if isinstance(schema.get(key), int):
                out.attrs[attr] = schema[key]
    elif out.kind == Kind.NUMBER:
        out.attrs["step"] = 1 if schema.get("type") == "integer" else "any"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if isinstance(schema.get(key), int | float):
                out.attrs[attr] = schema[key]
    elif out.kind == Kind.SELECT:
        out.options = _options(schema)
    elif out.kind == Kind.GROUP:
        values = out.value if isinstance(out.value, dict) else {}
        out.children = _object_fields(schema, values, ctx, prefix=out.name, depth=depth)


def _array(out: FormField, schema: Schema, ctx: _Context, depth: int) -> None:
    items, _ = normalize(
        schema.get("items") if isinstance(schema.get("items"), dict) else {}, ctx.root
    )
    out.kind = _array_kind(items)
    out.min_items = schema.get("minItems") if isinstance(schema.get("minItems"), int) else None
    out.max_items = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else None
    out.required = out.required or bool(out.min_items)
    if out.kind == Kind.CHOICES:
        out.options = _options(items)
        return
    if out.kind == Kind.JSON:
        return
    values = out.value if isinstance(out.value, list) else []
    out.placeholder = f"__I{depth}__"
    out.item_label = _item_title(items, out.label) if out.kind == Kind.RECORDS else out.label
    out.children = [_item(out, items, v, ctx, str(i), depth) for i, v in enumerate(values)]
    if not out.children and (out.kind == Kind.LIST or out.min_items):
        # One empty row to type into (blank rows are dropped when the form is read).
        out.children = [_item(out, items, MISSING, ctx, "0", depth)]
    out.next_index = len(out.children)
    out.prototype = _item(out, items, MISSING, ctx, out.placeholder, depth)


def _item(
    parent: FormField, items: Schema, value: Any, ctx: _Context, index: str, depth: int
) -> FormField:
    name = f"{parent.name}[{index}]"
    number = str(int(index) + 1) if index.isdigit() else ""
    item = FormField(
        name=name,
        label=f"{parent.item_label} {number}".strip(),
        kind=Kind.GROUP if parent.kind == Kind.RECORDS else _kind(items),
        value=None if value is MISSING else value,
        error=ctx.errors.get(name),
    )
    if item.kind == Kind.GROUP:
        data = value if isinstance(value, dict) else {}
        item.children = _object_fields(items, data, ctx, prefix=name, depth=depth + 1)
    else:
        _scalar(item, items, ctx, depth + 1)
    return item


# --- reading a posted form ----------------------------------------------------------------------


def form_values(items: Iterable[tuple[str, Any]]) -> dict[str, list[str]]:
    """Posted (name, value) pairs as name → values; files are ignored."""
    out: dict[str, list[str]] = {}
    for name, value in items:
        if isinstance(value, str):
            out.setdefault(name, []).append(value)
    return out


def parse_form(schema: Schema, form: FormValues) -> tuple[Any, dict[str, str]]:
    """The JSON a posted form stands for, and problems found reading it (JSON that does not
    parse), by field name. Blank optional fields are left out, blank rows dropped. A schema
    without properties is one JSON field, "data": what was typed comes back as it was when
    it is not a JSON object."""
    node, _ = normalize(schema, schema)
    reader = _Reader(schema, form)
    if _kind(node) != Kind.GROUP:
        value = reader.json_value(ROOT_FIELD, nullable=False)
        if value is MISSING:
            return {}, reader.problems
        if not isinstance(value, dict) and ROOT_FIELD not in reader.problems:
            reader.problems[ROOT_FIELD] = "Must be a JSON object: {…}."
            value = RawText(reader.first(ROOT_FIELD) or "")
        return value, reader.problems
    return reader.object(node, ""), reader.problems


class _Reader:
    def __init__(self, root: Schema, form: FormValues) -> None:
        self.root = root
        self.form = form
        self.problems: dict[str, str] = {}

    def first(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None

    def object(self, node: Schema, prefix: str) -> dict[str, Any]:
        required = set(node.get("required") or [])
        out: dict[str, Any] = {}
        for key, prop in _properties(node).items():
            resolved, nullable = normalize(prop, self.root)
            value = self.value(resolved, nullable, join(prefix, key), key in required)
            if value is not MISSING:
                out[key] = value
        return out

    def value(self, schema: Schema, nullable: bool, name: str, required: bool) -> Any:
        kind = _kind(schema)
        if schema.get("type") == "array" and not schema.get("x-form-json"):
            return self.array(schema, name)
        if kind == Kind.GROUP:
            data = self.object(schema, name)
            if not required and is_blank(data):
                return None if nullable else MISSING
            return data
        if kind == Kind.CHECKBOX:
            return name in self.form
        if kind == Kind.JSON:
            return self.json_value(name, nullable)
        return self.scalar(schema, kind, self.first(name), nullable)

    def scalar(self, schema: Schema, kind: Kind, raw: str | None, nullable: bool) -> Any:
        if raw is None or not raw.strip():
            return None if nullable else MISSING
        if kind == Kind.SELECT:
            return _enum_value(schema, raw)
        if kind == Kind.NUMBER:
            return _number(raw, integer=schema.get("type") == "integer")
        return raw

    def json_value(self, name: str, nullable: bool) -> Any:
        raw = self.first(name)
        if raw is None or not raw.strip():
            return None if nullable else MISSING
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            self.problems[name] = f"Not valid JSON: {error.msg} (line {error.lineno})."
            return RawText(raw)  # kept, so that the page shows what was typed

    def array(self, schema: Schema, name: str) -> Any:
        items, _ = normalize(
            schema.get("items") if isinstance(schema.get("items"), dict) else {}, self.root
        )
        kind = _array_kind(items)
        if kind == Kind.CHOICES:
            return [_enum_value(items, raw) for raw in self.form.get(name, [])]
        if kind == Kind.JSON:
            whole = self.json_value(name, nullable=False)
            return [] if whole is MISSING else whole
        out: list[Any] = []
        for index in self.indices(name, records=kind == Kind.RECORDS):
            item_name = f"{name}[{index}]"
            if kind == Kind.RECORDS:
                value: Any = self.object(items, item_name)
            else:
                value = self.scalar(items, _kind(items), self.first(item_name), nullable=False)
            if not is_blank(value):
                out.append(value)
        return out

    def indices(self, name: str, *, records: bool) -> list[int]:
        tail = r"(?:$|[.\[])" if records else "$"
        pattern = re.compile(re.escape(name) + r"\[(\d+)\]" + tail)
        found = {int(m.group(1)) for key in self.form if (m := pattern.match(key))}
        return sorted(found)


def _enum_value(schema: Schema, raw: str) -> Any:
    """The enum member a posted option stands for (enums may hold numbers or booleans)."""
    values = schema.get("enum") if "enum" in schema else [schema.get("const")]
    for value in values or []:
        if _option_value(value) == raw:
            return value
    return raw  # not an option: the model says so


_INTEGER = re.compile(r"[+-]?\d+")


def _number(raw: str, *, integer: bool) -> Any:
    """A typed number; what does not read as one is passed on as typed, for the model to
    reject and the page to show again."""
    text = raw.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    if integer:
        return int(number) if number.is_integer() else text
    return number


def is_blank(value: Any) -> bool:
    """Nothing filled in: missing, None, blank text, False, or containers of only those."""
    if value is MISSING or value is None or value is False:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(is_blank(v) for v in value)
    if isinstance(value, dict):
        return all(is_blank(v) for v in value.values())
    return False


# --- errors --------------------------------------------------------------------------------------


def errors_from_detail(detail: Any, prefix: str) -> dict[str, str]:
    """An API 422 detail (``[{"field": "body.input_data.known_jobs.2", "message": …}]``) as
    messages by form name (``known_jobs[2]``); errors about the whole object under ``""``."""
    out: dict[str, str] = {}
    if isinstance(detail, str):
        return {"": detail}
    for entry in detail if isinstance(detail, list) else []:
        where = str(entry.get("field", ""))
        if where == prefix:
            name = ""
        elif where.startswith(prefix + "."):
            name = name_of(where[len(prefix) + 1 :].split("."))
        else:
            name = ""
        message = str(entry.get("message", "is not valid"))
        _add(out, name, plain_message(str(entry.get("type", "")), message))
    return out


def validate_model(
    model: type[BaseModel], data: Any
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The data as ``model`` makes it (JSON-ready), or its errors by form name."""
    try:
        return model.model_validate(data).model_dump(mode="json"), {}
    except ValidationError as error:
        out: dict[str, str] = {}
        for entry in error.errors():
            _add(out, name_of([p for p in entry["loc"]]), plain_error(entry))
        return None, out


def _add(errors: dict[str, str], name: str, message: str) -> None:
    errors[name] = f"{errors[name]} {message}" if name in errors else message


def attach_errors(
    fields: Iterable[FormField], errors: Mapping[str, str]
) -> list[tuple[str, str, str | None]]:
    """Every error as (label, message, id of its field or None), in form order then the
    rest: the summary at the top of a form links each to its field."""
    known: dict[str, FormField] = {}
    for top in fields:
        for item in top.walk():
            known[item.name] = item
    ordered = [n for n in known if n in errors] + [n for n in errors if n not in known]
    out: list[tuple[str, str, str | None]] = []
    for name in ordered:
        target = known.get(name)
        label = target.label if target else name
        out.append((label, errors[name], target.id if target else None))
    return out


def json_object(text: str) -> dict[str, Any] | None:
    """A typed JSON object ({} when the field is empty); None when it is not one (the
    free-form ``metadata`` of a project and ``preferences`` of a user)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
        check_json(value)
    except (ValueError, RecursionError):
        # JsonFault is a ValueError: big integers, NaN, lone surrogates, deep nesting.
        return None
    return value if isinstance(value, dict) else None
