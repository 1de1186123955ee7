"""The data model as an entity-relationship diagram: a self-contained SVG, drawn on the
server so that it needs no script, looks the same everywhere and can be tested as XML.

Layout is a deterministic grid in the model's own order (the order the author gave the
entities, which the reader recognises). Relationship lines are orthogonal and run only
through the gaps between boxes ("gutters"), so a line never crosses a box whatever the
grid position of its ends. Once every line is routed, each stretch of a line inside a
gutter gets a lane (an offset from the gutter's middle) that no other line overlapping it
there has, so that lines never run on top of each other while the gutter has room. A
line ends at the foreign-key row on the side that holds the key and at the primary-key
row on the other side, with the cardinality (1 or N) written next to each end.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from atelier.packs.sdp.datamodel import DataModel, Entity, Relationship, key_holder

# Geometry, in SVG user units (px at 100%).
HEADER = 30  # entity name band
ROW = 18  # one field
PAD = 8  # inside a box
MARK = 24  # the PK/FK column
HGAP = 96  # between columns: vertical gutters
VGAP = 72  # between rows: horizontal gutters
MARGIN = HGAP // 2 + 12  # outer gutters, wide enough for their lanes
LEGEND = 24
MIN_WIDTH, MAX_WIDTH = 180, 320
MAX_COLUMNS = 6
MAX_FIELDS = 24  # more are summarised as "… N more fields"
MONO_CHAR = 7.3  # width of a 12px monospace character
HEAD_CHAR = 8.2  # average width of a 13px bold sans character
LANE_STEP = 7
SIDE_NUDGE = 3  # see _nudged

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif'
MONO = 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace'
INK, MUTED, LINE = "#1d2330", "#5b6576", "#7b8794"
HEAD_FILL, BOX_STROKE, KEY = "#e8eefc", "#9fb3e8", "#2347a8"

CARDINALITY = {
    "one-to-one": ("1", "1"),
    "one-to-many": ("1", "N"),
    "many-to-one": ("N", "1"),
    "many-to-many": ("N", "N"),
}
# Characters XML 1.0 does not allow even escaped: stripped from free text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return html.escape(_NOT_XML.sub("", value), quote=True)


def _fit(value: str, chars: int) -> str:
    return value if len(value) <= chars else value[: max(chars - 1, 1)] + "…"


@dataclass(slots=True)
class FieldRow:
    name: str
    type: str
    required: bool
    mark: str  # "PK", "FK" or ""


@dataclass(slots=True)
class Box:
    entity: Entity
    column: int
    row: int
    x: float = 0
    y: float = 0
    rows: list[FieldRow] = field(default_factory=list)
    hidden: int = 0  # fields not shown

    @property
    def height(self) -> float:
        extra = 1 if self.hidden else 0
        return HEADER + ROW * (len(self.rows) + extra) + PAD

    def row_y(self, name: str | None) -> float:
        """The middle of a field's row; the header's middle for no (or a hidden) field."""
        for i, row in enumerate(self.rows):
            if row.name == name:
                return self.y + HEADER + ROW * i + ROW / 2 + 2
        return self.y + HEADER / 2


@dataclass(slots=True)
class Layout:
    boxes: dict[str, Box]
    columns: int
    rows: int
    box_width: float
    col_x: list[float]
    row_y: list[float]
    row_height: list[float]
    width: float
    height: float

    def gutter_x(self, boundary: int) -> float:
        """x of the vertical gutter left of column ``boundary`` (``columns``: the right
        margin)."""
        if boundary >= self.columns:
            return self.col_x[-1] + self.box_width + HGAP / 2
        return self.col_x[boundary] - HGAP / 2

    def gutter_y(self, boundary: int) -> float:
        """y of the horizontal gutter above row ``boundary`` (``rows``: the bottom margin)."""
        if boundary >= self.rows:
            return self.row_y[-1] + self.row_height[-1] + VGAP / 2
        return self.row_y[boundary] - VGAP / 2


# ----------------------------------------------------------------------------- fields
def _key_fields(model: DataModel) -> dict[str, set[str]]:
    """Entity → the fields that are foreign keys of a relationship it holds."""
    keys: dict[str, set[str]] = defaultdict(set)
    for rel in model.relationships:
        holder = key_holder(rel)
        if holder is not None:
            keys[holder[0]].add(rel.foreign_key)
    return keys


def _primary_key(entity: Entity) -> str | None:
    names = [f.name for f in entity.fields]
    return "id" if "id" in names else (names[0] if names else None)


def _field_rows(entity: Entity, foreign: set[str]) -> list[FieldRow]:
    primary = _primary_key(entity)
    rows = []
    for item in entity.fields:
        if item.name == primary and item.name == "id":
            mark = "PK"
        elif item.name in foreign or item.description.strip().upper().startswith("FK"):
            mark = "FK"
        else:
            mark = ""
        rows.append(FieldRow(item.name, item.type, item.required, mark))
    return rows


def _line_text(row: FieldRow) -> str:
    return f"{row.name}{'*' if row.required else ''}: {row.type}"


# ----------------------------------------------------------------------------- layout
def _columns(count: int) -> int:
    # A little wider than square: screens are landscape, and wide rows keep lines short.
    return max(1, min(MAX_COLUMNS, math.ceil(math.sqrt(count * 1.5)), count))


def _box_width(model: DataModel) -> float:
    widest = 0.0
    for entity in model.entities:
        widest = max(widest, len(entity.name) * HEAD_CHAR + 2 * PAD)
        for item in entity.fields[:MAX_FIELDS]:
            line = f"{item.name}*: {item.type}"
            widest = max(widest, len(line) * MONO_CHAR + 2 * PAD + MARK)
    return float(min(MAX_WIDTH, max(MIN_WIDTH, math.ceil(widest))))


def layout(model: DataModel) -> Layout:
    """Where every entity goes: a grid, rows as tall as their tallest box."""
    columns = _columns(len(model.entities))
    rows = math.ceil(len(model.entities) / columns)
    width = _box_width(model)
    foreign = _key_fields(model)
    boxes: dict[str, Box] = {}
    for i, entity in enumerate(model.entities):
        if entity.name in boxes:  # a duplicate name: the first one is drawn
            continue
        all_rows = _field_rows(entity, foreign.get(entity.name, set()))
        boxes[entity.name] = Box(
            entity,
            column=i % columns,
            row=i // columns,
            rows=all_rows[:MAX_FIELDS],
            hidden=max(0, len(all_rows) - MAX_FIELDS),
        )
    row_height = [0.0] * rows
    for box in boxes.values():
        row_height[box.row] = max(row_height[box.row], box.height)
    col_x = [MARGIN + c * (width + HGAP) for c in range(columns)]
    row_y = []
    y = float(MARGIN)
    for height in row_height:
        row_y.append(y)
        y += height + VGAP
    for box in boxes.values():
        box.x, box.y = col_x[box.column], row_y[box.row]
    total_width = 2 * MARGIN + columns * width + (columns - 1) * HGAP
    total_height = y - VGAP + MARGIN + LEGEND
    return Layout(boxes, columns, rows, width, col_x, row_y, row_height, total_width, total_height)


# ------------------------------------------------------------------------------ lines
@dataclass(slots=True)
class Edge:
    relationship: Relationship
    points: list[tuple[float, float]]
    labels: list[tuple[float, float, str, str]]  # x, y, anchor, text


class _Ends:
    """Line ends that meet a box at the same spot: lines with the same cardinality there
    merge into one end with one label (the usual fan-in at a primary key); a different
    cardinality is moved a few px aside so that its label stays readable."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, float], list[str]] = defaultdict(list)

    def place(self, entity: str, side: str, y: float, text: str) -> tuple[float, bool]:
        """The end's y and whether it needs its own label."""
        texts = self.seen[(entity, side, y)]
        if text in texts:
            return y + (0, -5, 5, -10, 10)[texts.index(text) % 5], False
        texts.append(text)
        return y + (0, -5, 5, -10, 10)[(len(texts) - 1) % 5], True


def _ends(rel: Relationship) -> tuple[str | None, str | None]:
    """The field each end of the line attaches to: foreign key on the holder, primary
    key on the other side (many-to-many: both headers, the keys are in a join table)."""
    holder = key_holder(rel)
    if holder is None:
        return None, None
    if holder[0] == rel.from_:
        return rel.foreign_key, "id"
    return "id", rel.foreign_key


def _label(x: float, y: float, side: str, text: str) -> tuple[float, float, str, str]:
    if side == "right":
        return x + 5, y - 4, "start", text
    return x - 5, y - 4, "end", text


GutterKey = tuple[str, int]  # ("v", boundary): a vertical gutter; ("h", boundary): horizontal


@dataclass(slots=True)
class Run:
    """The stretch of one line inside one gutter, from ``points[index]`` to
    ``points[index + 1]``. Its lane (the offset from the gutter's middle) is chosen once
    every line is routed, so that lines sharing a stretch of gutter stay apart."""

    gutter: GutterKey
    index: int
    offset: float = 0.0


@dataclass(slots=True)
class Route:
    points: list[tuple[float, float]]
    a_side: str
    b_side: str
    runs: list[Run]


def _route(plan: Layout, a: Box, b: Box, ya: float, yb: float) -> Route:
    """Orthogonal points from box a to box b through the middles of the gutters, the
    sides used, and the runs in gutters (lanes are added later by :func:`_assign_lanes`)."""
    w = plan.box_width
    if a is b:  # a relationship of an entity with itself: a loop on its right side
        x = a.x + w
        loop = x + 18
        yb = yb if yb != ya else a.y + HEADER / 2
        points = [(x, ya), (loop, ya), (loop, yb), (x, yb)]
        return Route(points, "right", "right", [Run(("loop", a.column + 1), 1)])
    if a.column == b.column:
        # Down or up the gutter beside the column; the left one for the last column of
        # a multi-column grid, keeping lines off the outer margin.
        side = "left" if a.column == plan.columns - 1 and plan.columns > 1 else "right"
        boundary = a.column + 1 if side == "right" else a.column
        x_side = a.x + w if side == "right" else a.x
        gx = plan.gutter_x(boundary)
        points = [(x_side, ya), (gx, ya), (gx, yb), (x_side, yb)]
        return Route(points, side, side, [Run(("v", boundary), 1)])
    forward = b.column > a.column
    a_side, b_side = ("right", "left") if forward else ("left", "right")
    ax = a.x + w if forward else a.x
    bx = b.x if forward else b.x + w
    boundary_a = a.column + 1 if forward else a.column
    boundary_b = b.column if forward else b.column + 1
    gxa, gxb = plan.gutter_x(boundary_a), plan.gutter_x(boundary_b)
    if abs(b.column - a.column) == 1:  # the same gutter: no need to leave it
        points = [(ax, ya), (gxa, ya), (gxa, yb), (bx, yb)]
        return Route(points, a_side, b_side, [Run(("v", boundary_a), 1)])
    # Across other columns: along the horizontal gutter next to a's row, toward b.
    row_boundary = a.row if b.row < a.row else a.row + 1
    gy = plan.gutter_y(row_boundary)
    points = [(ax, ya), (gxa, ya), (gxa, gy), (gxb, gy), (gxb, yb), (bx, yb)]
    runs = [Run(("v", boundary_a), 1), Run(("h", row_boundary), 2), Run(("v", boundary_b), 3)]
    return Route(points, a_side, b_side, runs)


def _lane_offsets(low: float, high: float) -> list[float]:
    """Lane offsets from a gutter's middle, nearest first, that stay ``low`` below and
    ``high`` above it at most."""
    offsets = [0.0]
    step = LANE_STEP
    while step <= max(low, high):
        offsets += [float(o) for o in (step, -step) if -low <= o <= high]
        step += LANE_STEP
    return offsets


def _gutter_room(plan: Layout, gutter: GutterKey) -> tuple[float, float]:
    """How far a lane may move below and above the middle of a gutter (with the edges
    of the drawing, and the legend at the bottom, as the outer limits)."""
    kind, boundary = gutter
    if kind == "loop":  # outward only, from 18 px right of the box
        limit = plan.col_x[boundary] if boundary < plan.columns else plan.width
        return 0.0, max(0.0, limit - (plan.col_x[boundary - 1] + plan.box_width + 18) - 8)
    if kind == "v":
        middle = plan.gutter_x(boundary)
        before = plan.col_x[boundary - 1] + plan.box_width if boundary > 0 else 0.0
        after = plan.col_x[boundary] if boundary < plan.columns else plan.width
    else:
        middle = plan.gutter_y(boundary)
        before = plan.row_y[boundary - 1] + plan.row_height[boundary - 1] if boundary else 0.0
        after = plan.row_y[boundary] if boundary < plan.rows else plan.height - LEGEND - 8
    return max(0.0, middle - before - 8), max(0.0, after - middle - 8)


def _span(route: Route, run: Run) -> tuple[float, float]:
    """Where the run lies along its gutter."""
    (x1, y1), (x2, y2) = route.points[run.index], route.points[run.index + 1]
    low, high = (y1, y2) if run.gutter[0] != "h" else (x1, x2)
    return min(low, high), max(low, high)


def _assign_lanes(plan: Layout, routes: list[Route]) -> None:
    """Give every run a lane no overlapping run in the same gutter has (interval
    colouring, greedy by start, which uses the fewest lanes); a gutter with more
    overlapping lines than lanes shares its lanes round-robin."""
    by_gutter: dict[GutterKey, list[tuple[float, float, Run]]] = defaultdict(list)
    for route in routes:
        for run in route.runs:
            by_gutter[run.gutter].append((*_span(route, run), run))
    for gutter, runs in by_gutter.items():
        offsets = _lane_offsets(*_gutter_room(plan, gutter))
        busy_until: list[float] = []  # per lane: where its last run ends
        for low, high, run in sorted(runs, key=lambda r: (r[0], r[1])):
            free = [lane for lane, end in enumerate(busy_until) if end + LANE_STEP < low]
            lane = free[0] if free else len(busy_until)
            if lane == len(busy_until):
                busy_until.append(high)
            busy_until[lane] = max(busy_until[lane], high)
            run.offset = offsets[lane % len(offsets)]
    for route in routes:
        for run in route.runs:
            dx, dy = (0.0, run.offset) if run.gutter[0] == "h" else (run.offset, 0.0)
            for j in (run.index, run.index + 1):
                x, y = route.points[j]
                route.points[j] = (x + dx, y + dy)


def _nudged(y: float, side: str) -> float:
    """Ends on the right side of one box and on the left side of the next box in a row
    (primary keys are all on the first row) would meet in the gutter between them at
    one height and read as one line between those boxes: they sit a little apart."""
    return y + (SIDE_NUDGE if side == "right" else -SIDE_NUDGE)


def edges(model: DataModel, plan: Layout) -> list[Edge]:
    ends = _Ends()
    drawn: list[tuple[Relationship, Route, list[tuple[float, float, str, str]]]] = []
    for rel in model.relationships:
        a, b = plan.boxes.get(rel.from_), plan.boxes.get(rel.to)
        if a is None or b is None:  # validation reports it; nothing to draw between
            continue
        field_a, field_b = _ends(rel)
        route = _route(plan, a, b, a.row_y(field_a), b.row_y(field_b))
        points = route.points
        one, other = CARDINALITY.get(rel.type, ("", ""))
        ya, label_a = ends.place(
            a.entity.name, route.a_side, _nudged(points[0][1], route.a_side), one
        )
        yb, label_b = ends.place(
            b.entity.name, route.b_side, _nudged(points[-1][1], route.b_side), other
        )
        # The end segments stay horizontal: their inner points move with the ends.
        points[0], points[1] = (points[0][0], ya), (points[1][0], ya)
        points[-1], points[-2] = (points[-1][0], yb), (points[-2][0], yb)
        labels = []
        if label_a:
            labels.append(_label(points[0][0], ya, route.a_side, one))
        if label_b:
            labels.append(_label(points[-1][0], yb, route.b_side, other))
        drawn.append((rel, route, labels))
    _assign_lanes(plan, [route for _, route, _ in drawn])
    return [Edge(rel, route.points, labels) for rel, route, labels in drawn]


# ------------------------------------------------------------------------------ drawing
def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _draw_edge(edge: Edge) -> str:
    rel = edge.relationship
    one, other = CARDINALITY.get(rel.type, ("?", "?"))
    title = f"{rel.from_} {one}—{other} {rel.to} ({rel.type}, key {rel.foreign_key})"
    if rel.description:
        title += f": {rel.description}"
    points = " ".join(f"{_num(x)},{_num(y)}" for x, y in edge.points)
    labels = "".join(
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="11" '
        f'font-weight="700" fill="{KEY}">{_text(text)}</text>'
        for x, y, anchor, text in edge.labels
    )
    return (
        f'<g class="er-rel" data-from="{_text(rel.from_)}" data-to="{_text(rel.to)}" '
        f'data-type="{_text(rel.type)}"><title>{_text(title)}</title>'
        f'<polyline points="{points}" fill="none" stroke="{LINE}" stroke-width="1.5" '
        f'stroke-linejoin="round"/>{labels}</g>'
    )


def _draw_field(box: Box, i: int, row: FieldRow, chars: int) -> str:
    y = box.y + HEADER + ROW * i + ROW / 2 + 6
    mark = (
        f'<text x="{_num(box.x + PAD)}" y="{_num(y)}" font-size="10" font-weight="700" '
        f'fill="{KEY}">{row.mark}</text>'
        if row.mark
        else ""
    )
    name = _fit(row.name, chars)
    rest = _fit(f": {row.type}", max(chars - len(name) - (1 if row.required else 0), 2))
    required = f'<tspan fill="{KEY}">*</tspan>' if row.required else ""
    return (
        f'{mark}<text x="{_num(box.x + PAD + MARK)}" y="{_num(y)}" font-family="{_text(MONO)}" '
        f'font-size="12" fill="{INK}">{_text(name)}{required}'
        f'<tspan fill="{MUTED}">{_text(rest)}</tspan></text>'
    )


def _draw_box(box: Box, width: float) -> str:
    entity = box.entity
    chars = int((width - 2 * PAD - MARK) / MONO_CHAR)
    parts = [
        f'<g class="er-entity" data-entity="{_text(entity.name)}">',
        f"<title>{_text(entity.name)}: {_text(entity.description)}</title>",
        f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(width)}" '
        f'height="{_num(box.height)}" rx="8" fill="#ffffff" stroke="{BOX_STROKE}"/>',
        f'<path d="M{_num(box.x)},{_num(box.y + HEADER)} v-{HEADER - 8} '
        f'a8,8 0 0 1 8,-8 h{_num(width - 16)} a8,8 0 0 1 8,8 v{HEADER - 8} z" '
        f'fill="{HEAD_FILL}" stroke="{BOX_STROKE}"/>',
        f'<text x="{_num(box.x + PAD)}" y="{_num(box.y + 20)}" font-size="13" '
        f'font-weight="700" fill="{INK}">'
        f"{_text(_fit(entity.name, int((width - 2 * PAD) / HEAD_CHAR)))}</text>",
    ]
    parts += [_draw_field(box, i, row, chars) for i, row in enumerate(box.rows)]
    if box.hidden:
        y = box.y + HEADER + ROW * len(box.rows) + ROW / 2 + 6
        parts.append(
            f'<text x="{_num(box.x + PAD + MARK)}" y="{_num(y)}" font-size="11" '
            f'font-style="italic" fill="{MUTED}">… {box.hidden} more fields</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def describe(model: DataModel) -> str:
    """The diagram in words, for screen readers (the SVG's <desc>)."""
    names = ", ".join(e.name for e in model.entities)
    count = len(model.entities)
    text = f"{count} {'entity' if count == 1 else 'entities'}: {names}."
    rels = [f"{r.from_} {r.type} {r.to} (key {r.foreign_key})" for r in model.relationships]
    if rels:
        text += f" {len(rels)} relationship{'s' if len(rels) != 1 else ''}: " + "; ".join(rels)
        text += "."
    else:
        text += " No relationships."
    return text


def _legend(plan: Layout) -> str:
    y = plan.height - MARGIN / 2 - 4
    return (
        f'<text x="{_num(MARGIN - 40)}" y="{_num(y)}" font-size="11" fill="{MUTED}">'
        f'<tspan font-weight="700" fill="{KEY}">PK</tspan> primary key · '
        f'<tspan font-weight="700" fill="{KEY}">FK</tspan> foreign key · '
        f'<tspan fill="{KEY}">*</tspan> required · 1 / N cardinality at each end</text>'
    )


def render_svg(model: DataModel, *, id_prefix: str = "er", title: str | None = None) -> str:
    """The whole diagram as an ``<svg>`` element (no XML declaration: it is embedded)."""
    plan = layout(model)
    heading = title or "Entity-relationship diagram of the data model"
    lines: Iterable[str] = (_draw_edge(e) for e in edges(model, plan))
    boxes = (_draw_box(b, plan.box_width) for b in plan.boxes.values())
    prefix = _text(id_prefix)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="er-svg" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" '
        f'width="{_num(plan.width)}" height="{_num(plan.height)}" '
        f'viewBox="0 0 {_num(plan.width)} {_num(plan.height)}" '
        f'font-family="{_text(FONT)}">'
        f'<title id="{prefix}-title">{_text(heading)}</title>'
        f'<desc id="{prefix}-desc">{_text(describe(model))}</desc>'
        f"{''.join(lines)}{''.join(boxes)}{_legend(plan)}</svg>"
    )
