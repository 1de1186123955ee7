"""Organizations in the browser: the settings tab, creating one (slug rules, errors next to
the fields), members (add by email, change role, remove, with confirmations), the
read-only view of a member, sharing a project with it, and a stranger's 404."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.web.conftest import screenshot, sign_up

expect = pytest.importorskip("playwright.sync_api").expect

ORG_URL = re.compile(r"/settings/organizations/([0-9a-f-]{36})")


def email(kind: str = "org") -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}@example.com"


def accept_dialogs(page: Any) -> list[str]:
    """Accept every confirmation; returns their messages as they come."""
    seen: list[str] = []

    def on_dialog(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    return seen


def create_org(page: Any, name: str, slug: str = "") -> str:
    page.goto("/settings/organizations")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Slug").fill(slug)
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(ORG_URL)
    match = ORG_URL.search(page.url)
    assert match is not None
    return match.group(1)


def test_create_an_organization_with_the_slug_rules(page: Any) -> None:
    sign_up(page, "Olive Owner", email())
    page.goto("/settings/profile")
    tabs = page.get_by_role("navigation", name="Settings")
    tabs.get_by_role("link", name="Organizations").click()
    page.wait_for_url("**/settings/organizations")
    expect(tabs.get_by_role("link", name="Organizations")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("You are not in any organization yet.")).to_be_visible()
    expect(page.locator("#org-slug-hint")).to_contain_text("lowercase letters, digits and hyphens")

    # Errors are next to their fields, and what was typed is kept.
    page.get_by_label("Slug").fill("Bad Slug!")
    page.get_by_role("button", name="Create organization").click()
    expect(page.locator("#org-name-error")).to_have_text("Enter a name of 1 to 100 characters.")
    expect(page.locator("#org-slug-error")).to_contain_text("lowercase letters, digits or hyphens")
    expect(page.get_by_label("Slug")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Slug")).to_have_value("Bad Slug!")

    slug = f"acme-{uuid.uuid4().hex[:8]}"
    org_id = create_org(page, "Acme Design", slug)
    expect(page.get_by_role("status").filter(has_text="Organization created.")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme Design")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="(you)")).to_contain_text("Owner")

    # The same slug again: the server says it is taken, next to the slug.
    page.goto("/settings/organizations")
    page.get_by_label("Name").fill("Acme Again")
    page.get_by_label("Slug").fill(slug)
    page.get_by_role("button", name="Create organization").click()
    expect(page.locator("#org-slug-error")).to_have_text("this slug is already taken")
    expect(page.get_by_label("Name")).to_have_value("Acme Again")

    row = page.get_by_role("row").filter(has_text="Acme Design")
    expect(row).to_contain_text("Owner")
    expect(row.get_by_role("link", name="Acme Design")).to_have_attribute(
        "href", f"/settings/organizations/{org_id}"
    )
    # The profile links here now instead of pointing at the API.
    page.goto("/settings/profile")
    expect(page.get_by_role("link", name="Acme Design")).to_be_visible()
    expect(page.get_by_text("POST /api/v1/organizations")).to_have_count(0)


def test_members_sharing_read_only_and_a_strangers_404(
    page: Any, browser: Any, base_url: str
) -> None:
    dialogs = accept_dialogs(page)
    sign_up(page, "Otto Owner", email())
    # The project settings point at the organizations page when there is none.
    page.goto("/projects/new")
    page.get_by_label("Name", exact=True).fill("Team roadmap")
    page.get_by_label("Strategy", exact=True).check()
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/[0-9a-f-]{36}$"))
    project_id = page.url.rsplit("/", 1)[1]
    page.goto(f"/projects/{project_id}/settings")
    link = page.get_by_role("link", name="create one in Settings → Organizations")
    expect(link).to_have_attribute("href", "/settings/organizations")

    org_id = create_org(page, f"Roadmappers {uuid.uuid4().hex[:4]}")
    org_name = page.get_by_role("heading", level=2).first.inner_text()

    # A second person signs up in their own browser.
    member_email = email("member")
    other = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    other.set_default_timeout(15_000)
    member = other.new_page()
    try:
        sign_up(member, "Mia Member", member_email)

        # Unknown email: the error is next to the field.
        page.get_by_label("Email").fill("nobody-" + member_email)
        page.get_by_role("button", name="Add member").click()
        expect(page.locator("#member-email-error")).to_contain_text("must sign up first")
        expect(page.get_by_label("Email")).to_have_value("nobody-" + member_email)

        page.get_by_label("Email").fill(member_email)
        page.get_by_label("Role", exact=True).select_option("ADMIN")
        page.get_by_role("button", name="Add member").click()
        expect(page.get_by_role("status").filter(has_text="Member added.")).to_be_visible()
        row = page.get_by_role("row").filter(has_text=member_email)
        expect(row.get_by_label("Role of Mia Member", exact=True)).to_have_value("ADMIN")

        # Change the role to MEMBER (after a confirmation).
        row.get_by_label("Role of Mia Member", exact=True).select_option("MEMBER")
        row.get_by_role("button", name="Change the role of Mia Member").click()
        expect(page.get_by_role("status").filter(has_text="Role changed.")).to_be_visible()
        assert any("Change the role of Mia Member" in text for text in dialogs)
        members = page.request.get(f"/api/v1/organizations/{org_id}/members").json()["items"]
        assert {m["email"]: m["role"] for m in members}[member_email] == "MEMBER"
        # The last owner cannot be demoted or removed: no controls on that row.
        me = page.get_by_role("row").filter(has_text="(you)")
        expect(me.get_by_role("button")).to_have_count(0)
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "organization-members")

        # Share the project through its settings page.
        page.goto(f"/projects/{project_id}/settings")
        page.get_by_label("Organization").select_option(label=org_name)
        page.get_by_role("button", name="Save sharing").click()
        expect(page.get_by_role("status").filter(has_text="Sharing saved.")).to_be_visible()

        # The member sees the organization read-only, and the shared project.
        member.goto("/settings/organizations")
        expect(member.get_by_role("row").filter(has_text=org_name)).to_contain_text("Member")
        member.evaluate("window.scrollTo(0, 0)")
        screenshot(member, "organizations")
        member.get_by_role("link", name=org_name).click()
        member.wait_for_url(f"**/settings/organizations/{org_id}")
        expect(member.get_by_text("only its owners and admins can change them")).to_be_visible()
        expect(member.get_by_role("button", name="Add member")).to_have_count(0)
        expect(member.get_by_role("button", name=re.compile("^(Change|Remove)"))).to_have_count(0)
        expect(member.get_by_role("row").filter(has_text="Otto Owner")).to_contain_text("Owner")
        member.goto("/projects")
        expect(member.locator(".project-card", has_text="Team roadmap")).to_be_visible()
        member.goto(f"/projects/{project_id}")
        expect(member.get_by_role("heading", name="Team roadmap")).to_be_visible()

        # A stranger: the organization does not exist for them.
        member.get_by_role("button", name="Log out").click()
        sign_up(member, "Stan Stranger", email("stranger"))
        response = member.goto(f"/settings/organizations/{org_id}")
        assert response is not None and response.status == 404
        expect(member.get_by_role("heading", name="Not found")).to_be_visible()
        assert org_name not in member.content()
        response = member.goto(f"/settings/organizations/{uuid.uuid4()}")
        assert response is not None and response.status == 404
        csrf = member.locator("meta[name=csrf-token]").get_attribute("content")
        posted = member.request.post(
            f"/settings/organizations/{org_id}/members",
            form={"email": "x@example.com", "role": "OWNER", "csrf_token": str(csrf)},
        )
        assert posted.status == 404
    finally:
        other.close()

    # Remove the member (after a confirmation): they no longer see the project.
    page.goto(f"/settings/organizations/{org_id}")
    page.get_by_role("button", name="Remove Mia Member").click()
    expect(page.get_by_role("status").filter(has_text="Member removed.")).to_be_visible()
    assert any("Remove Mia Member" in text for text in dialogs)
    expect(page.get_by_role("row").filter(has_text=member_email)).to_have_count(0)


def test_organization_pages_fit_a_phone(browser: Any, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        sign_up(phone, "Pia Phone", email())
        create_org(phone, "Pocket Org")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide"
        expect(phone.get_by_role("button", name="Add member")).to_be_visible()
        phone.evaluate("window.scrollTo(0, 0)")
        screenshot(phone, "organization-phone")
    finally:
        context.close()


def test_an_owner_deletes_the_organization(page: Any) -> None:
    sign_up(page, "Dora Deleter", email("delete"))
    org_id = create_org(page, "Short Lived", f"short-{uuid.uuid4().hex[:8]}")
    dialogs = accept_dialogs(page)
    page.goto(f"/settings/organizations/{org_id}")
    page.get_by_role("button", name="Delete Short Lived").click()
    page.wait_for_url("**/settings/organizations**")
    assert dialogs and "Delete Short Lived?" in dialogs[0]
    assert page.get_by_text("The organization was deleted.").is_visible()
    response = page.goto(f"/settings/organizations/{org_id}")
    assert response is not None and response.status == 404
