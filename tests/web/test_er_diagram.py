"""The ER diagram: every entity and relationship drawn, valid XML, text escaped, a
deterministic layout sized to the model, for 1 to 40 entities."""

from __future__ import annotations

import copy
import itertools
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from atelier.packs.sdp.datamodel import DataModel, Entity, EntityField, Relationship
from atelier.packs.sdp.er_diagram import MAX_FIELDS, layout, render_svg
from tests.sdp.examples import DATA_MODEL

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


def model(entities: int, relationships: list[tuple[int, int, str]] | None = None) -> DataModel:
    def entity(i: int) -> dict[str, Any]:
        fields = [{"name": "id", "type": "uuid", "required": True, "description": "Primary key"}]
        fields += [
            {"name": f"field{j}", "type": "string", "required": j % 2 == 0, "description": ""}
            for j in range(i % 7)
        ]
        fields.append({"name": "parentId", "type": "uuid", "required": False, "description": "FK"})
        return {"name": f"Thing{i}", "description": f"Thing number {i}", "fields": fields}

    rels = relationships
    if rels is None:
        rels = [(i // 2, i, "one-to-many") for i in range(1, entities)]
    return DataModel.model_validate(
        {
            "entities": [entity(i) for i in range(entities)],
            "relationships": [
                {
                    "from": f"Thing{a}",
                    "to": f"Thing{b}",
                    "type": kind,
                    "foreignKey": "parentId",
                    "description": f"{a} to {b}",
                }
                for a, b, kind in rels
            ],
        }
    )


def test_the_example_model_is_drawn_whole() -> None:
    data_model = DataModel.model_validate(DATA_MODEL)
    root = parse(render_svg(data_model))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "er-title er-desc"
    assert root.find(f"{SVG}title") is not None
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    entities = groups(root, "er-entity")
    assert [g.get("data-entity") for g in entities] == [e["name"] for e in DATA_MODEL["entities"]]
    for g, entity in zip(entities, DATA_MODEL["entities"], strict=True):
        text = "".join(g.itertext())
        assert entity["name"] in text
        for item in entity["fields"]:
            assert item["name"] in text and item["type"] in text
        assert entity["name"] in desc.text
    rels = groups(root, "er-rel")
    assert [(g.get("data-from"), g.get("data-to")) for g in rels] == [
        (r["from"], r["to"]) for r in DATA_MODEL["relationships"]
    ]
    for g in rels:
        assert g.find(f"{SVG}polyline") is not None
        assert g.find(f"{SVG}title") is not None


def test_keys_required_fields_and_cardinality_are_marked() -> None:
    root = parse(render_svg(DataModel.model_validate(DATA_MODEL)))
    task = next(g for g in groups(root, "er-entity") if g.get("data-entity") == "Task")
    texts = ["".join(t.itertext()) for t in task.iter(f"{SVG}text")]
    assert "PK" in texts and texts[texts.index("PK") + 1] == "id*: uuid"
    assert "FK" in texts and "projectId*: uuid" in texts
    assert "assigneeId: uuid" in texts  # optional: no star
    labels = ["".join(t.itertext()) for g in groups(root, "er-rel") for t in g.iter(f"{SVG}text")]
    assert set(labels) == {"1", "N"}
    title = next(
        g.find(f"{SVG}title") for g in groups(root, "er-rel") if g.get("data-to") == "Task"
    )
    assert title is not None and title.text is not None
    assert title.text.startswith("Project 1—N Task (one-to-many, key projectId)")


def test_every_line_runs_orthogonally_between_box_edges() -> None:
    data_model = DataModel.model_validate(DATA_MODEL)
    plan = layout(data_model)
    root = parse(render_svg(data_model))
    for g in groups(root, "er-rel"):
        line = g.find(f"{SVG}polyline")
        assert line is not None
        points = [tuple(map(float, p.split(","))) for p in str(line.get("points")).split()]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2  # no diagonal segment
        start, end = plan.boxes[str(g.get("data-from"))], plan.boxes[str(g.get("data-to"))]
        assert points[0][0] in (start.x, start.x + plan.box_width)
        assert points[-1][0] in (end.x, end.x + plan.box_width)
        # Inner points stay outside every box: lines run in the gaps.
        for x, y in points[1:-1]:
            for box in plan.boxes.values():
                inside = box.x < x < box.x + plan.box_width and box.y < y < box.y + box.height
                assert not inside, (g.get("data-from"), g.get("data-to"), box.entity.name)


def test_text_is_escaped() -> None:
    hostile = copy.deepcopy(DATA_MODEL)
    hostile["entities"][0]["description"] = 'A <script>alert("x")</script> & co \x07'
    hostile["entities"][0]["fields"][1]["type"] = "enum(a<b,c&d)"
    hostile["relationships"][0]["description"] = "</title><g onload='x'>"
    svg = render_svg(DataModel.model_validate(hostile), id_prefix='x"><script>')
    assert "<script>" not in svg and "<g onload" not in svg
    root = parse(svg)  # still well-formed XML
    entity = groups(root, "er-entity")[0]
    title = entity.find(f"{SVG}title")
    assert title is not None and title.text == 'User: A <script>alert("x")</script> & co '
    assert "enum(a<b,c&d)" in "".join(entity.itertext())
    # Names cannot hold markup by the model's rules; the renderer escapes them anyway.
    raw = DataModel.model_construct(
        entities=[
            Entity.model_construct(
                name="A<&>",
                description="",
                fields=[
                    EntityField.model_construct(
                        name='f"<', type="string", required=True, description=""
                    )
                ],
            )
        ],
        relationships=[
            Relationship.model_construct(
                from_="A<&>", to="A<&>", type="one-to-many", foreign_key='f"<', description=""
            )
        ],
    )
    root = parse(render_svg(raw))
    assert groups(root, "er-entity")[0].get("data-entity") == "A<&>"
    assert groups(root, "er-rel")[0].get("data-from") == "A<&>"


@pytest.mark.parametrize("count", [1, 2, 3, 7, 12, 25, 40])
def test_any_size_from_1_to_40_entities(count: int) -> None:
    data_model = model(count)
    svg = render_svg(data_model)
    root = parse(svg)
    assert len(groups(root, "er-entity")) == count
    assert len(groups(root, "er-rel")) == count - 1
    plan = layout(data_model)
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert float(str(root.get("width"))) == pytest.approx(plan.width)
    # Boxes inside the drawing and apart from each other.
    boxes = list(plan.boxes.values())
    for box in boxes:
        assert box.x > 0 and box.x + plan.box_width < plan.width
        assert box.y > 0 and box.y + box.height < plan.height
    for a in boxes:
        for b in boxes:
            if a is not b:
                apart = (
                    a.x + plan.box_width <= b.x
                    or b.x + plan.box_width <= a.x
                    or a.y + a.height <= b.y
                    or b.y + b.height <= a.y
                )
                assert apart
    assert svg == render_svg(data_model)  # deterministic


def test_sizes_follow_the_model() -> None:
    small, large = layout(model(2)), layout(model(40))
    assert small.columns == 2 and small.rows == 1
    assert large.columns == 6 and large.rows == 7
    assert large.width > small.width and large.height > small.height


def test_self_relationships_many_to_many_and_long_entities() -> None:
    data_model = model(3, [(0, 0, "one-to-many"), (1, 2, "many-to-many")])
    long = data_model.entities[1].model_copy(
        update={
            "fields": [
                EntityField(name=f"f{i}", type="string", required=True, description="")
                for i in range(MAX_FIELDS + 5)
            ]
        }
    )
    data_model = data_model.model_copy(
        update={"entities": [data_model.entities[0], long, data_model.entities[2]]}
    )
    root = parse(render_svg(data_model))
    assert len(groups(root, "er-rel")) == 2
    text = "".join(groups(root, "er-entity")[1].itertext())
    assert "… 5 more fields" in text
    many = groups(root, "er-rel")[1]
    assert ["".join(t.itertext()) for t in many.iter(f"{SVG}text")] == ["N", "N"]


def test_relationships_to_unknown_entities_are_left_out() -> None:
    data = copy.deepcopy(DATA_MODEL)
    data["relationships"].append(
        {
            "from": "Task",
            "to": "Ghost",
            "type": "one-to-many",
            "foreignKey": "taskId",
            "description": "",
        }
    )
    root = parse(render_svg(DataModel.model_validate(data)))
    assert len(groups(root, "er-rel")) == len(DATA_MODEL["relationships"])


def _gutter_segments(root: ET.Element) -> list[tuple[int, float, float, float, float]]:
    """Every line's segments inside gutters (all but the stubs at the boxes), with the
    line's number."""
    out = []
    for n, g in enumerate(groups(root, "er-rel")):
        line = g.find(f"{SVG}polyline")
        assert line is not None
        points = [tuple(map(float, p.split(","))) for p in str(line.get("points")).split()]
        for (x1, y1), (x2, y2) in itertools.pairwise(points[1:-1]):
            out.append((n, x1, y1, x2, y2))
    return out


def _on_top(s: tuple[int, float, float, float, float], t: tuple[int, ...]) -> bool:
    """Whether two segments lie on the same line and share more than a point."""
    _, sx1, sy1, sx2, sy2 = s
    _, tx1, ty1, tx2, ty2 = t
    if sx1 == sx2 == tx1 == tx2:  # both vertical, same x
        low, high = max(min(sy1, sy2), min(ty1, ty2)), min(max(sy1, sy2), max(ty1, ty2))
        return high - low > 1
    if sy1 == sy2 == ty1 == ty2:  # both horizontal, same y
        low, high = max(min(sx1, sx2), min(tx1, tx2)), min(max(sx1, sx2), max(tx1, tx2))
        return high - low > 1
    return False


@pytest.mark.parametrize(
    "count, rels",
    [
        # a hub that every other entity refers to, and links skipping a column
        (
            12,
            [(0, i, "one-to-many") for i in range(1, 12)]
            + [(i, i + 2, "many-to-one") for i in range(1, 10)],
        ),
        # everything in one column: all lines share one gutter
        (1, [(0, 0, "one-to-many"), (0, 0, "one-to-one")]),
        (9, [(i, j, "one-to-many") for i in range(9) for j in range(9) if (i + j) % 4 == 1]),
    ],
)
def test_lines_sharing_a_gutter_never_run_on_top_of_each_other(
    count: int, rels: list[tuple[int, int, str]]
) -> None:
    data_model = model(count, rels)
    plan = layout(data_model)
    root = parse(render_svg(data_model))
    segments = _gutter_segments(root)
    clashes = [
        (s, t) for s, t in itertools.combinations(segments, 2) if s[0] != t[0] and _on_top(s, t)
    ]
    assert clashes == []
    # Lanes stay inside the drawing.
    for _, x1, y1, x2, y2 in segments:
        assert min(x1, x2) >= 0 and max(x1, x2) <= plan.width
        assert min(y1, y2) >= 0 and max(y1, y2) <= plan.height


def test_ends_at_facing_boxes_do_not_join_into_one_line() -> None:
    """A line leaving one box's right side and a line reaching the next box's left side
    at the same row must not meet in the gutter: that would draw a relationship between
    those two boxes that the model does not have."""
    data_model = DataModel.model_validate(DATA_MODEL)
    root = parse(render_svg(data_model))
    stubs = []  # (line, box edge x, y, gutter end x)
    for n, g in enumerate(groups(root, "er-rel")):
        line = g.find(f"{SVG}polyline")
        assert line is not None
        points = [tuple(map(float, p.split(","))) for p in str(line.get("points")).split()]
        stubs += [(n, *points[0], points[1][0]), (n, *points[-1], points[-2][0])]
    for (n, x1, y1, gx1), (m, x2, y2, gx2) in itertools.combinations(stubs, 2):
        if n == m or x1 == x2 or y1 != y2:
            continue  # the same line, the same box edge (a shared end), or apart
        low1, high1 = sorted((x1, gx1))
        low2, high2 = sorted((x2, gx2))
        assert min(high1, high2) < max(low1, low2), (n, m, y1)
