"""The profile's picture: a web address, checked like the API checks it, removable."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import screenshot, sign_up


def test_set_a_bad_then_a_good_picture_then_remove_it(page: Any) -> None:
    sign_up(page, "Pia Picture", f"pia-{uuid.uuid4().hex[:10]}@example.com")
    page.goto("/settings/profile")
    page.get_by_label("Name").fill("Pia P.")
    page.get_by_label("Picture").fill("ftp://example.com/pia.png")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#avatar_url-error")).to_contain_text("http:// or https://")
    expect(page.get_by_label("Name")).to_have_value("Pia P.")  # nothing typed is lost
    assert page.request.get("/api/v1/me").json()["name"] == "Pia Picture"  # nor saved

    picture = "https://example.com/pia.png"
    page.get_by_label("Picture").fill(picture)
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
    me = page.request.get("/api/v1/me").json()
    assert (me["name"], me["avatar_url"]) == ("Pia P.", picture)
    expect(page.locator("img.avatar")).to_have_attribute("src", picture)
    screenshot(page, "settings-profile-picture")

    page.get_by_label("Picture").fill("")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
    assert page.request.get("/api/v1/me").json()["avatar_url"] is None
    expect(page.locator("img.avatar")).to_have_count(0)


def test_preferences_are_a_json_object(page: Any) -> None:
    sign_up(page, "Pref Pat", f"pref-{uuid.uuid4().hex[:10]}@example.com")
    page.goto("/settings/profile")
    page.get_by_text("Preferences").first.click()  # the folded section opens
    field = page.get_by_label("Preferences (JSON)")
    field.fill("[1, 2]")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#preferences-error")).to_contain_text("JSON object")
    expect(field).to_have_value("[1, 2]")
    assert page.request.get("/api/v1/me").json()["preferences"] == {}

    field.fill('{"theme": "dark"}')
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
    assert page.request.get("/api/v1/me").json()["preferences"] == {"theme": "dark"}
    expect(page.get_by_label("Preferences (JSON)")).to_contain_text("dark")  # shown open

    page.get_by_label("Preferences (JSON)").fill("")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
    assert page.request.get("/api/v1/me").json()["preferences"] == {}
