"""A project's metadata (the API's free JSON object) is editable on its settings page."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import sign_up


def test_metadata_round_trip_and_a_bad_object(page: Any) -> None:
    sign_up(page, "Meta Mo", f"meta-{uuid.uuid4().hex[:10]}@example.com")
    project = page.request.post(
        "/api/v1/projects",
        data={"name": "Meta project", "metadata": {"client": "Acme"}},
        headers={"X-CSRF-Token": page.locator('meta[name="csrf-token"]').get_attribute("content")},
    ).json()
    page.goto(f"/projects/{project['id']}/settings")
    field = page.get_by_label("Metadata (JSON)")
    expect(field).to_be_visible()  # open, since the project has some
    assert "Acme" in field.input_value()

    field.fill('["not", "an object"]')
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#metadata-error")).to_contain_text("JSON object")
    expect(field).to_have_value('["not", "an object"]')  # what was typed stays
    assert page.request.get(f"/api/v1/projects/{project['id']}").json()["metadata"] == {
        "client": "Acme"
    }

    field.fill('{"client": "Acme", "budget": 12000}')
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("status").filter(has_text="Project details saved.")).to_be_visible()
    saved = page.request.get(f"/api/v1/projects/{project['id']}").json()["metadata"]
    assert saved == {"client": "Acme", "budget": 12000}
