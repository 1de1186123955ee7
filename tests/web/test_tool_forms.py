"""Forms from JSON schemas (atelier.web.forms) without a browser: schema → fields → the
HTML the page renders → what a browser would post → JSON again, for every strategy tool's
input and output model, plus the corner cases the strategy models do not have."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from atelier.ai.tools import load_tools
from atelier.web.forms import (
    FormField,
    Kind,
    attach_errors,
    build_fields,
    errors_from_detail,
    form_values,
    is_blank,
    name_of,
    parse_form,
    validate_model,
)
from atelier.web.templating import env
from tests.packs.strategy_examples import INPUTS, OUTPUTS

STRATEGY_TOOLS = sorted(t.key for t in load_tools().all() if t.pack == "strategy")
_MACRO = env.from_string(
    '{% import "forms/fields.html" as forms %}{% for f in fields %}{{ forms.field(f) }}{% endfor %}'
)


def render(fields: list[FormField]) -> str:
    return _MACRO.render(fields=fields)


class _Browser(HTMLParser):
    """What a browser posts for a form: successful controls in document order, nothing
    from inside <template> (rows not added yet)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self._template = 0
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "template":
            self._template += 1
        if self._template:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "reset"):
                self.pairs.append((name, a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = (name, [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value") or "", "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._template -= 1
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._textarea[1])
            self.pairs.append((self._textarea[0], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected] or [options[0][0]]
            self.pairs.append((name, chosen[-1]))
            self._select = None


def post(html: str) -> dict[str, list[str]]:
    browser = _Browser()
    browser.feed(html)
    return form_values(browser.pairs)


def round_trip(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema()
    posted = post(render(build_fields(schema, data)))
    parsed, problems = parse_form(schema, posted)
    assert problems == {}
    clean, errors = validate_model(model, parsed)
    assert errors == {}, errors
    assert clean is not None
    return clean


@pytest.mark.parametrize("key", STRATEGY_TOOLS)
def test_every_strategy_input_survives_the_form(key: str) -> None:
    tool = load_tools().get(key)
    assert tool is not None
    expected = tool.input_model.model_validate(INPUTS[key]).model_dump(mode="json")
    assert round_trip(tool.input_model, INPUTS[key]) == expected


@pytest.mark.parametrize("key", STRATEGY_TOOLS)
def test_every_strategy_output_survives_the_form(key: str) -> None:
    """The human edit of an artifact uses the output model's form."""
    tool = load_tools().get(key)
    assert tool is not None
    expected = tool.output_model.model_validate(OUTPUTS[key]).model_dump(mode="json")
    assert round_trip(tool.output_model, OUTPUTS[key]) == expected


@pytest.mark.parametrize("key", STRATEGY_TOOLS)
def test_an_empty_input_form_names_each_required_field(key: str) -> None:
    tool = load_tools().get(key)
    assert tool is not None
    schema = tool.input_model.model_json_schema()
    parsed, _ = parse_form(schema, post(render(build_fields(schema))))
    _, errors = validate_model(tool.input_model, parsed)
    assert set(errors) == set(schema["required"])
    html = render(build_fields(schema, parsed, errors))
    for name in schema["required"]:
        assert f'id="f-{name}-error"' in html
        assert re.search(rf'id="f-{name}"[^>]*aria-invalid="true"', html)


def test_value_proposition_fields_by_kind() -> None:
    tool = load_tools().get("value_proposition")
    assert tool is not None
    fields = {f.name: f for f in build_fields(tool.input_model.model_json_schema())}
    assert fields["offering"].kind == Kind.TEXT and fields["offering"].required
    assert fields["offering"].label == "Offering"
    assert fields["customer_segment"].label == "Customer segment"
    assert fields["description"].kind == Kind.TEXTAREA and not fields["description"].required
    assert fields["description"].hint == "What the offering does and how, in a few sentences"
    jobs = fields["known_jobs"]
    assert jobs.kind == Kind.LIST and jobs.max_items == 12 and not jobs.required
    assert [c.name for c in jobs.children] == ["known_jobs[0]"]  # one blank row to type in
    assert jobs.prototype is not None and jobs.prototype.name == "known_jobs[__I0__]"


def test_output_form_has_fieldsets_selects_and_records() -> None:
    tool = load_tools().get("value_proposition")
    assert tool is not None
    schema = tool.output_model.model_json_schema()
    fields = {f.name: f for f in build_fields(schema, OUTPUTS["value_proposition"])}
    profile = fields["customer_profile"]
    assert profile.kind == Kind.GROUP and profile.required
    jobs = next(c for c in profile.children if c.name == "customer_profile.customer_jobs")
    assert jobs.kind == Kind.RECORDS and jobs.item_label == "Customer job"
    assert jobs.required and jobs.min_items == 1
    first = jobs.children[0]
    assert first.label == "Customer job 1"
    kind = next(c for c in first.children if c.name.endswith(".kind"))
    assert kind.kind == Kind.SELECT
    assert ("functional", "Functional") in kind.options and kind.selected == {"functional"}
    assert fields["fit"].children[-1].kind == Kind.TEXTAREA  # rationale, up to 1000 chars
    html = render(list(fields.values()))
    assert "customer_profile.customer_jobs[__I0__].job" in html  # the row template


def test_rows_removed_in_the_browser_leave_gaps_that_parsing_closes() -> None:
    tool = load_tools().get("value_proposition")
    assert tool is not None
    schema = tool.input_model.model_json_schema()
    posted = {
        "offering": ["ShedShare"],
        "customer_segment": ["Renters"],
        "known_jobs[0]": ["Hang shelves"],
        "known_jobs[3]": ["   "],
        "known_jobs[7]": ["Assemble furniture"],
        "description": [""],
    }
    parsed, problems = parse_form(schema, posted)
    assert problems == {}
    assert parsed == {
        "offering": "ShedShare",
        "customer_segment": "Renters",
        "description": None,
        "known_jobs": ["Hang shelves", "Assemble furniture"],
        "known_pains": [],
        "known_gains": [],
        "features": [],
        "alternatives": [],
    }


def test_a_row_added_from_the_template_is_read() -> None:
    tool = load_tools().get("experiment_plan")
    assert tool is not None
    schema = tool.output_model.model_json_schema()
    fields = build_fields(schema, OUTPUTS["experiment_plan"])
    experiments = next(f for f in fields if f.name == "experiments")
    assert experiments.prototype is not None
    added = render([experiments.prototype]).replace("__I0__", str(experiments.next_index))
    posted = post(render(fields) + added)
    # The new row's selects are posted empty, its texts blank: it is a blank row, dropped.
    parsed, _ = parse_form(schema, posted)
    assert len(parsed["experiments"]) == len(OUTPUTS["experiment_plan"]["experiments"])
    posted[f"experiments[{experiments.next_index}].name"] = ["Deposit test"]
    parsed, _ = parse_form(schema, posted)
    assert parsed["experiments"][-1] == {"name": "Deposit test"}
    _, errors = validate_model(tool.output_model, parsed)
    last = len(parsed["experiments"]) - 1
    assert f"experiments[{last}].hypothesis" in errors
    assert errors[f"experiments[{last}].risk"] == "Required: please fill this in."


class Address(BaseModel):
    street: str
    city: str = Field(description="the city")


class Everything(BaseModel):
    """Kinds of schema the strategy models do not use."""

    count: int = Field(ge=0, le=10)
    ratio: float | None = None
    active: bool = False
    size: Literal["s", "m", "l"] = "m"
    level: Literal[1, 2, 3] | None = None
    tags: list[Literal["red", "green", "blue"]] = Field(default_factory=list)
    scores: list[int] = Field(default_factory=list)
    home: Address
    work: Address | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    either: int | str | None = None


def test_numbers_booleans_enums_nested_objects_and_json() -> None:
    schema = Everything.model_json_schema()
    fields = {f.name: f for f in build_fields(schema)}
    assert fields["count"].kind == Kind.NUMBER
    assert fields["count"].attrs == {"step": 1, "min": 0, "max": 10}
    assert fields["ratio"].attrs == {"step": "any"}
    assert fields["active"].kind == Kind.CHECKBOX
    assert fields["size"].kind == Kind.SELECT and fields["size"].selected == {"m"}
    assert fields["level"].options == [("1", "1"), ("2", "2"), ("3", "3")]
    assert fields["tags"].kind == Kind.CHOICES
    assert fields["scores"].kind == Kind.LIST
    assert fields["home"].kind == Kind.GROUP and fields["home"].required
    assert fields["work"].kind == Kind.GROUP and not fields["work"].required
    assert fields["extra"].kind == Kind.JSON
    assert fields["either"].kind == Kind.JSON  # a real union: typed as JSON
    data = {
        "count": 3,
        "ratio": 0.5,
        "active": True,
        "size": "l",
        "level": 2,
        "tags": ["red", "blue"],
        "scores": [1, 20],
        "home": {"street": "1 Main St", "city": "Riverside"},
        "work": None,
        "extra": {"a": [1, 2]},
        "either": "x",
    }
    assert round_trip(Everything, data) == data
    off = {**data, "active": False, "tags": [], "work": {"street": "2 Side St", "city": "Old Town"}}
    assert round_trip(Everything, off) == off


def test_what_does_not_validate_is_kept_as_typed() -> None:
    schema = Everything.model_json_schema()
    posted = {
        "count": ["three"],
        "size": ["m"],
        "home.street": ["1 Main St"],
        "home.city": [""],
        "extra": ["{not json"],
        "scores[0]": ["7"],
        "scores[1]": ["x"],
    }
    parsed, problems = parse_form(schema, posted)
    assert parsed["count"] == "three" and parsed["extra"] == "{not json"
    assert parsed["scores"] == [7, "x"]
    assert problems == {
        "extra": "Not valid JSON: Expecting property name enclosed in double quotes (line 1)."
    }
    _, errors = validate_model(Everything, parsed)
    assert set(errors) >= {"count", "home.city", "scores[1]"}
    fields = build_fields(schema, parsed, {**errors, **problems})
    html = render(fields)
    assert 'value="three"' in html and "{not json</textarea>" in html
    summary = attach_errors(fields, {**errors, **problems})
    assert [label for label, _, _ in summary] == ["Count", "Scores 2", "City", "Extra"]
    assert all(target for _, _, target in summary)


def test_api_error_fields_map_to_form_names() -> None:
    # As ai_service.validate_inputs words them: pydantic's type and message.
    detail = [
        {
            "field": "body.input_data.customer_segment",
            "message": "Field required",
            "type": "missing",
        },
        {
            "field": "body.input_data.known_jobs.2",
            "message": "String should have at most 300 characters",
            "type": "string_too_long",
        },
        {"field": "body.input_data.customer_profile.customer_jobs.0.job", "message": "bad"},
        {
            "field": "body.input_data",
            "message": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        },
        {"field": "body.name", "message": "too long"},
    ]
    assert errors_from_detail(detail, "body.input_data") == {
        "customer_segment": "Required: please fill this in.",
        "known_jobs[2]": "At most 300 characters.",
        "customer_profile.customer_jobs[0].job": "Bad.",
        "": "Not a field of this form. Too long.",
    }
    assert name_of(("stages", 0, "stage")) == "stages[0].stage"


def test_blank() -> None:
    assert is_blank({"a": "", "b": [], "c": {"d": None}, "e": False})
    assert not is_blank({"a": 0})
