"""The account pages every other browser flow starts from."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.web.conftest import PASSWORD, screenshot, sign_up

expect = pytest.importorskip("playwright.sync_api").expect


def email() -> str:
    return f"web-{uuid.uuid4().hex[:10]}@example.com"


def test_sign_up_log_out_and_log_in(page: Any) -> None:
    address = email()
    sign_up(page, "Wendy Web", address)
    screenshot(page, "projects-after-signup")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/projects**")


def test_sign_up_errors_are_shown_next_to_their_fields(page: Any) -> None:
    page.goto("/signup")
    page.get_by_label("Name").fill("Short Password")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#email-error")).to_have_text("Enter an email address with an @.")
    expect(page.locator("#password-error")).to_have_text("At least 8 characters.")
    # The hint says the same as the error: it is shown once.
    expect(page.locator("#password-hint")).to_have_count(0)
    expect(page.get_by_label("Password")).to_have_attribute("aria-describedby", "password-error")
    # What was typed is kept (except the password).
    assert page.get_by_label("Name").input_value() == "Short Password"
    screenshot(page, "signup-errors")

    # Another mistake: the hint is back beside the error.
    page.get_by_label("Password").fill("")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#password-error")).to_have_text("Required: please fill this in.")
    expect(page.locator("#password-hint")).to_have_text("At least 8 characters.")


def test_signing_up_again_links_to_the_login(page: Any) -> None:
    address = email()
    sign_up(page, "Twice Tom", address)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto("/signup")
    page.get_by_label("Name").fill("Twice Tom")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    error = page.locator("#email-error")
    expect(error).to_have_text("An account with this email exists: log in instead.")
    error.get_by_role("link", name="log in instead").click()
    page.wait_for_url("**/login")


def test_pages_need_a_session_and_come_back_after_login(page: Any) -> None:
    page.goto("/projects")
    page.wait_for_url("**/login?next=%2Fprojects")


def test_signup_with_the_keyboard_only(page: Any) -> None:
    page.goto("/signup")
    page.keyboard.type("Keyboard Kim")  # the name field has focus
    page.keyboard.press("Tab")
    page.keyboard.type(email())
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")  # the hint is text, the button is next
    page.keyboard.press("Enter")
    page.wait_for_url("**/projects**")


def test_unknown_pages_are_a_helpful_404(page: Any) -> None:
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
