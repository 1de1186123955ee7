"""More of the projects area in the browser: every project status with the actions that fit
it, an organization chosen at creation (and refused for a viewer), the dashboard's
organization filter with the others, and importing a package with JavaScript off."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.sdp.examples import OUTPUTS
from tests.web.conftest import screenshot, sign_up
from tests.web.test_organizations_pages import create_org
from tests.web.test_projects_pages import PROJECT_URL, card_names, create_project
from tests.web.test_sdp_pages import api, csrf, new_project

expect = pytest.importorskip("playwright.sync_api").expect


def email(kind: str = "more") -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}@example.com"


@contextmanager
def second_browser(browser: Any, base_url: str, **options: Any) -> Iterator[Any]:
    """Another person's browser (or this person's, given ``storage_state``)."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1280, "height": 900}, **options
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def status_buttons(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".status-actions button").all_inner_texts()]


# ------------------------------------------------------------------ status
def test_every_status_with_its_actions_and_badges(page: Any) -> None:
    sign_up(page, "Stella Status", email())
    project_id = create_project(page, "Status tour", "General")
    settings = f"/projects/{project_id}/settings"
    page.goto(settings)
    expect(page.locator("#status-now")).to_contain_text("active")
    assert status_buttons(page) == ["Mark completed", "Suspend project", "Archive project"]
    # The select offers every status with what it means.
    options = page.get_by_label("Set the status").locator("option").all_inner_texts()
    assert [o.split(":")[0] for o in options] == ["Active", "Completed", "Suspended", "Archived"]
    assert all(": " in o for o in options)

    expected = {
        "completed": (["Reopen project", "Archive project"], "Project marked completed", "Reopen"),
        "suspended": (["Resume project", "Archive project"], "Project suspended", "Resume"),
        "archived": (["Unarchive project"], "Project archived", "Unarchive"),
    }
    for status, (buttons, flash, verb) in expected.items():
        page.goto(settings)
        page.get_by_label("Set the status").select_option(status)
        page.get_by_role("button", name="Save status").click()
        expect(page.get_by_role("status").filter(has_text=flash)).to_be_visible()
        assert page.request.get(f"/api/v1/projects/{project_id}").json()["status"] == status
        expect(page.locator(".page-head .badge", has_text=status)).to_be_visible()
        expect(page.get_by_label("Set the status")).to_have_value(status)
        assert status_buttons(page) == buttons, status
        if status == "completed":
            page.evaluate("window.scrollTo(0, 0)")
            screenshot(page, "project-settings-status")
        # The dashboard's card carries the badge, and the status filter finds it.
        page.goto(f"/projects?status={status}")
        assert card_names(page) == ["Status tour"]
        expect(page.locator(".project-card .badge", has_text=status)).to_be_visible()
        # The project's page says so, with the way back.
        page.goto(f"/projects/{project_id}")
        note = page.get_by_role("status").filter(has_text=f"This project is {status}.")
        expect(note).to_contain_text(f"{verb} it in its settings")

    # The one-click action from each status goes back to active.
    for status, label in (("completed", "Reopen project"), ("suspended", "Resume project")):
        api(page, "PATCH", f"/api/v1/projects/{project_id}", {"status": status})
        page.goto(settings)
        page.get_by_role("button", name=label).click()
        expect(page.get_by_role("status").filter(has_text="active again")).to_be_visible()
        assert page.request.get(f"/api/v1/projects/{project_id}").json()["status"] == "active"
    page.get_by_role("button", name="Mark completed").click()
    expect(page.get_by_role("status").filter(has_text="Project marked completed")).to_be_visible()

    # An edited form no longer means "active": nothing changes, the error is on the page.
    response = page.request.post(
        f"/projects/{project_id}/status", form={"csrf_token": csrf(page), "status": "done"}
    )
    assert response.status == 422 and "Choose one of the statuses." in response.text()
    assert page.request.get(f"/api/v1/projects/{project_id}").json()["status"] == "completed"


# ------------------------------------------------------------------ organization at creation
def test_create_a_project_in_an_organization_and_a_viewer_cannot(
    page: Any, browser: Any, base_url: str
) -> None:
    sign_up(page, "Orla Org", email())
    # No organization yet: the form does not ask.
    page.goto("/projects/new")
    expect(page.get_by_label("Organization")).to_have_count(0)

    org_name = f"Studio {uuid.uuid4().hex[:4]}"
    org_id = create_org(page, org_name)
    page.goto("/projects/new")
    page.get_by_label("Name", exact=True).fill("Team launch")
    page.get_by_label("General", exact=True).check()
    select = page.get_by_label("Organization")
    expect(select).to_have_value("")  # optional: only you, unless chosen
    select.select_option(label=org_name)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top
    screenshot(page, "new-project-organization")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(PROJECT_URL)
    project_id = PROJECT_URL.search(page.url).group(1)  # type: ignore[union-attr]
    assert api(page, "GET", f"/api/v1/projects/{project_id}")["organization_id"] == org_id
    page.goto("/projects")
    expect(page.locator(".project-card", has_text="Team launch")).to_contain_text(
        f"shared · {org_name}"
    )

    # An organization the user is not in (an edited or stale form): the error is next to
    # the field and what was typed is kept.
    page.goto("/projects/new")
    page.get_by_label("Name", exact=True).fill("Elsewhere")
    page.get_by_label("General", exact=True).check()
    page.evaluate(
        "id => { const o = document.querySelector('#organization_id option:last-child');"
        " o.value = id; o.selected = true; }",
        str(uuid.uuid4()),
    )
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("#organization_id-error")).to_have_text(
        "You are not in this organization (any more); choose another."
    )
    expect(page.get_by_label("Organization")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Elsewhere")
    screenshot(page, "new-project-organization-error")

    # A viewer of the organization is not offered it, and the service refuses it anyway.
    viewer_email = email("viewer")
    with second_browser(browser, base_url) as viewer:
        sign_up(viewer, "Vic Viewer", viewer_email)
        api(
            page,
            "POST",
            f"/api/v1/organizations/{org_id}/members",
            {"email": viewer_email, "role": "VIEWER"},
        )
        viewer.goto("/projects/new")
        expect(viewer.get_by_label("Organization")).to_have_count(0)
        response = viewer.request.post(
            "/projects/new",
            form={
                "csrf_token": csrf(viewer),
                "name": "Sneaky",
                "pack": "general",
                "start": "blank",
                "organization_id": org_id,
            },
        )
        assert response.status == 422
        assert "viewers cannot add projects" in response.text()
        # Viewers still filter by the organization: they see what it shares.
        viewer.goto("/projects")
        viewer.get_by_label("Organization").select_option(label=org_name)
        viewer.get_by_role("button", name="Apply").click()
        viewer.wait_for_url(f"**organization={org_id}**")
        assert card_names(viewer) == ["Team launch"]


# ------------------------------------------------------------------ dashboard filter
def test_dashboard_organization_filter_with_the_other_filters(page: Any) -> None:
    sign_up(page, "Fred Filter", email())
    first = api(page, "POST", "/api/v1/organizations", {"name": f"North {uuid.uuid4().hex[:4]}"})
    second = api(page, "POST", "/api/v1/organizations", {"name": f"South {uuid.uuid4().hex[:4]}"})
    for name, pack, org in (
        ("North plan", "strategy", first["id"]),
        ("North notes", "general", first["id"]),
        ("South plan", "strategy", second["id"]),
        ("Solo plan", "strategy", None),
    ):
        api(page, "POST", "/api/v1/projects", {"name": name, "pack": pack, "organization_id": org})

    page.goto("/projects")
    assert len(card_names(page)) == 4
    page.get_by_label("Organization").select_option(label=first["name"])
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**organization={first['id']}**")
    assert sorted(card_names(page)) == ["North notes", "North plan"]
    expect(page.get_by_label("Organization")).to_have_value(first["id"])
    screenshot(page, "dashboard-organization-filter")

    # Together with the kind and the search.
    page.get_by_label("Kind").select_option("strategy")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**pack=strategy**")
    assert card_names(page) == ["North plan"]
    page.get_by_label("Search by name").fill("notes")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="No projects match")).to_be_visible()

    # Another organization, then all of them again.
    page.goto(f"/projects?organization={second['id']}")
    assert card_names(page) == ["South plan"]
    page.get_by_role("link", name="Clear").click()
    assert len(card_names(page)) == 4
    # An organization the user is not in (an edited address) filters nothing.
    page.goto(f"/projects?organization={uuid.uuid4()}")
    assert len(card_names(page)) == 4
    expect(page.get_by_label("Organization")).to_have_value("")


def test_dashboard_filter_fits_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, "Phil Phone", email())
    api(page, "POST", "/api/v1/organizations", {"name": f"Pocket {uuid.uuid4().hex[:4]}"})
    page.goto("/projects")
    expect(page.get_by_label("Organization")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "dashboard-organization-filter-phone")


# ------------------------------------------------------------------ import without JavaScript
def exported_package(page: Any, tmp_path: Path) -> tuple[str, Path]:
    """An SDP project with a completed first stage, exported; its id and the zip."""
    project_id = new_project(page, "Offline design")
    api(page, "PATCH", f"/api/v1/projects/{project_id}/stages/1", {"data": OUTPUTS["product"]})
    api(page, "POST", f"/api/v1/projects/{project_id}/stages/1/complete")
    export = api(page, "POST", f"/api/v1/projects/{project_id}/exports")
    download = page.request.get(export["download_url"])
    assert download.ok
    package = tmp_path / "design.zip"
    package.write_bytes(download.body())
    return project_id, package


def tampered(package: Path, tmp_path: Path) -> tuple[Path, str]:
    """The package with one stage file changed after export: its checksum fails."""
    with zipfile.ZipFile(package) as source:
        files = {name: source.read(name) for name in source.namelist()}
    product = next(name for name in files if name.endswith("product.json"))
    broken = tmp_path / "tampered.zip"
    with zipfile.ZipFile(broken, "w") as target:
        for name, data in files.items():
            target.writestr(name, data + b" " if name == product else data)
    return broken, product


def import_file(page: Any, path: Path | dict[str, Any] | None) -> Any:
    """Submit the import form (a plain form post: JavaScript is off); the response."""
    page.goto("/projects/new")
    section = page.locator(".import-package")
    if path is not None:
        section.get_by_label("Package file").set_input_files(
            str(path) if isinstance(path, Path) else path
        )
    with page.expect_navigation() as navigation:
        section.get_by_role("button", name="Import package").click()
    return navigation.value


def expect_import_error(page: Any, response: Any, text: str) -> None:
    assert response.status in (400, 413, 422)
    assert response.headers["content-type"].startswith("text/html")
    error = page.locator("#import-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(text)
    expect(page.get_by_label("Package file")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("heading", name="New project", level=1)).to_be_visible()


def test_import_without_javascript(page: Any, browser: Any, base_url: str, tmp_path: Path) -> None:
    sign_up(page, "Nora NoScript", email())
    source_id, package = exported_package(page, tmp_path)
    broken, product = tampered(package, tmp_path)

    with second_browser(
        browser, base_url, java_script_enabled=False, storage_state=page.context.storage_state()
    ) as plain:
        # Errors come back as the page, next to the file field, never as the API's JSON.
        expect_import_error(plain, import_file(plain, None), "Choose the package's .zip file.")
        response = import_file(plain, broken)
        expect_import_error(plain, response, f"{product}: checksum does not match")
        plain.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top
        screenshot(plain, "import-nojs-error")
        not_zip = {"name": "notes.zip", "mimeType": "application/zip", "buffer": b"not a zip"}
        expect_import_error(plain, import_file(plain, not_zip), "the upload is not a zip file")
        # One byte over the limit: the page says so (the body limit lets the form through).
        too_big = {
            "name": "huge.zip",
            "mimeType": "application/zip",
            "buffer": b"\0" * (20 * 1024 * 1024 + 1),
        }
        expect_import_error(plain, import_file(plain, too_big), "up to 20 MB")
        # Reloading the address of a refused import opens the form again.
        assert plain.url.endswith("/projects/import")
        plain.goto("/projects/import")
        assert plain.url.endswith("/projects/new#import-heading")
        # Far over it: refused before a byte is read, and still told on the form.
        too_big["buffer"] = b"\0" * (25 * 1024 * 1024)
        response = import_file(plain, too_big)
        assert response.status == 200 and "/projects/new?msg=too-large" in plain.url
        expect(plain.locator("#import-error")).to_have_text(
            "This file is too large: packages can be up to 20 MB."
        )

        # A valid package opens the new project.
        response = import_file(plain, package)
        assert response.status == 200
        match = PROJECT_URL.search(plain.url)
        assert match is not None and match.group(1) != source_id
        imported_id = match.group(1)
        expect(plain.get_by_role("heading", name="Offline design", level=1)).to_be_visible()
        screenshot(plain, "import-nojs-done")

    imported = api(page, "GET", f"/api/v1/projects/{imported_id}")
    assert imported["pack"] == "sdp"
    stage = api(page, "GET", f"/api/v1/projects/{imported_id}/stages/1")
    assert stage["status"] == "complete"

    # Without the form's token: refused on the page, nothing imported.
    before = len(api(page, "GET", "/api/v1/projects?pack=sdp")["items"])
    response = page.request.post(
        "/projects/import",
        multipart={
            "file": {"name": "d.zip", "mimeType": "application/zip", "buffer": package.read_bytes()}
        },
    )
    assert response.status == 400 and "The form expired" in response.text()
    assert len(api(page, "GET", "/api/v1/projects?pack=sdp")["items"]) == before

    # Another person cannot see the imported project.
    with second_browser(browser, base_url) as other:
        sign_up(other, "Olaf Other", email("other"))
        for path in (f"/projects/{imported_id}", f"/projects/{imported_id}/settings"):
            response = other.goto(path)
            assert response is not None and response.status == 404, path
            assert "Offline design" not in other.content()
        assert other.request.get(f"/api/v1/projects/{imported_id}").status == 404
