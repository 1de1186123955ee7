"""Saving a software design project as a template (offered on "New project", used, then
deleted) and importing a software design package through the "New project" page."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.sdp.examples import OUTPUTS
from tests.web.conftest import screenshot, sign_up
from tests.web.test_sdp_pages import api, new_project

expect = pytest.importorskip("playwright.sync_api").expect

PROJECT_URL = re.compile(r"/projects/([0-9a-f-]{36})$")


def email() -> str:
    return f"tpl-{uuid.uuid4().hex[:10]}@example.com"


def stage_inputs(page: Any, project_id: str) -> dict[str, str | None]:
    items = api(page, "GET", f"/api/v1/projects/{project_id}/stages")["items"]
    return {item["name"]: item["user_input"] for item in items}


def test_save_as_template_use_it_and_delete_it(page: Any) -> None:
    sign_up(page, "Tess Template", email())
    project_id = new_project(page, "Billing portal")
    inputs = stage_inputs(page, project_id)
    assert any(inputs.values()), "the SaaS template gives the stages inputs"

    page.goto(f"/projects/{project_id}")
    section = page.locator("#save-template")
    expect(section.get_by_role("heading", name="Save as template")).to_be_visible()
    # An empty name is refused next to the field.
    section.get_by_label("Template name").fill("  ")
    section.get_by_role("button", name="Save as template").click()
    expect(page.locator("#template-name-error")).to_have_text("Give the template a name.")
    expect(section.get_by_label("Template name")).to_have_attribute("aria-invalid", "true")

    name = f"Billing starter {uuid.uuid4().hex[:4]}"
    section.get_by_label("Template name").fill(name)
    section.get_by_label("Description").fill("Invoices, plans and a customer portal.")
    section.get_by_label("Category").select_option("saas")
    section.get_by_role("button", name="Save as template").click()
    result = page.locator("#template-result")
    expect(result).to_contain_text(f"Template “{name}” saved.")
    expect(page.locator("#template-name-error")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "save-as-template")

    # It is offered on "New project", marked as the user's own, and preselected.
    result.get_by_role("link", name="New project").click()
    page.wait_for_url("**/projects/new?template=**")
    choice = page.locator(".choice", has_text=name)
    expect(choice).to_contain_text("your template")
    expect(choice).to_contain_text("saas")
    expect(page.get_by_role("radio", name=name)).to_be_checked()
    # Built-ins cannot be deleted: only the user's own template has the button.
    expect(page.get_by_role("button", name=re.compile("^Delete your template"))).to_have_count(1)

    page.get_by_label("Name", exact=True).fill("Second billing portal")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(PROJECT_URL)
    match = PROJECT_URL.search(page.url)
    assert match is not None
    assert stage_inputs(page, match.group(1)) == inputs

    # Delete it (after a confirmation): it is gone from the page and from the API.
    page.goto("/projects/new")
    messages: list[str] = []

    def on_dialog(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    page.get_by_role("button", name=f"Delete your template {name}").click()
    expect(
        page.get_by_role("status").filter(has_text=f"Template “{name}” deleted.")
    ).to_be_visible()
    expect(page.locator(".choice", has_text=name)).to_have_count(0)
    assert messages and name in messages[0]
    templates = api(page, "GET", "/api/v1/templates")["items"]
    assert name not in [t["name"] for t in templates]
    page.reload()
    expect(page.locator(".choice", has_text=name)).to_have_count(0)


def test_import_a_package_and_a_broken_zip(page: Any, tmp_path: Path) -> None:
    sign_up(page, "Ivo Import", email())
    project_id = new_project(page, "Exported design")
    api(page, "PATCH", f"/api/v1/projects/{project_id}/stages/1", {"data": OUTPUTS["product"]})
    api(page, "POST", f"/api/v1/projects/{project_id}/stages/1/complete")
    export = api(page, "POST", f"/api/v1/projects/{project_id}/exports")
    download = page.request.get(export["download_url"])
    assert download.ok and download.headers["content-type"] == "application/zip"
    package = tmp_path / "design.zip"
    package.write_bytes(download.body())

    # A broken zip: the API's message (naming the problem file) is next to the input.
    with zipfile.ZipFile(io.BytesIO(download.body())) as source:
        files = {name: source.read(name) for name in source.namelist()}
    product = next(name for name in files if name.endswith("product.json"))
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as target:
        for name, data in files.items():
            target.writestr(name, data + b" " if name == product else data)

    page.goto("/projects/new")
    section = page.locator(".import-package")
    expect(
        section.get_by_role("heading", name="Import a software design package (.zip)")
    ).to_be_visible()
    # Nothing chosen yet.
    section.get_by_role("button", name="Import package").click()
    expect(page.locator("#import-error")).to_have_text("Choose the package's .zip file.")

    section.get_by_label("Package file").set_input_files(str(broken))
    section.get_by_role("button", name="Import package").click()
    error = page.locator("#import-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(product)
    expect(section.get_by_label("Package file")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/projects/new")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "import")

    section.get_by_label("Package file").set_input_files(str(package))
    expect(error).to_be_hidden()
    section.get_by_role("button", name="Import package").click()
    page.wait_for_url(PROJECT_URL)
    match = PROJECT_URL.search(page.url)
    assert match is not None and match.group(1) != project_id
    expect(page.get_by_role("heading", name="Exported design", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Project")).to_be_visible()  # the overview tabs
    imported = api(page, "GET", f"/api/v1/projects/{match.group(1)}")
    assert imported["pack"] == "sdp"


def test_new_project_page_fits_a_phone(browser: Any, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        sign_up(phone, "Pat Phone", email())
        project_id = new_project(phone, "Pocket design")
        phone.goto(f"/projects/{project_id}")
        expect(phone.get_by_role("button", name="Save as template")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.goto("/projects/new")
        expect(phone.get_by_role("button", name="Import package")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.evaluate("window.scrollTo(0, 0)")
        screenshot(phone, "import-phone")
    finally:
        context.close()
