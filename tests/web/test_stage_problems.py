"""A stage page says where its output contradicts the other stages (the validation
report's errors about its files), before the user completes it."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.sdp.examples import DATA_MODEL, OUTPUTS
from tests.web.conftest import screenshot, sign_up
from tests.web.test_sdp_pages import api, new_project


def test_a_stage_shows_its_own_validation_errors(page: Any) -> None:
    sign_up(page, "Checking Chloe", f"chloe-{uuid.uuid4().hex[:10]}@example.com")
    project = new_project(page)
    page.goto(f"/sdp/{project}")  # nothing made yet: nothing to warn about either
    validation = page.locator("section[aria-labelledby=validation-heading]")
    expect(validation).to_contain_text("Nothing to check yet")
    base = f"/api/v1/projects/{project}/stages"
    api(page, "PATCH", f"{base}/1", {"data": OUTPUTS["product"]})
    api(page, "POST", f"{base}/1/complete")

    broken = copy.deepcopy(DATA_MODEL)
    broken["relationships"][0]["foreignKey"] = "nowhereId"
    api(page, "PATCH", f"{base}/2", {"data": broken})
    page.goto(f"/projects/{project}/stages/2")
    box = page.locator("[data-stage-problems]")
    expect(box).to_contain_text("1 contradiction with the other stages")
    expect(box).to_contain_text("nowhereId")
    expect(box.get_by_role("link", name="the validation report")).to_be_visible()
    screenshot(page, "sdp-stage-problems")
    page.goto(f"/sdp/{project}")
    expect(validation.locator(".badge")).to_have_text("Errors")

    # Fixed by hand: the box is gone. Stage 1 never had one.
    api(page, "PATCH", f"{base}/2", {"data": DATA_MODEL})
    page.goto(f"/projects/{project}/stages/2")
    expect(page.locator("[data-stage-problems]")).to_have_count(0)
    page.goto(f"/projects/{project}/stages/1")
    expect(page.locator("[data-stage-problems]")).to_have_count(0)
