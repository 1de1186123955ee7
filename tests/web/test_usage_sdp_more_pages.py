"""More of the API in the browser: usage filtered by project and date range with paged AI
calls; a pipeline stage's versions (read one, compare it with the active one, activate it,
all of them paged); paged exports and MCP tokens; "save as template" with an icon."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest

from tests.packs.strategy_examples import INPUTS as STRATEGY_INPUTS
from tests.sdp.examples import PRODUCT
from tests.web.conftest import screenshot, sign_up
from tests.web.test_sdp_pages import api, csrf, new_project

expect = pytest.importorskip("playwright.sync_api").expect


def email() -> str:
    return f"more-{uuid.uuid4().hex[:10]}@example.com"


def generate_in(page: Any, name: str) -> str:
    """A strategy project with one finished AI generation (the fake provider's answer)."""
    project = api(
        page, "POST", "/api/v1/projects", {"name": name, "pack": "strategy", "phase": "define"}
    )
    created = api(
        page,
        "POST",
        f"/api/v1/projects/{project['id']}/artifacts",
        {
            "type": "value_proposition",
            "name": f"VP of {name}",
            "generate": True,
            "input_data": STRATEGY_INPUTS["value_proposition"],
        },
    )
    job_id = created["job"]["id"]
    deadline = time.monotonic() + 30
    while (job := api(page, "GET", f"/api/v1/jobs/{job_id}"))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    return str(project["id"])


def stat(page: Any, name: str) -> Any:
    return page.locator(".stat-grid div").filter(has_text=name).locator("dd")


# ------------------------------------------------------------------------------ usage
def test_usage_by_project_and_range_with_paged_calls(page: Any) -> None:
    sign_up(page, "Ulla Filter", email())
    new_project(page, "Design only")  # the default provider, and a project with no calls
    alpha = generate_in(page, "Alpha plan")
    generate_in(page, "Beta plan")
    today = dt.datetime.now(dt.UTC).date().isoformat()

    page.goto("/usage")
    expect(stat(page, "AI calls")).to_have_text("2")
    expect(page.locator("table.generations tbody tr")).to_have_count(2)

    # One project and today only: the totals, the charts and the list follow.
    page.get_by_label("Project", exact=True).select_option(label="Alpha plan")
    page.get_by_label("From", exact=True).fill(today)
    page.get_by_label("To", exact=True).fill(today)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**project_id={alpha}**")
    expect(page.locator("#totals-heading")).to_have_text(f"{today} to {today}")
    expect(page.locator(".usage-scope")).to_have_text("In Alpha plan")
    expect(stat(page, "AI calls")).to_have_text("1")
    expect(page.locator("#chart-tokens .chart-fill")).to_have_count(1)  # one day, one bar
    rows = page.locator("table.generations tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link", name="Alpha plan")).to_be_visible()
    expect(page.get_by_label("Project", exact=True)).to_have_value(alpha)
    expect(page.get_by_role("link", name="7 days")).not_to_have_attribute("aria-current", "page")
    screenshot(page, "usage-filtered")

    # A range without calls.
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("2020-01-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**from=2020-01-01**")
    expect(stat(page, "AI calls")).to_have_text("0")
    expect(page.locator("#chart-cost .chart-empty")).to_have_text("No AI calls in this period")
    # A preset keeps the project.
    page.get_by_role("link", name="90 days").click()
    expect(page.get_by_role("link", name="90 days")).to_have_attribute("aria-current", "page")
    expect(page.locator(".usage-scope")).to_have_text("In Alpha plan")
    expect(stat(page, "AI calls")).to_have_text("1")

    # The AI calls one page at a time (a page size in the address, as the API takes).
    page.goto("/usage?limit=1")
    rows = page.locator("table.generations tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link", name="Beta plan")).to_be_visible()  # newest first
    expect(page.get_by_role("link", name="← Newest")).to_have_count(0)
    page.get_by_role("link", name="Next page →").click()
    expect(rows.first.get_by_role("link", name="Alpha plan")).to_be_visible()
    expect(page.get_by_role("link", name="Next page →")).to_have_count(0)
    page.get_by_role("link", name="← Newest").click()
    expect(rows.first.get_by_role("link", name="Beta plan")).to_be_visible()
    # With a project chosen, the pages stay in it.
    page.goto(f"/usage?limit=1&project_id={alpha}")
    expect(rows).to_have_count(1)
    expect(page.get_by_role("link", name="Next page →")).to_have_count(0)
    screenshot(page, "usage-paged")


def test_usage_dates_that_are_wrong_are_said_next_to_their_field(page: Any) -> None:
    sign_up(page, "Dora Dates", email())
    response = page.goto("/usage?from=2025-13-45")
    assert response is not None and response.status == 422
    expect(page.locator("#usage-from-error")).to_have_text(
        "Enter a date as YYYY-MM-DD, for example 2025-03-31."
    )
    expect(page.get_by_label("From", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#totals-heading")).to_have_text("Last 30 days")  # still a page
    expect(page.locator("svg[role=img]")).to_have_count(3)

    # The start after the end, through the form.
    page.get_by_label("From", exact=True).fill("2025-02-10")
    page.get_by_label("To", exact=True).fill("2025-02-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#usage-from-error")).to_have_text(
        "The start must be on or before the end."
    )
    expect(page.get_by_label("From", exact=True)).to_have_value("2025-02-10")  # kept as typed
    expect(page.locator("#usage-to-error")).to_have_count(0)
    screenshot(page, "usage-bad-dates")

    for query, field in (
        ("to=0001-01-01", "to"),
        ("from=2000-01-01&to=2025-01-01", "from"),  # more than a year of bars
        ("project_id=nope", "project"),
    ):
        response = page.goto(f"/usage?{query}")
        assert response is not None and response.status == 422, query
        expect(page.locator(f"#usage-{field}-error")).to_be_visible()
    response = page.goto(f"/usage?project_id={uuid.uuid4()}")  # not theirs: as in the API
    assert response is not None and response.status == 404


# --------------------------------------------------------------------- stage versions
def two_versions(page: Any, name: str = "Team board") -> str:
    """An SDP project whose stage 1 has two versions written by hand; the second is active."""
    project = new_project(page, name)
    stage = f"/api/v1/projects/{project}/stages/1"
    api(page, "PATCH", stage, {"data": PRODUCT})
    api(page, "PATCH", stage, {"data": {**PRODUCT, "name": "Opsboard"}})
    return project


def test_stage_version_compare_and_activate(page: Any) -> None:
    sign_up(page, "Vera Versions", email())
    project = two_versions(page)
    stage = f"/projects/{project}/stages/1"

    page.goto(stage)
    expect(page.locator(".sdp-doc").first).to_contain_text("Opsboard")
    page.get_by_role("link", name="Open version 1").click()
    page.wait_for_url(f"**{stage}/versions/1")
    expect(page.get_by_role("heading", name="Version 1", level=1)).to_be_visible()
    expect(page.get_by_text("Not the active version: version 2 is.")).to_be_visible()
    # Rendered as the stage page renders its output: the Markdown document, the data file.
    expect(page.locator(".sdp-doc").first).to_contain_text(PRODUCT["name"])
    expect(page.locator(".sdp-doc").first).not_to_contain_text("Opsboard")
    expect(page.locator(".sdp-file-name")).to_contain_text(
        ["01-product/product.md", "01-product/product.json"]
    )
    about = page.locator(".kv")
    expect(about).to_contain_text("Edited by hand")
    expect(about).to_contain_text("Vera Versions")
    screenshot(page, "sdp-stage-version")

    page.get_by_role("link", name="Compare with active").click()
    page.wait_for_url(f"**{stage}/versions/1/compare")
    expect(page.locator("#diff-title")).to_have_text("Version 1 → version 2")
    expect(page.locator("tr.diff-del").first).to_contain_text(PRODUCT["name"])
    expect(page.locator("tr.diff-add").first).to_contain_text("Opsboard")
    screenshot(page, "sdp-stage-compare")
    page.get_by_label("Data (JSON)").check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url("**view=data")
    expect(page.locator("tr.diff-add")).to_have_count(1)
    expect(page.locator("tr.diff-add")).to_contain_text('"name": "Opsboard"')

    # Make version 1 the active one again: the stage shows it.
    page.get_by_role("link", name="Back to version 1").click()
    page.get_by_role("button", name="Make this the active version").click()
    page.wait_for_url(f"**{stage}?msg=activated")
    expect(page.get_by_text("That version is the stage's output now.")).to_be_visible()
    expect(page.locator(".sdp-head-badges")).to_contain_text("v1")
    expect(page.locator(".sdp-versions li.is-active")).to_contain_text("v1")
    expect(page.locator(".sdp-doc").first).to_contain_text(PRODUCT["name"])
    assert api(page, "GET", f"/api/v1/projects/{project}/stages/1")["active_version"] == 1
    screenshot(page, "sdp-stage-version-activated")

    # Every version, paged: the newest first, then the next page.
    page.get_by_role("link", name="All versions").click()
    page.wait_for_url(f"**{stage}/versions")
    table = page.locator(".sdp-version-table tbody tr")
    expect(table).to_have_count(2)
    expect(table.nth(1)).to_contain_text("Active")
    expect(table.nth(0).get_by_role("link", name="Compare with active")).to_be_visible()
    screenshot(page, "sdp-stage-versions")
    page.goto(f"{stage}/versions?limit=1")
    expect(table).to_have_count(1)
    expect(table.first).to_contain_text("Version 2")
    page.get_by_role("link", name="Next page →").click()
    expect(table.first).to_contain_text("Version 1")
    expect(page.get_by_role("link", name="Next page →")).to_have_count(0)

    # The active version compares with nothing; a form without its token changes nothing.
    page.goto(f"{stage}/versions/1/compare")
    expect(page.get_by_role("heading", name="This is the active version")).to_be_visible()
    response = page.request.post(f"{stage}/versions/2/activate", form={"csrf_token": "wrong"})
    assert response.ok and "msg=expired" in response.url
    assert api(page, "GET", f"/api/v1/projects/{project}/stages/1")["active_version"] == 1

    # They fit a phone (tables and the diff scroll inside their frame).
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"{stage}/versions", f"{stage}/versions/2", f"{stage}/versions/2/compare"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a phone"
    screenshot(page, "sdp-stage-compare-phone")


def test_another_users_stage_versions_are_not_found(page: Any) -> None:
    sign_up(page, "Olga Owner", email())
    project = two_versions(page, "Private versions")
    stage = f"/projects/{project}/stages/1"
    page.get_by_role("button", name="Log out").click()
    sign_up(page, "Nick Nosy", email())
    for path in (
        f"{stage}/versions",
        f"{stage}/versions/1",
        f"{stage}/versions/1/compare",
        f"/projects/{project}/stages/1/versions/99",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        assert "Private versions" not in page.content()
    response = page.request.post(f"{stage}/versions/1/activate", form={"csrf_token": csrf(page)})
    assert response.status == 404


# -------------------------------------------------------------------- exports and MCP
def test_exports_and_tokens_are_paged(page: Any) -> None:
    sign_up(page, "Petra Pages", email())
    project = new_project(page, "Paged")
    for _ in range(2):
        api(page, "POST", f"/api/v1/projects/{project}/exports", {"format": "zip"})
    for label in ("first", "second", "third"):
        api(page, "POST", f"/api/v1/projects/{project}/mcp-tokens", {"label": label})

    # The API pages them too (an export has no created_at: its cursor is its exported_at).
    first = api(page, "GET", f"/api/v1/projects/{project}/exports?limit=1")
    cursor = first["next_cursor"]
    rest = api(page, "GET", f"/api/v1/projects/{project}/exports?limit=1&cursor={cursor}")
    assert rest["items"][0]["id"] != first["items"][0]["id"] and rest["next_cursor"] is None

    page.goto(f"/projects/{project}/exports?limit=1")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Next page →").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Next page →")).to_have_count(0)
    expect(page.get_by_role("link", name="← Newest")).to_be_visible()

    page.goto(f"/projects/{project}/mcp?limit=2")
    expect(page.locator("#token-rows tr")).to_have_count(2)
    expect(page.locator("#token-rows tr").first).to_contain_text("third")
    page.get_by_role("link", name="Next page →").click()
    expect(page.locator("#token-rows tr")).to_have_count(1)
    expect(page.locator("#token-rows tr").first).to_contain_text("first")
    screenshot(page, "sdp-mcp-paged")


# ------------------------------------------------------------------- save as template
def test_save_as_template_with_an_icon(page: Any) -> None:
    sign_up(page, "Tess Template", email())
    project = new_project(page, "Icon source")
    page.goto(f"/sdp/{project}")
    form = page.locator("#template-form")
    form.get_by_label("Template name").fill("Ops starter")
    icon = form.get_by_label("Icon")
    expect(icon).to_have_value("layout-dashboard")
    icon.select_option("server")
    expect(page.locator('#template-icon-preview [data-icon="server"]')).to_be_visible()
    expect(page.locator('#template-icon-preview [data-icon="layout-dashboard"]')).to_be_hidden()
    form.get_by_role("button", name="Save as template").click()
    expect(page.locator("#template-result")).to_contain_text("Template “Ops starter” saved")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays at the top of the shot
    screenshot(page, "sdp-save-template-icon")

    saved = next(
        t for t in api(page, "GET", "/api/v1/templates")["items"] if t["name"] == "Ops starter"
    )
    assert saved["icon"] == "server"
    page.goto("/projects/new")
    choice = page.locator(".choice").filter(has_text="Ops starter")
    expect(choice.locator(".choice-icon")).to_have_attribute("data-icon", "server")
    expect(choice.locator(".choice-icon svg")).to_be_visible()  # drawn, not named
