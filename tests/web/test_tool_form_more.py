"""The tool form does what the API does: save without generating ("Save as draft", "Save
inputs"), and generate with an AI provider chosen for this one generation."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import sign_up
from tests.web.test_sdp_pages import api
from tests.web.test_strategy_pages import (
    VP_INPUT,
    VP_OUTPUT,
    create_artifact,
    email,
    new_project,
    new_user_with_project,
    shot,
    wait_for_document,
)

SAVED = "Saved. Generate when you are ready."
GONE = "You cannot use this AI provider (it may have been removed). Choose another."


def fill_required(page: Any, offering: str = VP_INPUT["offering"]) -> None:
    page.get_by_label("Offering").fill(offering)
    page.get_by_label("Customer segment").fill(VP_INPUT["customer_segment"])


def add_provider(page: Any, label: str, model: str) -> str:
    config = api(
        page,
        "POST",
        "/api/v1/ai-providers",
        {
            "provider": "custom",
            "label": label,
            "api_key": "sk-test-secret-0002",
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": model,
        },
    )
    return str(config["id"])


def jobs_of(page: Any, artifact_id: str) -> list[Any]:
    return list(api(page, "GET", f"/api/v1/jobs?artifact_id={artifact_id}")["items"])


def generations_of(page: Any, artifact_id: str) -> list[Any]:
    return list(api(page, "GET", f"/api/v1/ai-generations?artifact_id={artifact_id}")["items"])


def test_save_as_draft_starts_no_job_and_the_page_offers_generate(page: Any) -> None:
    project_id = new_user_with_project(page, f"Draft Dora {email()}")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    fill_required(page)
    page.get_by_label("Name").fill("ShedShare draft")
    expect(page.get_by_label("AI provider")).to_be_visible()  # loaded after the page
    shot(page, "tool-form-save-as-draft")
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/artifacts/*?msg=draft-saved")
    expect(page.get_by_role("status").filter(has_text=SAVED)).to_be_visible()
    expect(page.get_by_role("heading", name="No output yet")).to_be_visible()
    generate = page.get_by_role("button", name="Generate", exact=True)
    expect(generate).to_be_visible()
    shot(page, "artifact-draft-saved")

    artifact_id = page.url.split("/artifacts/")[1].split("?")[0]
    artifact = api(page, "GET", f"/api/v1/artifacts/{artifact_id}")
    assert artifact["name"] == "ShedShare draft"
    assert artifact["input_data"]["offering"] == VP_INPUT["offering"]
    assert artifact["output_data"] is None and artifact["active_version"] is None
    assert jobs_of(page, artifact_id) == []
    assert generations_of(page, artifact_id) == []

    generate.click()  # generating later, from the page, works
    wait_for_document(page)


def test_save_inputs_changes_them_without_a_new_version(page: Any) -> None:
    project_id = new_user_with_project(page, f"Inputs Ines {email()}")
    artifact_id = create_artifact(
        page,
        project_id,
        type="value_proposition",
        name="ShedShare VP",
        input_data=VP_INPUT,
        output_data=VP_OUTPUT,
    )
    page.goto(f"/artifacts/{artifact_id}/inputs")
    expect(page.get_by_role("button", name="Save inputs and generate")).to_be_visible()
    page.get_by_label("Offering").fill("ShedShare Pro")
    shot(page, "inputs-form-save")
    page.get_by_role("button", name="Save inputs", exact=True).click()
    page.wait_for_url(f"**/artifacts/{artifact_id}?msg=inputs-saved")
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(page.locator(".doc")).to_contain_text(VP_OUTPUT["value_proposition"])
    expect(page.locator(".data-list")).to_contain_text("ShedShare Pro")
    shot(page, "artifact-inputs-saved")

    artifact = api(page, "GET", f"/api/v1/artifacts/{artifact_id}")
    assert artifact["input_data"]["offering"] == "ShedShare Pro"
    assert artifact["active_version"] == 1
    versions = api(page, "GET", f"/api/v1/artifacts/{artifact_id}/versions")["items"]
    assert [v["version"] for v in versions] == [1]
    assert jobs_of(page, artifact_id) == []

    # Published: read-only, saving the inputs is refused as before and changes nothing.
    api(page, "PATCH", f"/api/v1/artifacts/{artifact_id}", {"status": "published"})
    page.goto(f"/artifacts/{artifact_id}/inputs")
    page.get_by_label("Offering").fill("ShedShare Max")
    page.get_by_role("button", name="Save inputs", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="published")).to_be_visible()
    expect(page.get_by_label("Offering")).to_have_value("ShedShare Max")
    artifact = api(page, "GET", f"/api/v1/artifacts/{artifact_id}")
    assert artifact["input_data"]["offering"] == "ShedShare Pro"


def test_a_draft_of_a_user_without_providers(page: Any) -> None:
    """No provider of one's own: no provider field, and a draft is saved all the same."""
    sign_up(page, "Plain Pat", email())
    project_id = new_project(page)
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    fill_required(page)
    expect(page.locator("#provider-field")).to_have_count(0)  # the placeholder went away
    expect(page.get_by_label("AI provider")).to_have_count(0)
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/artifacts/*?msg=draft-saved")
    expect(page.get_by_role("heading", name="No output yet")).to_be_visible()


def test_generate_with_a_chosen_provider(page: Any) -> None:
    project_id = new_user_with_project(page, f"Chooser Chen {email()}")
    second = add_provider(page, "Second", "fake-2")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    fill_required(page)
    select = page.get_by_label("AI provider")
    expect(select.locator("option").first).to_have_text("Default (the project's or yours)")
    # As the settings page lists them: newest first.
    expect(select.locator("option")).to_have_text(
        ["Default (the project's or yours)", "Second (fake-2)", "Test (fake)"]
    )
    select.select_option(label="Second (fake-2)")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.wait_for_url("**/artifacts/*?job=*")
    wait_for_document(page)
    artifact_id = page.url.split("/artifacts/")[1].split("?")[0]
    [generation] = generations_of(page, artifact_id)
    assert generation["provider_id"] == second

    # The inputs form offers the same choice; the default is the default provider again.
    page.goto(f"/artifacts/{artifact_id}/inputs")
    expect(page.get_by_label("AI provider")).to_have_value("")
    page.get_by_role("button", name="Save inputs and generate").click()
    page.wait_for_url("**/artifacts/*?job=*")
    expect(page.locator(".version-list")).to_contain_text("Version 2", timeout=20_000)
    providers = [g["provider_id"] for g in generations_of(page, artifact_id)]
    assert sorted(providers) == sorted([second, api_default(page)])


def api_default(page: Any) -> str:
    configs = api(page, "GET", "/api/v1/ai-providers")["items"]
    return str(next(c["id"] for c in configs if c["is_default"]))


def test_a_provider_that_is_not_yours_is_a_field_error(
    page: Any, browser: Any, base_url: str
) -> None:
    context = browser.new_context(base_url=base_url)
    try:
        other = context.new_page()
        sign_up(other, "Other Otto", email())
        foreign = add_provider(other, "Otto's", "fake")
    finally:
        context.close()
    project_id = new_user_with_project(page, f"Stale Stan {email()}")
    stale = add_provider(page, "Old", "fake-old")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    fill_required(page, "ShedShare Foreign")
    select = page.get_by_label("AI provider")
    # What a tampered form posts: another user's provider.
    select.evaluate("(s, id) => { s.options[1].value = id; s.value = id; }", foreign)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#f-_provider-error")).to_have_text(GONE)
    expect(select).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary").get_by_role("link", name="AI provider")).to_be_visible()
    expect(page.get_by_label("Offering")).to_have_value("ShedShare Foreign")
    expect(page.get_by_label("Customer segment")).to_have_value(VP_INPUT["customer_segment"])
    shot(page, "tool-form-provider-error")

    # A stale choice: the provider was removed after the form was opened.
    select.select_option(label="Old (fake-old)")
    api(page, "DELETE", f"/api/v1/ai-providers/{stale}")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#f-_provider-error")).to_have_text(GONE)
    expect(select.locator("option", has_text="Old")).to_have_count(0)
    expect(page.get_by_label("Offering")).to_have_value("ShedShare Foreign")
    items = api(page, "GET", f"/api/v1/projects/{project_id}/artifacts")["items"]
    assert items == []  # refused before anything was written

    # The default still works from the same form.
    select.select_option("")
    page.get_by_role("button", name="Generate", exact=True).click()
    page.wait_for_url("**/artifacts/*?job=*")
    wait_for_document(page)


def test_save_as_draft_with_the_keyboard_only(page: Any) -> None:
    project_id = new_user_with_project(page, f"Keys Kim {email()}")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    expect(page.get_by_label("AI provider")).to_be_visible()
    page.keyboard.type(VP_INPUT["offering"])  # the first field has focus
    page.keyboard.press("Tab")
    page.keyboard.type(VP_INPUT["customer_segment"])
    page.get_by_label("Name").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("AI provider")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save as draft")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**/artifacts/*?msg=draft-saved")
    expect(page.get_by_role("status").filter(has_text=SAVED)).to_be_visible()
    artifact_id = page.url.split("/artifacts/")[1].split("?")[0]
    assert jobs_of(page, artifact_id) == []
