"""What the API does with an artifact, done from the browser: rename, duplicate under a
chosen name, an old version in full (then activated), delete; and a general project's
tools, artifacts and exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.factories import BRIEF_OUTPUT
from tests.web.conftest import sign_up
from tests.web.test_strategy_pages import (
    SLOW,
    VP_INPUT,
    VP_OUTPUT,
    add_provider,
    create_artifact,
    csrf_headers,
    email,
    new_user_with_project,
    shot,
)

NEW_VALUE_PROPOSITION = "Tools from neighbours, the same day, with nothing to store."


def vp_artifact(page: Any, project_id: str, name: str = "ShedShare VP") -> str:
    return create_artifact(
        page,
        project_id,
        type="value_proposition",
        name=name,
        input_data=VP_INPUT,
        output_data=VP_OUTPUT,
    )


def second_version(page: Any, artifact_id: str) -> None:
    """Version 2, a human edit through the API; it becomes the active one."""
    response = page.request.patch(
        f"/api/v1/artifacts/{artifact_id}",
        data={"output_data": {**VP_OUTPUT, "value_proposition": NEW_VALUE_PROPOSITION}},
        headers=csrf_headers(page),
    )
    assert response.ok, response.text()


def api_artifact(page: Any, artifact_id: str) -> Any:
    return page.request.get(f"/api/v1/artifacts/{artifact_id}")


def test_rename_shows_an_empty_name_next_to_the_field(page: Any) -> None:
    project_id = new_user_with_project(page, "Renata Rename")
    artifact_id = vp_artifact(page, project_id)
    page.goto(f"/artifacts/{artifact_id}")
    field = page.get_by_label("Name", exact=True)
    expect(field).to_have_value("ShedShare VP")

    field.fill("   ")
    page.get_by_role("button", name="Rename").click()
    error = page.locator("#rename-name-error")
    expect(error).to_have_text("Required: please fill this in.")
    field = page.get_by_label("Name", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    assert "rename-name-error" in (field.get_attribute("aria-describedby") or "")
    expect(field).to_be_focused()
    expect(page.get_by_role("heading", name="ShedShare VP", level=1)).to_be_visible()
    assert api_artifact(page, artifact_id).json()["name"] == "ShedShare VP"
    shot(page, "artifact-rename-error")

    field.fill("  ShedShare   value proposition ")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_url(f"**/artifacts/{artifact_id}?msg=renamed")
    expect(page.get_by_role("status")).to_have_text("Renamed.")
    expect(page.get_by_role("heading", name="ShedShare value proposition", level=1)).to_be_visible()
    assert api_artifact(page, artifact_id).json()["name"] == "ShedShare value proposition"
    expect(page.locator(".tree [aria-current=page]")).to_contain_text("value proposition")


def test_duplicate_under_a_chosen_name_joins_the_history(page: Any) -> None:
    project_id = new_user_with_project(page, "Dupont Duplicate")
    artifact_id = vp_artifact(page, project_id)
    page.goto(f"/artifacts/{artifact_id}")
    copy_name = page.get_by_label("Name of the copy")
    expect(copy_name).to_have_attribute("placeholder", "ShedShare VP (copy)")
    copy_name.fill("ShedShare VP for landlords")
    page.get_by_role("button", name="Duplicate").click()
    page.wait_for_url(lambda url: artifact_id not in url)
    assert page.url.endswith("?msg=duplicated")
    expect(page.get_by_role("heading", name="ShedShare VP for landlords", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("This is the copy")
    expect(page.locator(".doc")).to_contain_text(VP_OUTPUT["value_proposition"])

    # The iteration history: the original and, marked as this page, the named duplicate.
    tree = page.locator(".tree")
    current = tree.locator("[aria-current=page]")
    expect(current).to_contain_text("ShedShare VP for landlords")
    expect(current).to_contain_text("duplicate")
    original = tree.get_by_role("link", name="ShedShare VP original", exact=False)
    expect(original).to_have_attribute("href", f"/artifacts/{artifact_id}")
    shot(page, "artifact-duplicated")

    # Seen from the original, the copy is its child.
    original.click()
    page.wait_for_url(f"**/artifacts/{artifact_id}")
    expect(page.locator(".tree ul")).to_contain_text("ShedShare VP for landlords")


def test_an_old_version_in_full_then_made_active(page: Any) -> None:
    project_id = new_user_with_project(page, "Vera Versions")
    artifact_id = vp_artifact(page, project_id)
    second_version(page, artifact_id)
    page.goto(f"/artifacts/{artifact_id}")
    expect(page.locator(".doc")).to_contain_text(NEW_VALUE_PROPOSITION)

    page.locator(".version-list").get_by_role("link", name="Version 1").click()
    page.wait_for_url(f"**/artifacts/{artifact_id}/versions/1")
    expect(page.get_by_role("heading", name="Version 1", level=1)).to_be_visible()
    document = page.locator(".doc")
    expect(document).to_contain_text(VP_OUTPUT["value_proposition"])
    expect(document.get_by_role("heading", name="Customer profile")).to_be_visible()
    assert NEW_VALUE_PROPOSITION not in document.inner_text()
    expect(page.locator(".meta-line")).to_contain_text("Not the active version: version 2 is.")
    facts = page.locator(".version-facts")
    expect(facts).to_contain_text("Vera Versions")
    expect(facts).to_contain_text("UTC")
    # Only looked at: the active version is still 2.
    assert api_artifact(page, artifact_id).json()["active_version"] == 2
    shot(page, "artifact-version")

    page.get_by_role("link", name="Compare with active").click()
    page.wait_for_url(f"**/artifacts/{artifact_id}/compare?a=1&b=2")
    expect(page.locator("tr.diff-add")).to_contain_text("with nothing to store.")
    page.go_back()

    page.get_by_role("button", name="Make this the active version").click()
    page.wait_for_url(f"**/artifacts/{artifact_id}?activated=1")
    expect(page.get_by_role("status")).to_have_text("Version 1 is the active version now.")
    expect(page.locator(".version.is-active")).to_contain_text("Version 1")
    expect(page.locator(".doc")).to_contain_text(VP_OUTPUT["value_proposition"])
    assert api_artifact(page, artifact_id).json()["active_version"] == 1

    # Version 2's page now offers to go back to it; version 1's offers nothing to do.
    page.goto(f"/artifacts/{artifact_id}/versions/2")
    expect(page.locator(".doc")).to_contain_text(NEW_VALUE_PROPOSITION)
    expect(page.get_by_role("button", name="Make this the active version")).to_be_visible()
    page.get_by_role("link", name="← Version 1").click()
    page.wait_for_url(f"**/artifacts/{artifact_id}/versions/1")
    expect(page.locator(".meta-line .badge-succeeded")).to_have_text("active")
    expect(page.get_by_role("button", name="Make this the active version")).to_have_count(0)
    expect(page.get_by_role("link", name="Compare with active")).to_have_count(0)
    for missing in ("3", "0", "x"):
        answer = page.goto(f"/artifacts/{artifact_id}/versions/{missing}")
        assert answer is not None and answer.status == 404, missing


def test_delete_asks_first_then_leaves_the_project(page: Any) -> None:
    project_id = new_user_with_project(page, "Dana Delete")
    artifact_id = vp_artifact(page, project_id, name="Doomed VP")
    page.goto(f"/artifacts/{artifact_id}")
    dialogs: list[str] = []

    # Dismissed: nothing happens.
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Delete this artifact").click()
    expect(page.get_by_role("heading", name="Doomed VP", level=1)).to_be_visible()
    assert api_artifact(page, artifact_id).ok
    assert dialogs and "Delete “Doomed VP”?" in dialogs[0]

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete this artifact").click()
    page.wait_for_url(f"**/projects/{project_id}?msg=artifact-deleted")
    expect(page.get_by_role("status")).to_have_text("Artifact deleted.")
    expect(page.get_by_role("link", name="Doomed VP")).to_have_count(0)
    shot(page, "artifact-deleted")
    assert api_artifact(page, artifact_id).status == 404
    answer = page.goto(f"/artifacts/{artifact_id}")
    assert answer is not None and answer.status == 404


def test_a_stage_artifact_offers_no_delete(page: Any) -> None:
    sign_up(page, "Stan Stage", email())
    response = page.request.post(
        "/api/v1/projects", data={"name": "Pipeline", "pack": "sdp"}, headers=csrf_headers(page)
    )
    assert response.ok, response.text()
    project_id = response.json()["id"]
    stages = page.request.get(f"/api/v1/projects/{project_id}/stages").json()["items"]
    artifact_id = stages[0]["artifact_id"]
    page.goto(f"/artifacts/{artifact_id}")
    expect(page.get_by_role("heading", name="Rename, duplicate or delete")).to_be_visible()
    expect(page.get_by_role("button", name="Delete this artifact")).to_have_count(0)
    token = csrf_headers(page)["X-CSRF-Token"]
    answer = page.request.post(f"/artifacts/{artifact_id}/delete", form={"csrf_token": token})
    assert answer.status == 404
    assert api_artifact(page, artifact_id).ok


def test_a_general_project_from_tool_card_to_artifact_and_exports(page: Any) -> None:
    sign_up(page, "Gus General", email())
    add_provider(page)
    response = page.request.post(
        "/api/v1/projects",
        data={"name": "Side ideas", "pack": "general"},
        headers=csrf_headers(page),
    )
    assert response.ok, response.text()
    project_id = response.json()["id"]
    page.goto(f"/projects/{project_id}")
    card = page.get_by_role("article").filter(has=page.get_by_role("heading", name="Brief"))
    expect(card).to_contain_text("A one-page product or business brief")
    expect(page.get_by_role("heading", name="No artifacts yet")).to_be_visible()
    assert "POST /api/v1" not in page.content()
    for label, fmt in (("Markdown", "md"), ("PDF", "pdf"), ("JSON", "json")):
        link = page.get_by_role("link", name=label, exact=True)
        expect(link).to_have_attribute("href", f"/api/v1/projects/{project_id}/export?format={fmt}")
    shot(page, "general-project-empty")

    card.get_by_role("link", name="New brief").click()
    page.wait_for_url(f"**/projects/{project_id}/tools/brief/new")
    page.locator("#f-name").fill("Tiny CRM")
    page.locator("#f-idea").fill("An offline CRM for plumbers, who lose leads on the road.")
    page.locator("#f-_name").fill("Tiny CRM brief")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/artifacts/*?job=*")
    expect(page.locator(".doc")).to_contain_text(BRIEF_OUTPUT["summary"], timeout=SLOW)
    artifact_url = page.url.split("?")[0]

    # Its version as generated: by the AI, at the user's request, with model and cost.
    page.locator(".version-list").get_by_role("link", name="Version 1").click()
    page.wait_for_url(f"{artifact_url}/versions/1")
    facts = page.locator(".version-facts")
    expect(facts).to_contain_text("AI generation")
    expect(facts).to_contain_text("Gus General")
    expect(facts).to_contain_text("fake")
    expect(facts).to_contain_text("Cost")
    expect(page.locator(".doc")).to_contain_text(BRIEF_OUTPUT["summary"])
    shot(page, "artifact-version-ai")

    page.get_by_role("link", name="Side ideas").click()
    page.wait_for_url(f"**/projects/{project_id}")
    link = page.get_by_role("link", name="Tiny CRM brief")
    expect(link).to_have_attribute("href", re.compile(r"^/artifacts/[0-9a-f-]{36}$"))
    row = page.get_by_role("row").filter(has_text="Tiny CRM brief")
    expect(row).to_contain_text("Brief")
    expect(row).to_contain_text("v1")
    shot(page, "general-project")
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON", exact=True).click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert "Tiny CRM brief" in json.dumps(exported)
    link.click()
    page.wait_for_url(artifact_url)


def test_another_user_gets_404s_on_the_new_pages_and_forms(
    page: Any, browser: Any, base_url: str
) -> None:
    project_id = new_user_with_project(page, "Owner Otto")
    artifact_id = vp_artifact(page, project_id, name="Private VP")
    second_version(page, artifact_id)

    context = browser.new_context(base_url=base_url)
    try:
        other = context.new_page()
        sign_up(other, "Nosy Nina", email())
        for number in (1, 2):
            path = f"/artifacts/{artifact_id}/versions/{number}"
            answer = other.goto(path)
            assert answer is not None and answer.status == 404, path
            expect(other.get_by_role("heading", name="Not found")).to_be_visible()
            assert "Private VP" not in other.content()
        token = csrf_headers(other)["X-CSRF-Token"]
        for action, form in (
            ("rename", {"name": "Mine now", "csrf_token": token}),
            ("duplicate", {"name": "Stolen VP", "csrf_token": token}),
            ("delete", {"csrf_token": token}),
        ):
            answer = other.request.post(f"/artifacts/{artifact_id}/{action}", form=form)
            assert answer.status == 404, action
    finally:
        context.close()
    # Nothing happened to it.
    assert api_artifact(page, artifact_id).json()["name"] == "Private VP"
    listed = page.request.get(f"/api/v1/projects/{project_id}/artifacts").json()["items"]
    assert [a["name"] for a in listed] == ["Private VP"]


def test_the_new_pages_fit_a_phone(page: Any) -> None:
    project_id = new_user_with_project(page, "Phoebe Phone")
    artifact_id = vp_artifact(page, project_id)
    second_version(page, artifact_id)
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (
        (f"/artifacts/{artifact_id}/versions/1", "phone-artifact-version"),
        (f"/artifacts/{artifact_id}", "phone-artifact-manage"),
    ):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        shot(page, name)
