"""The projects dashboard, creating projects (blank and from a template), a project's
settings (rename, archive, delete, restore), tenant isolation and the phone layout."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.web.conftest import screenshot, sign_up

expect = pytest.importorskip("playwright.sync_api").expect

PROJECT_URL = re.compile(r"/projects/([0-9a-f-]{36})$")


def email() -> str:
    return f"proj-{uuid.uuid4().hex[:10]}@example.com"


def create_project(
    page: Any, name: str, kind: str = "Strategy", template: str | None = None
) -> str:
    """Through the "New project" form; returns the new project's id."""
    page.goto("/projects/new")
    page.get_by_label("Name", exact=True).fill(name)
    if template:
        page.get_by_label(template).check()
    else:
        page.get_by_label(kind, exact=True).check()
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(PROJECT_URL)
    match = PROJECT_URL.search(page.url)
    assert match is not None
    return match.group(1)


def card_names(page: Any) -> list[str]:
    return [n.strip() for n in page.locator("#project-list .project-name").all_inner_texts()]


def test_empty_dashboard_welcomes_once_and_shows_the_way(page: Any) -> None:
    sign_up(page, "Dana Dash", email())
    expect(
        page.get_by_role("status").filter(has_text="Welcome to Atelier, Dana Dash!")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Create your first project")).to_be_visible()
    expect(page.get_by_role("link", name="Create your first project")).to_be_visible()
    # The templates are offered right there.
    saas = page.get_by_role("link", name=re.compile("SaaS Dashboard"))
    expect(saas).to_be_visible()
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Projects")).to_have_attribute("aria-current", "page")
    screenshot(page, "dashboard-empty")
    # The welcome is one-time: the address no longer asks for it.
    page.reload()
    expect(page.get_by_text("Welcome to Atelier")).to_have_count(0)
    expect(page.get_by_role("heading", name="Create your first project")).to_be_visible()
    # A template link preselects that template in the form.
    saas.click()
    expect(page.get_by_label("SaaS Dashboard")).to_be_checked()
    expect(page.get_by_role("group", name="Kind of project")).to_be_hidden()


def test_create_blank_and_template_projects_then_search_and_filter(page: Any) -> None:
    sign_up(page, "Cleo Create", email())
    # Validation: the error is next to the field, what was typed is kept.
    page.goto("/projects/new")
    page.get_by_label("Description").fill("Kept after the error")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("#name-error")).to_have_text("Give the project a name.")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Description")).to_have_value("Kept after the error")
    screenshot(page, "new-project-errors")

    strategy_id = create_project(page, "Launch plan", "Strategy")
    project = page.request.get(f"/api/v1/projects/{strategy_id}").json()
    assert project["pack"] == "strategy" and project["name"] == "Launch plan"

    page.goto("/projects/new")
    page.get_by_label("Name", exact=True).fill("Team metrics")
    page.get_by_label("SaaS Dashboard").check()
    expect(page.get_by_role("group", name="Kind of project")).to_be_hidden()
    screenshot(page, "new-project-template")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(PROJECT_URL)
    sdp_id = PROJECT_URL.search(page.url).group(1)  # type: ignore[union-attr]
    assert page.request.get(f"/api/v1/projects/{sdp_id}").json()["pack"] == "sdp"
    stages = page.request.get(f"/api/v1/projects/{sdp_id}/stages").json()["items"]
    assert len(stages) == 9
    assert "multi-tenant SaaS product" in stages[0]["user_input"]
    assert all(s["user_input"] for s in stages[:8])  # every AI stage got its guidance

    page.goto("/projects")
    assert sorted(card_names(page)) == ["Launch plan", "Team metrics"]
    expect(page.locator(".project-card", has_text="Team metrics")).to_contain_text("Stage 1 of 9")
    expect(page.locator(".project-card", has_text="Launch plan")).to_contain_text("Phase: Discover")
    screenshot(page, "dashboard")

    page.get_by_label("Search by name").fill("team")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/projects?q=team**")
    assert card_names(page) == ["Team metrics"]

    page.get_by_label("Search by name").fill("")
    page.get_by_label("Kind").select_option("strategy")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**pack=strategy**")
    assert card_names(page) == ["Launch plan"]

    page.get_by_label("Kind").select_option("")
    page.get_by_label("Phase").select_option("deliver")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="No projects match")).to_be_visible()
    page.get_by_role("link", name="Clear the filters").click()
    assert len(card_names(page)) == 2

    # Cards open their project.
    page.get_by_role("link", name="Launch plan").click()
    page.wait_for_url(f"**/projects/{strategy_id}")


def test_load_more_appends_the_next_page(page: Any) -> None:
    sign_up(page, "Lou Loadmore", email())
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    for n in range(26):  # a page holds 24
        response = page.request.post(
            "/api/v1/projects",
            data={"name": f"Bulk {n:02d}", "pack": "general"},
            headers={"X-CSRF-Token": token},
        )
        assert response.status == 201
    page.goto("/projects")
    assert len(card_names(page)) == 24
    page.get_by_role("link", name="Load more projects").click()
    expect(page.locator("#project-list .project-card")).to_have_count(26)
    # Focus lands on the first card that arrived (the button that had it is gone).
    expect(page.locator("#project-list > li").nth(24).get_by_role("link")).to_be_focused()
    expect(page.get_by_role("link", name="Load more projects")).to_have_count(0)
    assert sorted(card_names(page)) == [f"Bulk {n:02d}" for n in range(26)]


def test_rename_archive_delete_and_restore(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    sign_up(page, "Rita Rename", email())
    project_id = create_project(page, "Old name", "General")
    expect(page.get_by_role("heading", name="Old name")).to_be_visible()  # the generic page
    expect(page.get_by_role("heading", name="No artifacts yet")).to_be_visible()
    screenshot(page, "project-generic")

    page.goto(f"/projects/{project_id}/settings")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#name-error")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("New name")
    page.get_by_label("Description").fill("What it is about")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("status").filter(has_text="Project details saved.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("New name")
    screenshot(page, "project-settings")

    page.get_by_role("button", name="Archive project").click()
    expect(page.get_by_role("status").filter(has_text="Project archived")).to_be_visible()
    assert page.request.get(f"/api/v1/projects/{project_id}").json()["status"] == "archived"
    page.goto("/projects?status=archived")
    assert card_names(page) == ["New name"]
    page.goto(f"/projects/{project_id}/settings")
    page.get_by_role("button", name="Unarchive project").click()
    expect(page.get_by_role("status").filter(has_text="active again")).to_be_visible()

    page.get_by_role("button", name="Delete project").click()
    page.wait_for_url("**/projects?msg=deleted")
    expect(page.get_by_role("status").filter(has_text="moved to the trash")).to_be_visible()
    assert card_names(page) == []
    assert page.goto(f"/projects/{project_id}").status == 404

    page.goto("/projects")
    page.get_by_role("link", name="Trash").click()
    expect(page.get_by_role("link", name="Trash")).to_have_attribute("aria-current", "page")
    assert card_names(page) == ["New name"]
    screenshot(page, "dashboard-trash")
    page.get_by_role("button", name="Restore New name").click()
    page.wait_for_url("**/projects?msg=restored")
    assert card_names(page) == ["New name"]
    assert page.goto(f"/projects/{project_id}").status == 200


def test_another_user_gets_the_404_page(page: Any) -> None:
    sign_up(page, "Owner Olga", email())
    project_id = create_project(page, "Olga's secret plan", "Strategy")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")

    sign_up(page, "Intruder Ivan", email())
    for path in (f"/projects/{project_id}", f"/projects/{project_id}/settings"):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        assert "Olga's secret plan" not in page.content()
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    for action in ("delete", "settings", "status", "restore"):
        response = page.request.post(
            f"/projects/{project_id}/{action}",
            form={"csrf_token": token, "name": "Pwned", "status": "archived"},
            max_redirects=0,
        )
        assert response.status == 404, action
    page.goto("/projects")
    assert card_names(page) == []


def test_dashboard_fits_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, "Pia Phone", email())
    screenshot(page, "dashboard-phone-empty")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    first = create_project(page, "A project with a rather long name to wrap on a phone", "Strategy")
    create_project(page, "Second", template="REST API")
    for path in (
        "/projects",
        "/projects/new",
        "/projects?deleted=true",
        f"/projects/{first}/settings",
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    page.goto("/projects")
    screenshot(page, "dashboard-phone")


def test_keyboard_reaches_the_filters_and_cards(page: Any) -> None:
    sign_up(page, "Kai Keys", email())
    create_project(page, "Keyboard project", "General")
    page.goto("/projects")
    page.get_by_label("Search by name").focus()
    page.keyboard.type("keyboard")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=keyboard**")
    focused: list[str] = []
    while "Keyboard project" not in focused and len(focused) < 30:
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    # In reading order: the header, the action, the views, the filters, then the cards.
    order = ["Log out", "New project", "Trash", "Apply", "Clear", "Keyboard project"]
    positions = [focused.index(name) for name in order]
    assert positions == sorted(positions), focused
    page.keyboard.press("Enter")  # on the card's link
    page.wait_for_url(PROJECT_URL)


def test_generic_project_page_lists_artifacts(page: Any) -> None:
    sign_up(page, "Gia Generic", email())
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    headers = {"X-CSRF-Token": token}
    project = page.request.post(
        "/api/v1/projects",
        data={"name": "Notes", "pack": "general", "description": "Loose notes"},
        headers=headers,
    ).json()
    artifact = page.request.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        data={"type": "notes", "name": "Kick-off", "output_data": {"points": ["ship"]}},
        headers=headers,
    ).json()
    page.goto(f"/projects/{project['id']}")
    expect(page.get_by_role("heading", name="Notes", exact=True)).to_be_visible()
    expect(page.get_by_text("Loose notes")).to_be_visible()
    link = page.get_by_role("link", name="Kick-off")
    expect(link).to_have_attribute("href", f"/artifacts/{artifact['id']}")
    expect(page.get_by_role("row").filter(has_text="Kick-off")).to_contain_text("v1")
    page.get_by_role("link", name="Settings", exact=True).last.click()
    page.wait_for_url(f"**/projects/{project['id']}/settings")


def test_project_provider_override_and_sharing(page: Any) -> None:
    sign_up(page, "Sam Share", email())
    headers = {"X-CSRF-Token": page.locator("meta[name=csrf-token]").get_attribute("content")}
    provider = page.request.post(
        "/api/v1/ai-providers",
        data={
            "provider": "custom",
            "label": "Team vLLM",
            "default_model": "qwen2.5-7b",
            "base_url": "http://127.0.0.1:9/v1",
        },
        headers=headers,
    ).json()
    org = page.request.post(
        "/api/v1/organizations", data={"name": f"Acme {uuid.uuid4().hex[:6]}"}, headers=headers
    ).json()
    project_id = create_project(page, "Shared plan", "Strategy")

    page.goto(f"/projects/{project_id}/settings")
    page.get_by_label("Provider for this project").select_option(provider["id"])
    page.get_by_role("button", name="Save provider").click()
    expect(
        page.get_by_role("status").filter(has_text="AI provider for this project")
    ).to_be_visible()
    assert (
        page.request.get(f"/api/v1/projects/{project_id}").json()["ai_provider_id"]
        == (provider["id"])
    )
    expect(page.get_by_label("Provider for this project")).to_have_value(provider["id"])

    page.get_by_label("Organization").select_option(label=org["name"])
    page.get_by_role("button", name="Save sharing").click()
    expect(page.get_by_role("status").filter(has_text="Sharing saved.")).to_be_visible()
    shared = page.request.get(f"/api/v1/projects/{project_id}").json()
    assert shared["organization_id"] == org["id"]

    page.get_by_label("Provider for this project").select_option("")
    page.get_by_role("button", name="Save provider").click()
    expect(
        page.get_by_role("status").filter(has_text="AI provider for this project")
    ).to_be_visible()
    assert page.request.get(f"/api/v1/projects/{project_id}").json()["ai_provider_id"] is None

    page.goto("/projects")
    expect(page.locator(".project-card", has_text="Shared plan")).to_contain_text("shared")
