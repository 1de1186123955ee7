"""The quality checks (atelier.ai.quality) against hand-written answers: the faults a
first try with the 0.5B local model produced (verbatim), and good answers that must
pass clean. The prompts are the tools' real ones, rendered as a generation renders them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from atelier.ai.quality.check import QualitySpec, Report, check_answer
from atelier.ai.quality.scripts import off_script
from atelier.ai.tools import Tool, load_tools
from tests.packs.strategy_examples import INPUTS, OUTPUTS
from tests.sdp.examples import OUTPUTS as SDP_OUTPUTS
from tests.sdp.examples import PROJECT_DESCRIPTION, PROJECT_NAME


def tool(key: str) -> Tool:
    found = load_tools().get(key)
    assert found is not None, key
    return found


def check(key: str, output: dict[str, Any], inputs: dict[str, Any], **extra: Any) -> Report:
    used = tool(key)
    messages = used.render(inputs, extra.get("context", {}))
    return check_answer(
        output,
        schema=used.output_schema(),
        inputs=inputs,
        context=extra.get("context"),
        prompt=[m.content for m in messages],
        spec=used.quality,
        language=extra.get("language", "en"),
    )


def found(report: Report) -> set[tuple[str, str]]:
    return {(f.rule, f.path) for f in report.findings}


@pytest.mark.parametrize("key", sorted(OUTPUTS))
def test_the_hand_written_strategy_examples_pass_clean(key: str) -> None:
    """No false alarms on good answers: every example output of the strategy tools."""
    report = check(key, OUTPUTS[key], INPUTS[key])
    assert report.findings == [], [f.as_json() for f in report.findings]
    assert report.score == 1.0 and report.checked > 5


def test_the_value_proposition_faults_of_the_first_try() -> None:
    bad = copy.deepcopy(OUTPUTS["value_proposition"])
    inputs = INPUTS["value_proposition"]
    value_map = bad["value_map"]
    # The same product row six times, described with the prompt's own label.
    row = {"name": "Tool map", "description": "What customers use today instead: …"}
    value_map["products_and_services"] = [dict(row) for _ in range(6)]
    # Pain relievers and gain creators that copy the pains and gains back.
    value_map["pain_relievers"] = [
        {"reliever": p["pain"], "pain": p["pain"]} for p in bad["customer_profile"]["pains"]
    ]
    value_map["gain_creators"] = [
        {"creator": inputs["known_gains"][0], "gain": inputs["known_gains"][0]}
    ]
    # A stray script in an English project.
    bad["customer_profile"]["pains"][0]["pain"] = "renters fear使用"

    result = found(check("value_proposition", bad, inputs))
    products = "value_map.products_and_services"
    assert {("duplicate", f"{products}[{i}]") for i in range(1, 6)} <= result
    assert ("instruction_echo", f"{products}[0].description") in result
    assert ("input_parroting", "value_map.pain_relievers[1].reliever") in result
    assert ("input_parroting", "value_map.gain_creators[0].creator") in result
    assert ("off_script", "customer_profile.pains[0].pain") in result
    # Quoting the pain a reliever answers is what that field is for.
    assert not {path for _, path in result if path.endswith("].pain")} - {
        "customer_profile.pains[0].pain"
    }


def test_the_software_design_product_stage_faults() -> None:
    """Instructions written back as content, and the prompt's examples copied."""
    inputs = {"user_input": "A shared calendar for a climbing gym's route setters."}
    context = {"project_name": "Setter", "project_description": "", "earlier": {}}
    bad = {
        "name": "Setter",
        "tagline": "Plan every route reset in one place",
        "problem": "Setters plan resets on paper and lose track of which walls are due.",
        "solution": (
            "Solution: How the product removes that cost, in two to four sentences, "
            "not a feature list."
        ),
        "personas": [{"name": "Ops lead at a 20-person agency", "needs": "A clear weekly plan"}],
        "non_goals": ["3 to 5 things the first version deliberately leaves out"],
        "success_metrics": ["40% of new teams create a second project within 7 days"],
    }
    result = found(check("sdp_product", bad, inputs, context=context))
    assert ("instruction_echo", "solution") in result
    assert ("instruction_echo", "non_goals[0]") in result
    assert ("example_copy", "personas[0].name") in result
    assert ("example_copy", "success_metrics[0]") in result
    assert not {path for _, path in result} & {"name", "tagline", "problem"}


def test_placeholders_and_text_cut_off_at_its_limit() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "string", "maxLength": 40}},
            "note": {"type": "string"},
            "kind": {"type": "string", "enum": ["a", "b"]},
        },
    }
    output = {
        "items": ["TBD", "N/A", "  ", "Lorem ipsum dolor sit amet", "x" * 40, "Fine text"],
        "note": "…",
        "kind": "a",
    }
    report = check_answer(output, schema=schema, inputs={}, prompt=["Write items."])
    assert found(report) == {
        ("placeholder", "items[0]"),
        ("placeholder", "items[1]"),
        ("placeholder", "items[2]"),
        ("placeholder", "items[3]"),
        ("cut_off", "items[4]"),
        ("placeholder", "note"),
    }
    # Seven strings checked (the enum is not free text); six of them flagged.
    assert report.checked == 7 and report.score == round(1 - 6 / 7, 2)
    # Words that are also values are left alone: a field's type is rightly "string".
    values = {"items": ["string", "none", "name"], "note": "Sample size: 40", "kind": "b"}
    assert check_answer(values, schema=schema, inputs={}, prompt=["x"]).findings == []
    shown = report.as_json()
    assert shown["findings"][0] == {
        "rule": "placeholder",
        "path": "items[0]",
        "message": "“TBD” is a placeholder, not content.",
    }


def test_near_duplicates_count_but_different_items_do_not() -> None:
    schema = {"type": "object", "properties": {"xs": {"type": "array", "items": {}}}}
    output = {
        "xs": [
            "Deposit held in the app",
            "deposit held in the app!",
            "Deposit held in the apps",
            "Ratings for lenders",
        ]
    }
    report = check_answer(output, schema=schema, inputs={}, prompt=["List."])
    assert found(report) == {("duplicate", "xs[1]"), ("duplicate", "xs[2]")}
    assert report.findings[0].message == "Item 2 repeats item 1."


def test_scripts_by_language() -> None:
    assert off_script("renters fear使用 café naïve e\u0301", "en") == ["使", "用"]
    assert off_script("Fin de journée。", "fr") == ["。"]
    assert off_script("Привет, ShedShare", "ru") == []
    assert off_script("Привет", "en") == list("Привет")
    assert off_script("東京の工具シェア", "ja") == []
    assert off_script("Prices in €, 50% off — “quoted”", "en") == []


def test_a_tool_declares_which_fields_must_transform_their_source() -> None:
    schema = {"type": "object", "properties": {"answers": {"type": "array", "items": {}}}}
    output = {"answers": ["No space to store tools", "Borrow instead of storing"]}
    inputs = {"pains": ["No space to store tools"]}
    spec = QualitySpec(transforms=(("answers[]", "inputs.pains[]"),))
    report = check_answer(output, schema=schema, inputs=inputs, prompt=["x"], spec=spec)
    assert found(report) == {("input_parroting", "answers[0]")}
    # Without the declaration, repeating an input is allowed.
    assert check_answer(output, schema=schema, inputs=inputs, prompt=["x"]).findings == []


# Where the hand-written examples do take the prompt's own example (the prompt was
# written from them): the checks are right to point at these.
SDP_KNOWN = {
    "database": {("instruction_echo", "indexes[2].reason")},  # "...one membership per user"
    "design": {("example_copy", "principles[0]")},  # "Show the next action first"
}


@pytest.mark.parametrize("stage", sorted(SDP_OUTPUTS))
def test_the_hand_written_software_design_examples_pass_clean(stage: str) -> None:
    used = next(t for t in load_tools().all() if t.key == f"sdp_{stage}")
    context = {
        "project_name": PROJECT_NAME,
        "project_description": PROJECT_DESCRIPTION,
        "earlier": {name: SDP_OUTPUTS[name] for name in getattr(used, "uses", ())},
    }
    inputs = {"user_input": ""}
    report = check(used.key, SDP_OUTPUTS[stage], inputs, context=context)
    assert found(report) == SDP_KNOWN.get(stage, set()), [f.as_json() for f in report.findings]
