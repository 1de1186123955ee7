"""Strategy projects in the browser: the double diamond, a tool form, generation with live
progress, the artifact as a document, the next iteration, versions, diff, exports."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from atelier.ai.providers.base import ProviderAuthError, ProviderError
from tests.packs.strategy_examples import INPUTS, OUTPUTS
from tests.web.conftest import screenshot, sign_up

VP_INPUT = INPUTS["value_proposition"]
VP_OUTPUT = OUTPUTS["value_proposition"]
# Generation takes the fake provider 0.3 s; the page then waits a moment before opening.
SLOW = 20_000


def email() -> str:
    return f"strategy-{uuid.uuid4().hex[:10]}@example.com"


def csrf_headers(page: Any) -> dict[str, str]:
    return {"X-CSRF-Token": page.locator("meta[name=csrf-token]").get_attribute("content")}


def add_provider(page: Any) -> None:
    response = page.request.post(
        "/api/v1/ai-providers",
        data={
            "provider": "custom",
            "label": "Test",
            "api_key": "sk-test-secret-0001",
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "fake",
            "is_default": True,
        },
        headers=csrf_headers(page),
    )
    assert response.ok, response.text()


def new_project(page: Any, name: str = "ShedShare strategy", phase: str = "define") -> str:
    response = page.request.post(
        "/api/v1/projects",
        data={"name": name, "pack": "strategy", "phase": phase},
        headers=csrf_headers(page),
    )
    assert response.ok, response.text()
    return str(response.json()["id"])


def new_user_with_project(page: Any, name: str) -> str:
    sign_up(page, name, email())
    add_provider(page)
    return new_project(page)


def fill_list(page: Any, label: str, values: list[str]) -> None:
    """A repeatable list: the first row is there, the others come from its Add button."""
    for number, value in enumerate(values, 1):
        if number > 1:
            page.get_by_role("button", name=f"Add to {label}").click()
        page.get_by_label(f"{label} {number}", exact=True).fill(value)


def fill_value_proposition(page: Any, data: dict[str, Any]) -> None:
    page.get_by_label("Offering").fill(data["offering"])
    page.get_by_label("Customer segment").fill(data["customer_segment"])
    page.get_by_label("Description").fill(data["description"])
    fill_list(page, "Known jobs", data["known_jobs"])
    fill_list(page, "Known pains", data["known_pains"])
    fill_list(page, "Features", data["features"])


def shot(page: Any, name: str) -> None:
    """A full-page screenshot from the top (scrolled, the sticky bar lands mid-page)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def wait_for_document(page: Any) -> None:
    expect(page.locator(".doc")).to_contain_text(VP_OUTPUT["value_proposition"], timeout=SLOW)


def test_value_proposition_from_form_to_pdf(page: Any) -> None:
    project_id = new_user_with_project(page, "Stella Strategy")

    # The project: the double diamond with its current phase, tools per phase (the
    # projects area shows it at /projects/{id}; it is at /strategy/{id} too).
    page.goto(f"/strategy/{project_id}")
    expect(page.get_by_role("img", name="Double diamond", exact=False)).to_be_visible()
    page.goto(f"/projects/{project_id}")
    diamond = page.get_by_role("img", name="Double diamond: this project is in the Define phase")
    expect(diamond).to_be_visible()
    expect(page.get_by_role("button", name="2. Define")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("heading", name="Value proposition canvas")).to_be_visible()
    expect(page.get_by_role("heading", name="Customer journey map")).to_be_visible()
    shot(page, "strategy-project")

    # The tool form, generated from the tool's input schema.
    page.get_by_role("link", name="New value proposition canvas").click()
    page.wait_for_url(f"**/projects/{project_id}/tools/value_proposition/new")
    expect(page.get_by_label("Offering")).to_be_focused()
    fill_value_proposition(page, VP_INPUT)
    page.get_by_role("button", name="Remove Features 3").click()
    expect(page.get_by_label("Features 3", exact=True)).to_have_count(0)
    expect(page.get_by_label("Features 2", exact=True)).to_be_focused()
    page.get_by_role("button", name="Add to Features").click()
    expect(page.get_by_label("Features 3", exact=True)).to_be_focused()
    page.keyboard.type(VP_INPUT["features"][2])
    page.get_by_label("Name").fill("ShedShare VP")
    shot(page, "tool-form")

    # Generation: the streamed answer shows in the progress log before the page opens it.
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/artifacts/*?job=*")
    log = page.locator("[data-job-log]")
    expect(log).to_contain_text('"customer_profile"', timeout=SLOW)
    expect(log.locator(".answer-parts")).to_contain_text("Customer profile")
    expect(page.get_by_role("status")).to_contain_text("Done", timeout=SLOW)
    shot(page, "generation")
    wait_for_document(page)
    first_url = page.url.split("?")[0]

    # The artifact: a document, not a JSON dump; versions; inputs.
    document = page.locator(".doc")
    text = document.inner_text()
    assert "{" not in text and '"customer_segment"' not in text
    expect(document.get_by_role("heading", name="Customer profile")).to_be_visible()
    expect(document.locator("table").first).to_contain_text("Hang shelves and pictures")
    expect(page.get_by_text("Generated version 1.")).to_be_visible()
    versions = page.locator(".version-list")
    expect(versions).to_contain_text("Version 1")
    expect(versions.locator(".badge-ai")).to_have_count(1)
    expect(versions).to_contain_text("fake")
    expect(page.locator(".data-list")).to_contain_text("Lender ratings")
    shot(page, "artifact")

    # Continue Previous Model → continue from results: a proposal, then the form with it.
    page.get_by_role("button", name="Continue from results").click()
    page.wait_for_url("**/iterate?mode=continue_from_results&job=*")
    expect(page.get_by_label("Offering")).to_have_value(VP_INPUT["offering"], timeout=SLOW)
    expect(page.get_by_label("Known jobs 2", exact=True)).to_have_value(VP_INPUT["known_jobs"][1])
    expect(page.get_by_label("Name")).to_have_attribute("placeholder", "ShedShare VP (continued)")
    shot(page, "iterate-form")
    page.get_by_role("button", name="Generate the next iteration").click()
    page.wait_for_url("**/artifacts/*?job=*")
    wait_for_document(page)
    assert page.url.split("?")[0] != first_url

    # The history: the original and its continuation, this one marked.
    tree = page.locator(".tree")
    expect(tree.get_by_role("link", name="ShedShare VP", exact=False)).to_have_count(2)
    current = tree.locator("[aria-current=page]")
    expect(current).to_contain_text("ShedShare VP (continued)")
    expect(current).to_contain_text("continued")
    shot(page, "history")
    tree.get_by_role("link").first.click()
    page.wait_for_url(first_url)

    # A human edit makes version 2; the diff shows what changed.
    page.get_by_role("link", name="Edit by hand").click()
    field = page.get_by_role("textbox", name="Value proposition", exact=True)
    expect(field).to_have_value(VP_OUTPUT["value_proposition"])
    field.fill("Tools from neighbours, the same day, with nothing to store.")
    shot(page, "artifact-edit")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    expect(page.locator(".version-list .badge-human")).to_have_count(1)
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url("**/compare?a=1&b=2&view=document")
    table = page.get_by_role("table", name="Changes from version 1 to version 2, line by line")
    expect(table.locator("tr.diff-add")).to_contain_text("with nothing to store.")
    removed = table.locator("tr.diff-del").filter(has_text=VP_OUTPUT["value_proposition"])
    expect(removed).to_have_count(1)
    shot(page, "diff")
    page.get_by_label("JSON").check()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("tr.diff-add")).to_contain_text('"value_proposition": "Tools from')

    # Activate version 1 again, then download the PDF.
    page.goto(first_url)
    page.get_by_role("button", name="Activate version 1").click()
    expect(page.locator(".version.is-active")).to_contain_text("Version 1")
    wait_for_document(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    path = Path(download.value.path())
    assert path.read_bytes().startswith(b"%PDF")


def test_a_missing_required_field_is_shown_next_to_it_and_nothing_is_lost(page: Any) -> None:
    project_id = new_user_with_project(page, "Forgetful Fred")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    page.get_by_label("Customer segment").fill(VP_INPUT["customer_segment"])
    fill_list(page, "Known jobs", VP_INPUT["known_jobs"])
    page.get_by_label("Description").fill(VP_INPUT["description"])
    page.get_by_role("button", name="Generate").click()

    error = page.locator("#f-offering-error")
    expect(error).to_have_text("Required: please fill this in.")
    offering = page.get_by_label("Offering")
    expect(offering).to_have_attribute("aria-invalid", "true")
    assert "f-offering-error" in (offering.get_attribute("aria-describedby") or "")
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.get_by_label("Customer segment")).to_have_value(VP_INPUT["customer_segment"])
    expect(page.get_by_label("Description")).to_have_value(VP_INPUT["description"])
    expect(page.get_by_label("Known jobs 2", exact=True)).to_have_value(VP_INPUT["known_jobs"][1])
    shot(page, "tool-form-errors")

    page.locator("#error-summary").get_by_role("link", name="Offering").click()
    page.get_by_label("Offering").fill(VP_INPUT["offering"])
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/artifacts/*?job=*")
    wait_for_document(page)


def test_the_tool_form_with_the_keyboard_only(page: Any) -> None:
    project_id = new_user_with_project(page, "Keyboard Kai")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    page.keyboard.type(VP_INPUT["offering"])  # the first field has focus
    page.keyboard.press("Tab")
    page.keyboard.type(VP_INPUT["customer_segment"])
    page.keyboard.press("Tab")  # the description
    page.keyboard.type(VP_INPUT["description"])
    page.keyboard.press("Tab")  # the first known job
    page.keyboard.type(VP_INPUT["known_jobs"][0])
    page.keyboard.press("Tab")  # its Remove button
    page.keyboard.press("Tab")  # Add to Known jobs
    page.keyboard.press("Enter")  # a second row, focused
    page.keyboard.type(VP_INPUT["known_jobs"][1])
    expect(page.get_by_label("Known jobs 2", exact=True)).to_have_value(VP_INPUT["known_jobs"][1])
    page.keyboard.press("Shift+Tab")  # the first row's Remove button
    page.keyboard.press("Shift+Tab")  # back in the first row
    page.keyboard.press("Enter")  # Enter in a text field submits the form
    page.wait_for_url("**/artifacts/*?job=*")
    wait_for_document(page)
    expect(page.locator(".data-list")).to_contain_text(VP_INPUT["known_jobs"][1])


def test_phase_switch_and_empty_states(page: Any) -> None:
    project_id = new_user_with_project(page, "Phase Phil")
    page.goto(f"/projects/{project_id}")
    expect(page.get_by_role("heading", name="Nothing made yet")).to_be_visible()
    expect(page.get_by_text("Nothing made with this tool yet.")).to_have_count(7)
    page.get_by_role("button", name="3. Develop").click()
    expect(
        page.get_by_role("img", name="Double diamond: this project is in the Develop phase")
    ).to_be_visible()
    expect(page.get_by_role("button", name="3. Develop")).to_have_attribute("aria-pressed", "true")
    response = page.request.get(f"/api/v1/projects/{project_id}")
    assert response.json()["phase"] == "develop"


def test_a_failed_generation_says_what_to_do(page: Any, fake_provider: Any) -> None:
    project_id = new_user_with_project(page, "Unlucky Uma")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    page.get_by_label("Offering").fill(VP_INPUT["offering"])
    page.get_by_label("Customer segment").fill(VP_INPUT["customer_segment"])
    fake_provider.push(ProviderAuthError())
    page.get_by_role("button", name="Generate").click()
    alert = page.locator("[data-job-error]")
    expect(alert).to_contain_text("refused the API key", timeout=SLOW)
    expect(alert.get_by_role("link", name="AI provider settings")).to_be_visible()
    expect(alert.get_by_role("button", name="Try again")).to_be_visible()
    shot(page, "generation-failed")
    alert.get_by_role("button", name="Try again").click()
    wait_for_document(page)


def test_another_user_gets_404s(page: Any, browser: Any, base_url: str) -> None:
    project_id = new_user_with_project(page, "Owner Olga")
    response = page.request.post(
        f"/api/v1/projects/{project_id}/artifacts",
        data={
            "type": "value_proposition",
            "name": "Private VP",
            "input_data": VP_INPUT,
            "output_data": VP_OUTPUT,
        },
        headers=csrf_headers(page),
    )
    assert response.ok, response.text()
    artifact_id = response.json()["id"]
    page.goto(f"/artifacts/{artifact_id}")
    expect(page.locator(".doc")).to_contain_text(VP_OUTPUT["value_proposition"])

    context = browser.new_context(base_url=base_url)
    try:
        other = context.new_page()
        sign_up(other, "Nosy Nick", email())
        for path in (
            f"/artifacts/{artifact_id}",
            f"/artifacts/{artifact_id}/edit",
            f"/artifacts/{artifact_id}/compare",
            f"/artifacts/{artifact_id}/iterate?mode=edit_inputs",
            f"/strategy/{project_id}",
            f"/projects/{project_id}",
            f"/projects/{project_id}/tools/value_proposition/new",
        ):
            answer = other.goto(path)
            assert answer is not None and answer.status == 404, path
            expect(other.get_by_role("heading", name="Not found")).to_be_visible()
            assert "Private VP" not in other.content()
    finally:
        context.close()


def test_pages_fit_a_phone(page: Any) -> None:
    project_id = new_user_with_project(page, "Phone Pia")
    response = page.request.post(
        f"/api/v1/projects/{project_id}/artifacts",
        data={
            "type": "value_proposition",
            "name": "Phone VP",
            "input_data": VP_INPUT,
            "output_data": VP_OUTPUT,
        },
        headers=csrf_headers(page),
    )
    artifact_id = response.json()["id"]
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (
        (f"/projects/{project_id}", "phone-strategy-project"),
        (f"/projects/{project_id}/tools/value_proposition/new", "phone-tool-form"),
        (f"/artifacts/{artifact_id}", "phone-artifact"),
    ):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        shot(page, name)


def create_artifact(page: Any, project_id: str, **body: Any) -> str:
    response = page.request.post(
        f"/api/v1/projects/{project_id}/artifacts", data=body, headers=csrf_headers(page)
    )
    assert response.ok, response.text()
    return str(response.json()["id"])


def test_cancel_a_generation(page: Any, fake_provider: Any) -> None:
    project_id = new_user_with_project(page, "Impatient Ida")
    page.goto(f"/projects/{project_id}/tools/value_proposition/new")
    page.get_by_label("Offering").fill(VP_INPUT["offering"])
    page.get_by_label("Customer segment").fill(VP_INPUT["customer_segment"])
    # A busy provider: the engine waits 8 s before asking again, time enough to cancel.
    fake_provider.push(ProviderError("busy", retryable=True, retry_after=8, code="overloaded"))
    page.get_by_role("button", name="Generate").click()
    log = page.locator("[data-job-log]")
    expect(log).to_contain_text("trying again in 8 s", timeout=SLOW)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("[data-job-error]")).to_contain_text("Cancelled. Nothing was changed.")
    expect(page.get_by_role("heading", name="Cancelled")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="No output yet")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Generation cancelled.")


def test_publish_duplicate_and_back_to_draft(page: Any) -> None:
    project_id = new_user_with_project(page, "Publishing Paul")
    artifact_id = create_artifact(
        page,
        project_id,
        type="value_proposition",
        name="Launch VP",
        input_data=VP_INPUT,
        output_data=VP_OUTPUT,
    )
    page.goto(f"/artifacts/{artifact_id}")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".published-note")).to_contain_text("read-only")
    expect(page.locator(".meta-line .badge-published")).to_have_text("published")
    expect(page.get_by_role("link", name="Edit by hand")).to_have_count(0)
    expect(page.get_by_role("link", name="Change")).to_have_count(0)
    answer = page.goto(f"/artifacts/{artifact_id}/edit")
    assert answer is not None and answer.ok
    expect(page.get_by_role("button", name="Save as a new version")).to_be_disabled()
    page.goto(f"/artifacts/{artifact_id}")

    page.get_by_role("button", name="Duplicate").click()
    page.wait_for_url(lambda url: artifact_id not in url)
    expect(page.get_by_role("heading", name="Launch VP (copy)", level=1)).to_be_visible()
    expect(page.locator(".tree [aria-current=page]")).to_contain_text("duplicate")
    expect(page.locator(".meta-line .badge-draft")).to_have_text("draft")

    page.goto(f"/artifacts/{artifact_id}")
    page.get_by_role("button", name="Back to draft").click()
    expect(page.get_by_role("link", name="Edit by hand")).to_be_visible()


def test_an_artifact_without_a_tool_is_shown_and_edited_as_data(page: Any) -> None:
    project_id = new_user_with_project(page, "Notes Nora")
    artifact_id = create_artifact(
        page,
        project_id,
        type="notes",
        name="Interview notes",
        input_data={"segment": "SMBs"},
        output_data={"jobs": ["ship", "learn"], "next_step": "Call Tom"},
    )
    page.goto(f"/artifacts/{artifact_id}")
    document = page.locator(".doc")
    expect(document).to_contain_text("Call Tom")
    expect(document.get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_role("heading", name="Next iteration")).to_have_count(0)
    page.get_by_role("link", name="Edit by hand").click()
    data = page.get_by_label("Data", exact=False)
    data.fill('{"jobs": ["ship"], ')
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#error-summary")).to_contain_text("Not valid JSON")
    expect(page.get_by_label("Data", exact=False)).to_have_value('{"jobs": ["ship"], ')
    page.get_by_label("Data", exact=False).fill('{"jobs": ["ship"], "next_step": "Call Tina"}')
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    expect(page.locator(".doc")).to_contain_text("Call Tina")
    page.goto(f"/projects/{project_id}")
    others = page.locator("#other-artifacts")
    expect(others.get_by_role("link", name="Interview notes")).to_be_visible()
    expect(others.get_by_role("link", name="New brief")).to_be_visible()
