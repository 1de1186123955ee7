"""The software design pipeline in the browser: overview, stages with live generation,
the ER diagram, exports, the validation report, MCP tokens, and tenant isolation."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.sdp.examples import DATA_MODEL, OUTPUTS, PRODUCT
from tests.web.conftest import screenshot, sign_up

TEMPLATE = "SaaS Dashboard"


def email() -> str:
    return f"sdp-{uuid.uuid4().hex[:10]}@example.com"


def csrf(page: Any) -> str:
    return str(page.locator("meta[name=csrf-token]").get_attribute("content"))


def api(page: Any, method: str, url: str, data: Any = None) -> Any:
    """The JSON API with the browser's session cookie, as the page scripts call it."""
    response = page.request.fetch(
        url, method=method, data=data, headers={"X-CSRF-Token": csrf(page)}
    )
    assert response.ok, f"{method} {url}: {response.status} {response.text()}"
    return response.json() if response.body() else None


def new_project(page: Any, name: str = "Team metrics") -> str:
    """A provider config and an SDP project from the SaaS Dashboard template."""
    api(
        page,
        "POST",
        "/api/v1/ai-providers",
        {
            "provider": "custom",
            "label": "Test",
            "api_key": "sk-test-secret-0001",
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "fake",
            "is_default": True,
        },
    )
    templates = api(page, "GET", "/api/v1/templates")["items"]
    template = next(t for t in templates if t["name"] == TEMPLATE)
    project = api(page, "POST", "/api/v1/projects", {"name": name, "template_id": template["id"]})
    return str(project["id"])


@contextmanager
def slow_ai(fake_provider: Any, seconds: float) -> Iterator[None]:
    """A slower fake AI, so that live progress stays on screen long enough to see."""
    before = fake_provider.latency
    fake_provider.latency = seconds
    try:
        yield
    finally:
        fake_provider.latency = before


def watch_stream(page: Any) -> list[str]:
    """Everything the progress log shows, as it changes (the page reloads when the
    generation ends, so the test records it on the way)."""
    seen: list[str] = []

    def record(text: str) -> None:
        seen.append(text)

    page.expose_function("reportStream", record)
    page.add_init_script(
        """document.addEventListener("DOMContentLoaded", () => {
          const log = document.getElementById("progress-log");
          if (!log) return;
          new MutationObserver(() => window.reportStream(log.textContent))
            .observe(log, {childList: true, characterData: true, subtree: true});
        });"""
    )
    return seen


def generate(page: Any, button: str = "Generate") -> None:
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("#progress")).to_be_visible()
    page.wait_for_url("**msg=generated**")


def complete(page: Any, number: int) -> None:
    page.get_by_role("button", name=f"Complete stage {number}").click()
    page.wait_for_url("**msg=completed**")
    expect(page.locator(".sdp-head-badges .badge-complete")).to_have_text("Complete")


def rail_status(page: Any) -> list[str]:
    items = page.locator(".sdp-rail-item")
    return [
        next(c[3:] for c in str(items.nth(i).get_attribute("class")).split() if c.startswith("is-"))
        for i in range(items.count())
    ]


def test_the_pipeline_from_first_stage_to_export_and_mcp(page: Any, fake_provider: Any) -> None:
    sign_up(page, "Sadie Design", email())
    project = new_project(page)
    streamed = watch_stream(page)

    # The overview: stage 1 active and current, the others locked.
    page.goto(f"/sdp/{project}")
    expect(page.get_by_role("heading", name="Team metrics", level=1)).to_be_visible()
    assert rail_status(page) == ["active"] + ["locked"] * 8
    first = page.locator(".sdp-rail-item").first
    assert "is-current" in str(first.get_attribute("class"))
    expect(first.locator(".badge")).to_have_text("Active")
    expect(page.locator(".sdp-rail-item").nth(1).locator(".badge")).to_have_text("Locked")

    # Stage 1: the template's input is there; generate with live progress, then complete.
    first.get_by_role("link").click()
    page.wait_for_url(f"**/projects/{project}/stages/1")
    assert page.get_by_label("What this stage should take into account").input_value()
    with slow_ai(fake_provider, 1.2):
        generate(page)
    assert any('"name"' in text for text in streamed), "the streamed answer was shown"
    # ... as its parts, each ticked once the model moves on to the next.
    assert any("✓ Name" in text and "Tagline" in text for text in streamed), streamed[-1:]
    expect(page.locator(".sdp-head-badges .badge-review")).to_have_text("In review")
    expect(page.locator(".sdp-doc").first).to_contain_text("Tasklane")  # product.md
    expect(page.locator(".sdp-versions .badge-ai")).to_have_count(1)
    complete(page, 1)

    # Stage 2: the data model, drawn as an ER diagram.
    page.get_by_role("link", name="Go to stage 2: Data Model").click()
    page.wait_for_url(f"**/projects/{project}/stages/2")
    generate(page)
    diagram = page.locator(".sdp-output svg.er-svg")
    expect(diagram).to_be_visible()
    for entity in DATA_MODEL["entities"]:
        expect(diagram.locator(f'.er-entity[data-entity="{entity["name"]}"]')).to_have_count(1)
    expect(diagram.locator(".er-rel")).to_have_count(len(DATA_MODEL["relationships"]))
    screenshot(page, "sdp-stage-data-model")
    complete(page, 2)

    # Stage 3: SQL compiled from the data model, then the AI's indexes.
    page.goto(f"/projects/{project}/stages/3")
    generate(page, "Compile SQL and ask AI for indexes")
    sql = page.locator("details.sdp-file", has_text="schema.postgresql.sql")
    expect(sql.locator("code")).to_contain_text("CREATE TABLE")
    expect(page.locator(".sdp-versions li")).to_have_count(2)  # compiled, then with indexes
    screenshot(page, "sdp-stage-database")
    complete(page, 3)

    # The overview now: three stages complete, the fourth current, the ER diagram.
    page.goto(f"/sdp/{project}")
    assert rail_status(page) == ["complete"] * 3 + ["active"] + ["locked"] * 5
    assert "is-current" in str(page.locator(".sdp-rail-item").nth(3).get_attribute("class"))
    expect(page.locator("svg.er-svg")).to_be_visible()
    screenshot(page, "sdp-overview")

    # Export a zip and download it.
    page.get_by_role("link", name="Exports", exact=True).first.click()
    page.wait_for_url(f"**/projects/{project}/exports")
    expect(page.get_by_text("No exports yet")).to_be_visible()
    page.get_by_label("Zip file").check()
    page.get_by_role("button", name="Export the package").click()
    page.wait_for_url("**msg=exported")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody .badge")).to_have_text("Warnings")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download zip").click()
    archive = zipfile.ZipFile(io.BytesIO(info.value.path().read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["stages"][1]["name"] == "dataModel"
    assert "03-database/schema.sqlite.sql" in archive.namelist()
    # A second export, as a folder, deleted again (after confirming): the first stays.
    page.get_by_label("Folder").check()
    page.get_by_role("button", name="Export the package").click()
    page.wait_for_url("**msg=exported")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tbody tr").first.get_by_role("button", name="Delete").click()
    page.wait_for_url("**msg=export-deleted")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr td").nth(1)).to_have_text("Zip")
    screenshot(page, "sdp-exports")

    # The validation report: the stages without output are warnings, linked to them.
    page.goto(f"/projects/{project}/validation")
    warnings = page.locator(".sdp-message.is-warning")
    expect(warnings.filter(has_text="missing_stage")).to_have_count(5)  # stages 4 to 8
    expect(page.get_by_role("link", name="Open stage 4: API Design")).to_be_visible()
    screenshot(page, "sdp-validation")

    # MCP: a token shown once with the instructions, then only its prefix and label.
    page.goto(f"/projects/{project}/mcp")
    expect(page.get_by_text("No tokens yet")).to_be_visible()
    page.get_by_label("Label").fill("Claude Code on my laptop")
    page.get_by_label("Expires after (days)").fill("30")
    page.get_by_role("button", name="Create token").click()
    token_field = page.locator("#new-token-value")
    expect(token_field).to_be_visible()
    token = token_field.input_value()
    assert token.startswith("atl_mcp_")
    http = page.locator("#snippet-http")
    expect(http).to_contain_text(
        f"claude mcp add --transport http atelier {page.url.split('/projects')[0]}/mcp"
    )
    expect(http).to_contain_text(f"Authorization: Bearer {token}")
    expect(page.locator("#snippet-stdio")).to_have_text(
        f"claude mcp add atelier -- atelier mcp --token {token}"
    )
    assert json.loads(page.locator("#snippet-json").inner_text())["mcpServers"]["atelier"]
    # The list has it already, by its prefix only.
    expect(page.locator("#token-table")).to_contain_text(token[:14] + "…")
    expect(page.get_by_text("No tokens yet")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "sdp-mcp")
    page.get_by_role("button", name="I have copied it").click()
    page.wait_for_load_state()
    expect(page.locator("#token-table")).to_contain_text("Claude Code on my laptop")
    assert token not in page.content()
    expect(page.locator("#token-table")).to_contain_text(token[:14] + "…")
    expect(page.locator("#token-table .badge")).to_have_text("Active")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Claude Code on my laptop").click()
    page.wait_for_url("**msg=revoked")
    expect(page.locator("#token-table .badge")).to_have_text("Revoked")
    expect(page.get_by_role("button", name="Revoke Claude Code on my laptop")).to_have_count(0)
    screenshot(page, "sdp-mcp-revoked")


def test_edits_versions_and_plain_language_errors(page: Any) -> None:
    sign_up(page, "Eddie Edit", email())
    project = new_project(page, "Edits")
    page.goto(f"/projects/{project}/stages/2")
    # A locked stage says why, and its actions wait.
    expect(page.get_by_text("This stage is locked: complete stage 1")).to_be_visible()
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_disabled()

    page.goto(f"/projects/{project}/stages/1")
    # With the keyboard: the input, then Tab to its Save button.
    page.get_by_label("What this stage should take into account").fill("A dashboard for Ops")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#input-status")).to_have_text("Saved.")
    page.reload()
    expect(page.get_by_label("What this stage should take into account")).to_have_value(
        "A dashboard for Ops"
    )

    # A hand edit: not JSON, then JSON that does not fit, each explained.
    page.get_by_text("Edit the output by hand (JSON)").click()
    editor = page.get_by_label("The output as JSON")
    editor.fill("{not json")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#edit-errors")).to_contain_text("This is not valid JSON")
    editor.fill('{"name": "Only a name"}')
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#edit-errors")).to_contain_text("does not match the stage's format")
    expect(page.locator("#edit-errors li").first).to_be_visible()

    # A valid edit becomes a version by "You"; then a generation adds one by the AI.
    editor.fill(json.dumps({**PRODUCT, "name": "Opsboard"}))
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_url("**msg=edited**")
    expect(page.locator(".sdp-versions .badge-human")).to_have_text("You")
    expect(page.locator(".sdp-doc").first).to_contain_text("Opsboard")
    generate(page, "Generate again")
    expect(page.locator(".sdp-versions li")).to_have_count(2)

    # Going back to version 1 makes it the output again.
    page.get_by_role("button", name="Use version 1").click()
    page.wait_for_url("**msg=activated**")
    expect(page.locator(".sdp-doc").first).to_contain_text("Opsboard")

    # A move the server refuses (completed meanwhile elsewhere) is said plainly.
    api(page, "POST", f"/api/v1/projects/{project}/stages/1/complete")
    page.get_by_role("button", name="Complete stage 1").click()
    expect(page.locator("#stage-error")).to_have_text("This stage is already complete.")


def test_generation_can_be_cancelled(page: Any, fake_provider: Any) -> None:
    sign_up(page, "Cora Cancel", email())
    project = new_project(page, "Cancel me")
    page.goto(f"/projects/{project}/stages/1")
    with slow_ai(fake_provider, 5):
        page.get_by_role("button", name="Generate", exact=True).click()
        expect(page.locator("#progress-step")).to_have_text("Asking custom (fake)…")
        screenshot(page, "sdp-stage-generating")
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("#stage-error")).to_contain_text("Generation cancelled")
    expect(page.locator("#progress")).to_be_hidden()
    page.reload()
    expect(page.locator(".sdp-head-badges .badge-active")).to_have_text("Active")


def test_compiled_stage_answers_at_once_and_phone_layout(page: Any) -> None:
    sign_up(page, "Phil Phone", email())
    project = new_project(page, "Phone")
    # Stages 1 and 2 by hand through the API, so that the database stage can compile.
    for number, data in ((1, PRODUCT), (2, DATA_MODEL)):
        api(page, "PATCH", f"/api/v1/projects/{project}/stages/{number}", {"data": data})
        api(page, "POST", f"/api/v1/projects/{project}/stages/{number}/complete")
    page.goto(f"/projects/{project}/stages/3")
    page.get_by_role("button", name="Compile SQL only (no AI)").click()
    page.wait_for_url("**msg=compiled**")
    expect(page.locator(".sdp-versions .badge-system")).to_have_text("Compiled")

    page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/sdp/{project}", f"/projects/{project}/stages/2", f"/projects/{project}/mcp"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a phone"
    page.goto(f"/sdp/{project}")
    screenshot(page, "sdp-overview-phone")


def test_a_finished_pipeline_compiles_a_valid_report(page: Any) -> None:
    sign_up(page, "Fran Finish", email())
    project = new_project(page, "Finished")
    stages = f"/api/v1/projects/{project}/stages"
    for number, name in enumerate(OUTPUTS, start=1):
        if name == "database":
            api(page, "POST", f"{stages}/3/generate", {"ai": False})
        else:
            api(page, "PATCH", f"{stages}/{number}", {"data": OUTPUTS[name]})
        api(page, "POST", f"{stages}/{number}/complete")
    page.goto(f"/projects/{project}/stages/9")
    page.get_by_role("button", name="Compile the report").click()
    page.wait_for_url("**msg=compiled**")
    expect(page.locator(".sdp-file-name")).to_have_text(["09-export/validation.json"])
    expect(page.locator(".sdp-file code")).to_contain_text('"status": "valid"')
    complete(page, 9)
    page.goto(f"/sdp/{project}")
    assert rail_status(page) == ["complete"] * 9
    expect(page.get_by_role("link", name="Review the last stage")).to_be_visible()
    page.goto(f"/projects/{project}/validation")
    expect(page.get_by_text("Everything checks out")).to_be_visible()
    expect(page.get_by_text("No errors.", exact=True)).to_be_visible()
    expect(page.get_by_text("No warnings.", exact=True)).to_be_visible()


def test_the_project_page_is_the_overview(page: Any) -> None:
    sign_up(page, "Petra Project", email())
    project = new_project(page, "Via projects")
    response = page.goto(f"/projects/{project}")
    if response is None or response.status == 404:
        pytest.skip("the projects area does not serve /projects/{id} yet")
    assert rail_status(page) == ["active"] + ["locked"] * 8
    # Every page of the area leads back to it.
    page.goto(f"/projects/{project}/validation")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    crumbs.get_by_role("link", name="Via projects").click()
    page.wait_for_url(f"**/projects/{project}")
    expect(page.locator(".sdp-rail")).to_be_visible()


def test_another_users_project_pages_are_not_found(page: Any) -> None:
    sign_up(page, "Owner Olga", email())
    project = new_project(page, "Private design")
    page.get_by_role("button", name="Log out").click()
    sign_up(page, "Nosy Nick", email())
    for path in (
        f"/sdp/{project}",
        f"/projects/{project}/stages/1",
        f"/projects/{project}/validation",
        f"/projects/{project}/exports",
        f"/projects/{project}/mcp",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        assert "Private design" not in page.content()
    # Nor can forms reach it.
    response = page.request.post(
        f"/projects/{project}/exports", form={"format": "zip", "csrf_token": csrf(page)}
    )
    assert response.status == 404
    response = page.request.post(
        f"/projects/{project}/exports/{uuid.uuid4()}/delete", form={"csrf_token": csrf(page)}
    )
    assert response.status == 404


def test_pages_of_missing_stages_and_bad_ids_are_not_found(page: Any) -> None:
    sign_up(page, "Ida Ids", email())
    project = new_project(page, "Ids")
    for path in (f"/projects/{project}/stages/10", "/projects/not-a-uuid/validation"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
