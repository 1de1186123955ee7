"""Continue Previous Model with a thin proposal: the fields the AI left empty keep the
previous inputs, and the form says which."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.packs.strategy_examples import INPUTS
from tests.web.test_strategy_pages import (
    SLOW,
    create_artifact,
    email,
    new_user_with_project,
    shot,
    wait_for_document,
)

VP_INPUT = INPUTS["value_proposition"]


def test_a_thin_proposal_keeps_the_previous_inputs(page: Any, fake_provider: Any) -> None:
    project_id = new_user_with_project(page, f"Thin Theo {email()}")
    artifact_id = create_artifact(
        page,
        project_id,
        type="value_proposition",
        name="ShedShare VP",
        input_data=VP_INPUT,
        generate=True,
    )
    page.goto(f"/artifacts/{artifact_id}")
    wait_for_document(page)
    # The model's proposal: a new offering, and nothing for most of the lists.
    thin = {**VP_INPUT, "offering": "ShedShare Pro", "known_jobs": [], "features": []}
    fake_provider.push(thin)
    page.get_by_role("button", name="Continue from results").click()
    page.wait_for_url("**/iterate?mode=continue_from_results&job=*")
    expect(page.get_by_label("Offering")).to_have_value("ShedShare Pro", timeout=SLOW)
    expect(page.get_by_label("Known jobs 1", exact=True)).to_have_value(VP_INPUT["known_jobs"][0])
    expect(page.get_by_label("Features 3", exact=True)).to_have_value(VP_INPUT["features"][2])
    note = page.locator("[data-form-note]")
    expect(note).to_contain_text("keep your previous inputs")
    expect(note).to_contain_text("Known jobs")
    expect(note).to_contain_text("Features")
    shot(page, "iterate-kept-inputs")
