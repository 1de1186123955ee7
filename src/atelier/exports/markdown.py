"""Markdown for artifacts and projects, driven by the tools' JSON schemas.

There is no per-tool code here: an output is walked together with its tool's output schema
(``title``/``description`` of each property, ``$ref`` resolved into ``$defs``, optional
values unwrapped from ``anyOf``). Scalars become "**Label:** value" (or paragraphs when
long), lists of strings bullet lists, lists of flat objects tables, nested objects
sub-headings and anything deeper nested lists. A tool that needs its own layout overrides
``Tool.render_markdown``.

Every value is escaped so that it reads as the text it is: a risk that starts with "#" does
not become a heading and a "|" does not split a table cell.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from atelier.exports.document import ExportArtifact, ExportProject

if TYPE_CHECKING:
    from pydantic import BaseModel

    from atelier.ai.tools import Tool

Schema = dict[str, Any]

# The double diamond, in the order a project goes through it; other phases follow.
PHASE_ORDER = ("discover", "define", "develop", "deliver")
# A string longer than this reads better as its own paragraph under a label.
LONG_TEXT = 90
# Past this many columns a table no longer fits a portrait page; rows become lists.
MAX_TABLE_COLUMNS = 6
# Objects nested deeper than this under an artifact become nested lists, not headings.
MAX_SECTION_DEPTH = 2
# Fields whose value names an item, used as its heading in a list of objects.
NAME_KEYS = ("name", "title", "label", "heading")
# The heading of an artifact's inputs; the PDF prints what follows it smaller.
INPUTS_HEADING = "Inputs"
CHECKS_HEADING = "Checks"

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_MARKER = re.compile(r"^([#+\-=])")
_ORDERED_MARKER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_SLUG_DROP = re.compile(r"[^\w\- ]")
_ATX_HEADING = re.compile(r"^(#{1,6})(\s.*|)$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


# --- text ----------------------------------------------------------------------------------


def escape_inline(text: str) -> str:
    """One line of literal text as Markdown (whitespace, newlines included, collapsed)."""
    text = " ".join(text.split())
    text = _ENTITY.sub(r"\\&", _INLINE_SPECIAL.sub(r"\\\1", text))
    # Only at the start of a line do these open a block (heading, list, setext underline).
    text = _LINE_MARKER.sub(r"\\\1", text)
    return _ORDERED_MARKER.sub(r"\1\\\2", text)


def escape_block(text: str) -> list[str]:
    """Literal multi-line text as Markdown paragraphs; single line breaks are kept (hard)."""
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [escape_inline(line) for line in chunk.splitlines() if line.strip()]
        if lines:
            # A trailing backslash is CommonMark's hard line break.
            paragraphs.append("\\\n".join(lines))
    return paragraphs


def _heading_text(text: str) -> str:
    # "#" is escaped everywhere in a heading: a trailing " #" would be read as its closing.
    return escape_inline(text).replace("#", "\\#")


def humanize(key: str) -> str:
    """``next_steps`` → "Next steps"; the label of a field the schema does not title."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ")
    # Acronyms (API, URL) keep their capitals; other words are lower case after the first.
    words = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in spaced.split())
    return words[:1].upper() + words[1:] if words else key


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_empty(value: Any) -> bool:
    """Nothing to show: None, blank text, or containers of only such values."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(_is_empty(v) for v in value)
    if isinstance(value, dict):
        return all(_is_empty(v) for v in value.values())
    return False


def _format_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


class Slugger:
    """Heading anchors as GitHub makes them (lower case, punctuation dropped, spaces to
    hyphens, "-1", "-2" for repeats), so a Markdown table of contents links on GitHub and in
    our PDF alike. One instance per document, fed every heading in document order."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._repeats: dict[str, int] = {}

    def slug(self, text: str) -> str:
        base = _SLUG_DROP.sub("", " ".join(text.split()).lower()).replace(" ", "-") or "section"
        candidate = base
        while candidate in self._taken:
            self._repeats[base] = self._repeats.get(base, 0) + 1
            candidate = f"{base}-{self._repeats[base]}"
        self._taken.add(candidate)
        return candidate


# --- schemas ---------------------------------------------------------------------------------


_MISSING: Any = object()


def _lookup(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#"):
        return {}  # external references are not followed: exports never fetch anything
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return {}
    return node if isinstance(node, dict) else {}


def _fits(schema: Schema, value: Any) -> bool:
    kind = schema.get("type")
    if isinstance(value, dict):
        return kind == "object" or "properties" in schema
    if isinstance(value, list):
        return kind == "array" or "items" in schema
    if isinstance(value, bool):
        return kind == "boolean"
    if isinstance(value, int | float):
        return kind in ("integer", "number")
    if isinstance(value, str):
        return kind == "string" or "enum" in schema or "const" in schema
    return False


def resolve(node: Schema | None, root: Schema, value: Any = _MISSING) -> Schema:
    """A property's schema with ``$ref`` followed and unions narrowed to the branch that fits
    ``value`` (``Optional[X]`` to X). The property's own keys (title, description) win."""
    node = dict(node or {})
    for _ in range(32):  # a bound: a malformed, self-referencing schema must not loop
        if "$ref" in node:
            own = {k: v for k, v in node.items() if k != "$ref"}
            node = {**_lookup(root, str(node["$ref"])), **own}
            continue
        union = node.get("anyOf") or node.get("oneOf")
        if isinstance(union, list) and union:
            own = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            node = {**_pick_branch(union, root, value), **own}
            continue
        every = node.get("allOf")
        if isinstance(every, list) and len(every) == 1 and isinstance(every[0], dict):
            own = {k: v for k, v in node.items() if k != "allOf"}
            node = {**every[0], **own}
            continue
        break
    return node


def _pick_branch(branches: list[Any], root: Schema, value: Any) -> Schema:
    candidates = [b for b in branches if isinstance(b, dict) and b.get("type") != "null"]
    if not candidates:
        return {}
    if value is not _MISSING:
        for branch in candidates:
            if _fits(resolve(branch, root), value):
                return dict(branch)
    return dict(candidates[0])


def _properties(schema: Schema) -> dict[str, Schema]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


def _label(key: str, prop: Schema) -> str:
    # The property's own title only: a $ref's target title is a class name ("RiskItem").
    title = prop.get("title")
    return title.strip() if isinstance(title, str) and title.strip() else humanize(key)


def _description(prop: Schema) -> str | None:
    text = prop.get("description")
    return text.strip() if isinstance(text, str) and text.strip() else None


@functools.cache
def _model_schema(model: type[BaseModel]) -> Schema:
    return model.model_json_schema()


def _input_schema(tool: Tool | None) -> Schema | None:
    return _model_schema(tool.input_model) if tool is not None else None


# --- writer ----------------------------------------------------------------------------------


class _Writer:
    """Markdown blocks (separated by blank lines) and the anchors of the headings written."""

    def __init__(self, slugger: Slugger) -> None:
        self.blocks: list[str] = []
        self.slugger = slugger

    def text(self) -> str:
        return "\n\n".join(self.blocks) + "\n"

    def heading(self, level: int, text: str) -> str | None:
        """Write a heading and return its anchor; past h6, a bold line (no anchor)."""
        text = " ".join(text.split()) or "Untitled"
        if level > 6:
            self.blocks.append(f"**{escape_inline(text)}**")
            return None
        self.blocks.append(f"{'#' * level} {_heading_text(text)}")
        return self.slugger.slug(text)

    def label(self, text: str, description: str | None) -> None:
        line = f"**{escape_inline(text)}**"
        if description:
            line += f" — *{escape_inline(description)}*"
        self.blocks.append(line)

    def raw(self, markdown: str, level: int) -> None:
        """A tool's own Markdown: its headings shifted under ``level`` and given anchors."""
        lines, fenced = [], False
        for line in markdown.strip().splitlines():
            if _FENCE.match(line):
                fenced = not fenced
            elif not fenced and (match := _ATX_HEADING.match(line)):
                depth = min(len(match.group(1)) + level, 6)
                line = "#" * depth + match.group(2)
                self.slugger.slug(match.group(2).strip().rstrip("#").strip())
            lines.append(line)
        self.blocks.append("\n".join(lines))

    # Values, walked with their schema.

    def title(self, level: int, label: str, description: str | None, section: bool) -> None:
        """A value's label: a heading for a section, else a bold line."""
        if not section:
            self.label(label, description)
            return
        self.heading(level, label)
        if description:
            self.blocks.append(f"*{escape_inline(description)}*")

    def fields(
        self, data: dict[str, Any], schema: Schema, root: Schema, level: int, depth: int
    ) -> None:
        """Each non-empty field of an object, in schema order then unknown keys. Objects and
        lists of objects become headed sections, written after the plain fields: a plain
        field after a section would read as part of it."""
        props = _properties(schema)
        keys = [k for k in props if k in data] + [k for k in data if k not in props]
        can_head = depth < MAX_SECTION_DEPTH and level <= 6
        plain: list[str] = []
        sections: list[str] = []
        for key in keys:
            value = data[key]
            if _is_empty(value):
                continue
            structured = isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(v, dict) for v in value)
            )
            (sections if can_head and structured else plain).append(key)
        for key in plain + sections:
            prop = props.get(key, {})
            value = data[key]
            self.field(
                _label(key, prop),
                value,
                resolve(prop, root, value),
                root,
                level,
                depth,
                _description(prop),
                section=key in sections,
            )

    def field(
        self,
        label: str,
        value: Any,
        schema: Schema,
        root: Schema,
        level: int,
        depth: int,
        description: str | None = None,
        *,
        section: bool = False,
    ) -> None:
        if _is_scalar(value):
            text = _scalar_text(value)
            if len(text) > LONG_TEXT or "\n" in text.strip():
                self.label(label, None)
                self.blocks.extend(escape_block(text))
            else:
                self.blocks.append(f"**{escape_inline(label)}:** {escape_inline(text)}")
        elif isinstance(value, dict):
            self.title(level, label, description, section)
            if section:
                self.fields(value, schema, root, level + 1, depth + 1)
            else:
                self.blocks.append("\n".join(_bullets(value, schema, root, 0)))
        elif isinstance(value, list):
            self.sequence(label, value, schema, root, level, depth, description, section)
        else:
            self.blocks.append(f"**{escape_inline(label)}:** {escape_inline(str(value))}")

    def sequence(
        self,
        label: str,
        items: list[Any],
        schema: Schema,
        root: Schema,
        level: int,
        depth: int,
        description: str | None,
        section: bool,
    ) -> None:
        items = [item for item in items if not _is_empty(item)]
        if not items:
            return
        item_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        self.title(level, label, description, section)
        if all(isinstance(item, dict) for item in items):
            resolved = resolve(item_schema, root, items[0])
            columns = _table_columns(items, resolved)
            if columns is not None and len(columns) <= MAX_TABLE_COLUMNS:
                if columns:  # no column has a value: nothing to tabulate
                    self.blocks.append(_table(items, columns, resolved, root))
                return
            if section and level < 6:
                # Items too rich for a table row: a heading each, named after the item.
                for number, item in enumerate(items, 1):
                    name_key = _name_key(item)
                    heading = str(item[name_key]) if name_key else f"{label} {number}"
                    self.heading(level + 1, heading)
                    rest = {k: v for k, v in item.items() if k != name_key}
                    item_fields = resolve(item_schema, root, item)
                    self.fields(rest, item_fields, root, level + 2, depth + 2)
                return
        lines: list[str] = []
        for number, item in enumerate(items, 1):
            item_fields = resolve(item_schema, root, item)
            lines.extend(_item_bullets(item, label, number, item_fields, root, 0))
        self.blocks.append("\n".join(lines))


# --- lists and tables -------------------------------------------------------------------------


def _name_key(item: dict[str, Any]) -> str | None:
    for key in NAME_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value.strip() and len(value) <= 120:
            return key
    return None


def _bullets(data: dict[str, Any], schema: Schema, root: Schema, indent: int) -> list[str]:
    """An object as a nested bullet list, one "**Label:** value" bullet per field."""
    pad = " " * indent
    props = _properties(schema)
    lines: list[str] = []
    keys = [k for k in props if k in data] + [k for k in data if k not in props]
    for key in keys:
        value = data[key]
        if _is_empty(value):
            continue
        prop = props.get(key, {})
        label = escape_inline(_label(key, prop))
        sub = resolve(prop, root, value)
        if _is_scalar(value):
            lines.append(f"{pad}- **{label}:** {escape_inline(_scalar_text(value))}")
        elif isinstance(value, list) and all(_is_scalar(v) for v in value):
            lines.append(f"{pad}- **{label}:** {_joined(value)}")
        else:
            lines.append(f"{pad}- **{label}**")
            if isinstance(value, dict):
                lines.extend(_bullets(value, sub, root, indent + 2))
            else:
                item_schema = sub.get("items") if isinstance(sub.get("items"), dict) else {}
                for number, item in enumerate(value, 1):
                    if not _is_empty(item):
                        item_sub = resolve(item_schema, root, item)
                        lines.extend(
                            _item_bullets(
                                item, _label(key, prop), number, item_sub, root, indent + 2
                            )
                        )
    return lines


def _item_bullets(
    item: Any, label: str, number: int, schema: Schema, root: Schema, indent: int
) -> list[str]:
    """One item of a list as a bullet; an object's fields nest under its name."""
    pad = " " * indent
    if _is_scalar(item):
        return [f"{pad}- {escape_inline(_scalar_text(item))}"]
    if isinstance(item, list):
        return (
            [f"{pad}- {_joined(item)}"]
            if all(_is_scalar(v) for v in item)
            else [
                line
                for sub_number, sub in enumerate(item, 1)
                for line in _item_bullets(sub, label, sub_number, {}, root, indent)
            ]
        )
    if isinstance(item, dict):
        name_key = _name_key(item)
        title = (
            escape_inline(str(item[name_key])) if name_key else f"{escape_inline(label)} {number}"
        )
        rest = {k: v for k, v in item.items() if k != name_key}
        return [f"{pad}- **{title}**", *_bullets(rest, schema, root, indent + 2)]
    return [f"{pad}- {escape_inline(str(item))}"]


def _joined(values: Iterable[Any]) -> str:
    return "; ".join(escape_inline(_scalar_text(v)) for v in values if not _is_empty(v))


def _cell_flat(value: Any) -> bool:
    if _is_scalar(value):
        return True
    if isinstance(value, list):
        return all(_is_scalar(v) for v in value)
    if isinstance(value, dict):
        return all(
            _is_scalar(v) or (isinstance(v, list) and all(map(_is_scalar, v)))
            for v in value.values()
        )
    return False


def _table_columns(items: Sequence[dict[str, Any]], schema: Schema) -> list[str] | None:
    """The columns of a table of these items (schema order, then unknown keys, empty ones
    dropped), or None when an item holds more than a cell can show."""
    if not all(_cell_flat(v) for item in items for v in item.values()):
        return None
    keys = list(_properties(schema))
    for item in items:
        keys.extend(k for k in item if k not in keys)
    return [k for k in keys if any(not _is_empty(item.get(k)) for item in items)]


def _cell(value: Any, schema: Schema, root: Schema) -> str:
    if _is_empty(value):
        return ""
    if _is_scalar(value):
        return escape_inline(_scalar_text(value))
    if isinstance(value, list):
        return _joined(value)
    props = _properties(schema)
    parts = []
    for key, sub in value.items():
        if not _is_empty(sub):
            text = _joined(sub) if isinstance(sub, list) else escape_inline(_scalar_text(sub))
            parts.append(f"{escape_inline(_label(key, props.get(key, {})))}: {text}")
    return "; ".join(parts)


def _table(
    items: Sequence[dict[str, Any]], columns: list[str], schema: Schema, root: Schema
) -> str:
    props = _properties(schema)
    numeric = [
        all(
            isinstance(item.get(k), int | float) and not isinstance(item.get(k), bool)
            for item in items
            if not _is_empty(item.get(k))
        )
        for k in columns
    ]
    header = "| " + " | ".join(escape_inline(_label(k, props.get(k, {}))) for k in columns) + " |"
    rule = "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"
    rows = []
    for item in items:
        cells = []
        for key in columns:
            value = item.get(key)
            sub = resolve(props.get(key, {}), root, value) if not _is_empty(value) else {}
            cells.append(_cell(value, sub, root))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows])


# --- artifacts and projects -------------------------------------------------------------------


def _artifact_meta(artifact: ExportArtifact) -> str:
    parts = [artifact.tool_title or humanize(artifact.tool_key)]
    if artifact.phase:
        parts.append(f"phase {humanize(artifact.phase).lower()}")
    parts.append(f"status {artifact.status}")
    if artifact.version is not None:
        by = f" ({artifact.generated_by})" if artifact.generated_by else ""
        parts.append(f"version {artifact.version}{by}")
    parts.append(f"updated {_format_time(artifact.updated_at)}")
    return "*" + escape_inline(" · ".join(parts)) + "*"


def _write_artifact(out: _Writer, artifact: ExportArtifact, level: int) -> str | None:
    anchor = out.heading(level, artifact.name)
    out.blocks.append(_artifact_meta(artifact))
    tool, output = artifact.tool, artifact.output_data
    schema = artifact.output_schema or (tool.output_schema() if tool is not None else {})
    if output is None or _is_empty(output):
        out.blocks.append("*No output yet: this artifact has not been generated.*")
    elif not isinstance(output, dict):  # stored JSON that is not an object (hand-edited)
        out.field("Output", output, resolve(schema, schema, output), schema, level + 1, 0)
    elif isinstance(custom := tool.render_markdown(output) if tool else None, str):
        out.raw(custom, level)
    else:
        out.fields(output, resolve(schema, schema), schema, level + 1, 0)
    _write_checks(out, artifact.quality, level + 1)
    inputs = artifact.input_data or {}
    if any(not _is_empty(v) for v in inputs.values()):
        out.heading(level + 1, INPUTS_HEADING)
        schema = artifact.input_schema or _input_schema(tool) or {}
        out.fields(inputs, resolve(schema, schema), schema, level + 2, 1)
    return anchor


def _write_checks(out: _Writer, quality: dict[str, Any] | None, level: int) -> None:
    """What the quality checks still found in the output, one line per finding."""
    if quality is None:
        return
    findings = quality.get("findings") or []
    out.heading(level, CHECKS_HEADING)
    if not findings:
        out.blocks.append("*The quality checks found nothing.*")
        return
    lines = []
    for finding in findings:
        path, message, rule = (str(finding.get(k, "")) for k in ("path", "message", "rule"))
        lines.append(f"- `{path}`: {escape_inline(message)} (`{rule}`)")
    out.blocks.append("\n".join(lines))


def artifact_markdown(a: ExportArtifact, *, level: int = 1) -> str:
    """One artifact: its name as a heading of ``level``, a metadata line, the output (or a
    note that there is none yet), then its inputs."""
    out = _Writer(Slugger())
    _write_artifact(out, a, level)
    return out.text()


def output_markdown(title: str, output: dict[str, Any], schema: Schema) -> str:
    """A bare output as a document: ``title`` as the level-1 heading, then its fields."""
    out = _Writer(Slugger())
    out.heading(1, title)
    out.fields(output, resolve(schema, schema), schema, 2, 0)
    return out.text()


def _phase_groups(artifacts: Iterable[ExportArtifact]) -> list[tuple[str, list[ExportArtifact]]]:
    """Artifacts by phase: the double diamond's four in order, other phases by name, then
    those with none. Order within a phase is the caller's."""
    groups: dict[str | None, list[ExportArtifact]] = {}
    for artifact in artifacts:
        phase = (artifact.phase or "").strip().lower() or None
        groups.setdefault(phase, []).append(artifact)
    known = [p for p in PHASE_ORDER if p in groups]
    others = sorted(p for p in groups if p is not None and p not in PHASE_ORDER)
    ordered: list[tuple[str, list[ExportArtifact]]] = [
        (humanize(p), groups[p]) for p in known + others
    ]
    if None in groups:
        ordered.append(("Other" if ordered else "Artifacts", groups[None]))
    return ordered


def project_markdown(p: ExportProject) -> str:
    """A whole project: title, description, a metadata line, a table of contents, then the
    artifacts under one level-1 heading per phase (discover, define, develop, deliver,
    then others), each artifact a level-2 heading."""
    slugger = Slugger()
    head, body = _Writer(slugger), _Writer(slugger)
    head.heading(1, p.name)
    if p.description and p.description.strip():
        head.blocks.extend(escape_block(p.description))
    meta = [f"pack {p.pack}"]
    if p.phase:
        meta.append(f"phase {humanize(p.phase).lower()}")
    if p.owner_name:
        meta.append(f"owner {p.owner_name}")
    count = len(p.artifacts)
    meta.append(f"{count} artifact{'' if count == 1 else 's'}")
    meta.append(f"exported {_format_time(p.exported_at)}")
    head.blocks.append("*" + escape_inline(" · ".join(meta)) + "*")
    if not p.artifacts:
        head.blocks.append("*This project has no artifacts yet.*")
        return head.text()

    head.heading(2, "Contents")
    toc: list[str] = []
    for phase, artifacts in _phase_groups(p.artifacts):
        toc.append(f"- [{escape_inline(phase)}](#{body.heading(1, phase)})")
        for artifact in artifacts:
            anchor = _write_artifact(body, artifact, 2)
            toc.append(f"  - [{escape_inline(artifact.name or 'Untitled')}](#{anchor})")
    head.blocks.append("\n".join(toc))
    return head.text() + "\n" + body.text()
