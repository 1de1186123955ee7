"""Editing an AI provider, sharing a new one with an organization, and the jobs page
(list, status filter, pages, cancel), with another user's 404s."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest

from atelier.ai.providers.base import ProviderAuthError, ProviderError
from tests.packs.strategy_examples import INPUTS as STRATEGY_INPUTS
from tests.web.conftest import screenshot, sign_up

expect = pytest.importorskip("playwright.sync_api").expect

RAW_KEY = "sk-test-9f8e7d6c5b4a3210zyxw"
HINT = "sk-test…zyxw"
EDIT_URL = re.compile(r"/settings/providers/([0-9a-f-]{36})/edit$")


def email() -> str:
    return f"more-{uuid.uuid4().hex[:10]}@example.com"


def csrf_headers(page: Any) -> dict[str, str]:
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    assert token
    return {"X-CSRF-Token": str(token)}


def api_post(page: Any, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = page.request.post(url, data=body, headers=csrf_headers(page))
    assert response.ok, response.text()
    result: dict[str, Any] = response.json()
    return result


def add_provider(page: Any) -> str:
    """A custom default provider, through the API: the live server answers with its fake."""
    return str(
        api_post(
            page,
            "/api/v1/ai-providers",
            {
                "provider": "custom",
                "label": "Test server",
                "api_key": RAW_KEY,
                "base_url": "http://127.0.0.1:9/v1",
                "default_model": "qwen2.5-7b",
                "is_default": True,
            },
        )["id"]
    )


def start_generation(page: Any, project_id: str, name: str) -> str:
    """A value proposition created with generate=True; the id of its job."""
    created = api_post(
        page,
        f"/api/v1/projects/{project_id}/artifacts",
        {
            "type": "value_proposition",
            "name": name,
            "generate": True,
            "input_data": STRATEGY_INPUTS["value_proposition"],
        },
    )
    return str(created["job"]["id"])


def job_of(page: Any, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = page.request.get(f"/api/v1/jobs/{job_id}").json()
    return job


def wait_for(page: Any, job_id: str, *statuses: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while (job := job_of(page, job_id))["status"] not in statuses:
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


# ------------------------------------------------------------------ providers
def test_edit_a_provider(page: Any) -> None:
    sign_up(page, "Eddie Edit", email())
    add_provider(page)
    page.goto("/settings/providers")
    page.get_by_role("link", name="Edit Test server").click()
    page.wait_for_url(EDIT_URL)
    config_id = EDIT_URL.search(page.url).group(1)  # type: ignore[union-attr]
    expect(page.get_by_label("Label")).to_have_value("Test server")
    expect(page.get_by_label("Model")).to_have_value("qwen2.5-7b")
    expect(page.get_by_label("Base URL")).to_have_value("http://127.0.0.1:9/v1")
    key = page.get_by_label("API key")
    expect(key).to_have_value("")
    expect(page.locator("#api_key-hint")).to_contain_text(
        f"Leave empty to keep the current key ({HINT})"
    )

    # Bad values: each error next to its field, the other inputs kept, nothing saved.
    page.get_by_label("Label").fill("Renamed server")
    page.get_by_label("Model").fill("qwen2.5-14b")
    page.get_by_label("Base URL").fill("not a url")
    page.get_by_label("Threads").fill("lots")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#base_url-error")).to_have_text(
        "Enter a web address like https://example.com."
    )
    expect(page.get_by_label("Base URL")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#threads-error")).to_have_text("Enter a whole number.")
    expect(page.get_by_label("Label")).to_have_value("Renamed server")
    expect(page.get_by_label("Model")).to_have_value("qwen2.5-14b")
    expect(page.get_by_label("Base URL")).to_have_value("not a url")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    screenshot(page, "settings-provider-edit-errors")
    stored = page.request.get(f"/api/v1/ai-providers/{config_id}").json()
    assert stored["label"] == "Test server"

    # A custom server cannot lose its base URL (the rule of a new one holds).
    page.get_by_label("Base URL").fill("")
    page.get_by_label("Threads").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#base_url-error")).to_have_text(
        "Required for a custom (OpenAI-compatible) provider."
    )

    page.get_by_label("Base URL").fill("http://127.0.0.1:9/v2")
    page.get_by_label("Timeout").fill("45")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/settings/providers?msg=provider-saved")
    expect(page.get_by_role("status").filter(has_text="AI provider saved.")).to_be_visible()
    card = page.locator(".provider-card", has_text="Renamed server")
    expect(card).to_contain_text("qwen2.5-14b")
    expect(card).to_contain_text("http://127.0.0.1:9/v2")
    expect(card).to_contain_text(HINT)  # the empty key field kept the key
    assert RAW_KEY not in page.content()
    stored = page.request.get(f"/api/v1/ai-providers/{config_id}").json()
    assert stored["api_key_hint"] == HINT
    assert stored["options"] == {"timeout_seconds": 45.0}
    assert stored["is_default"] is True

    # A new key replaces the old one; the form shows its new hint.
    page.get_by_role("link", name="Edit Renamed server").click()
    expect(page.get_by_label("Timeout")).to_have_value("45")
    page.get_by_label("API key").fill("sk-live-0000000000NEWK")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**msg=provider-saved")
    expect(card).to_contain_text("…NEWK")
    screenshot(page, "settings-providers-edited")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/settings/providers/{config_id}/edit")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "settings-provider-edit-phone")


def test_add_a_provider_shared_with_an_organization(page: Any) -> None:
    sign_up(page, "Orla Org", email())
    page.goto("/settings/providers")
    expect(page.get_by_label("Share with")).to_have_count(0)  # no organization yet
    org = api_post(page, "/api/v1/organizations", {"name": "Shed Collective"})
    page.reload()
    page.get_by_label("Provider", exact=True).select_option("anthropic")
    page.get_by_label("Label").fill("Team Claude")
    page.get_by_label("API key").fill("sk-ant-api03-secretsecretsecret-WXYZ")
    page.get_by_label("Share with").select_option(label="Shed Collective")
    screenshot(page, "settings-provider-share")
    page.get_by_role("button", name="Add provider").click()
    page.wait_for_url("**msg=provider-added")
    card = page.locator(".provider-card", has_text="Team Claude")
    expect(card.locator(".badge", has_text="shared")).to_be_visible()
    configs = page.request.get("/api/v1/ai-providers").json()["items"]
    assert [c["organization_id"] for c in configs] == [org["id"]]


# ------------------------------------------------------------------ jobs
def test_jobs_page_lists_filters_pages_and_cancels(page: Any, fake_provider: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    sign_up(page, "Jo Jobs", email())
    page.goto("/jobs")
    expect(page.get_by_role("heading", name="No jobs yet")).to_be_visible()
    add_provider(page)
    project = api_post(
        page, "/api/v1/projects", {"name": "Jobs plan", "pack": "strategy", "phase": "define"}
    )
    done = start_generation(page, project["id"], "Finished VP")
    assert wait_for(page, done, "succeeded", "failed")["status"] == "succeeded"
    fake_provider.push(ProviderAuthError())
    failed = start_generation(page, project["id"], "Refused VP")
    assert wait_for(page, failed, "succeeded", "failed")["status"] == "failed"
    # A busy provider: the engine waits 8 s before asking again, time enough to cancel.
    fake_provider.push(ProviderError("busy", retryable=True, retry_after=8, code="overloaded"))
    slow = start_generation(page, project["id"], "Slow VP")
    wait_for(page, slow, "running")

    page.goto("/usage")
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.wait_for_url("**/jobs")
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(3)
    # Newest first: the slow one, then the refused one, then the finished one.
    expect(rows.nth(0)).to_contain_text("Slow VP")
    expect(rows.nth(0)).to_contain_text("running")
    expect(rows.nth(1)).to_contain_text("failed")
    expect(rows.nth(1).locator(".gen-error")).to_contain_text("refused the API key")
    expect(rows.nth(2)).to_contain_text("succeeded")
    expect(rows.nth(2)).to_contain_text("Jobs plan")
    link = rows.nth(2).get_by_role("link", name="Finished VP")
    expect(link).to_have_attribute("href", f"/artifacts/{job_of(page, done)['artifact_id']}")
    expect(rows.get_by_role("button", name=re.compile("^Cancel"))).to_have_count(1)
    screenshot(page, "jobs")

    rows.nth(0).get_by_role("button", name=re.compile("^Cancel")).click()
    page.wait_for_url("**/jobs?msg=job-*")
    expect(page.get_by_role("status").filter(has_text=re.compile("Cancel"))).to_be_visible()
    assert wait_for(page, slow, "cancelled", "succeeded", seconds=6)["status"] == "cancelled"
    page.reload()
    expect(rows.nth(0)).to_contain_text("cancelled")
    expect(rows.get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)

    filters = page.get_by_role("navigation", name="Status")
    filters.get_by_role("link", name="Cancelled").click()
    expect(filters.get_by_role("link", name="Cancelled")).to_have_attribute("aria-current", "page")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Slow VP")
    filters.get_by_role("link", name="Succeeded").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Finished VP")
    filters.get_by_role("link", name="Queued").click()
    expect(page.get_by_role("heading", name="No queued jobs")).to_be_visible()

    # Pages: two jobs a page, as the API's ?limit= would give them.
    page.goto("/jobs?limit=2")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Finished VP")
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    page.get_by_role("link", name="Newest").click()
    expect(rows.first).to_contain_text("Slow VP")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/jobs")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "jobs-phone")


def test_another_user_gets_404s(page: Any, browser: Any, base_url: str, fake_provider: Any) -> None:
    sign_up(page, "Owner Ona", email())
    config_id = add_provider(page)
    project = api_post(
        page, "/api/v1/projects", {"name": "Private plan", "pack": "strategy", "phase": "define"}
    )
    fake_provider.push(ProviderError("busy", retryable=True, retry_after=8, code="overloaded"))
    job_id = start_generation(page, project["id"], "Private VP")
    wait_for(page, job_id, "running")

    context = browser.new_context(base_url=base_url)
    try:
        other = context.new_page()
        sign_up(other, "Nosy Ned", email())
        answer = other.goto(f"/settings/providers/{config_id}/edit")
        assert answer is not None and answer.status == 404
        expect(other.get_by_role("heading", name="Not found")).to_be_visible()
        assert "Test server" not in other.content()
        token = csrf_headers(other)["X-CSRF-Token"]
        for url, form in (
            (f"/settings/providers/{config_id}/edit", {"label": "Mine now"}),
            (f"/jobs/{job_id}/cancel", {}),
        ):
            response = other.request.post(
                url, form={"csrf_token": token, **form}, headers={"Accept": "text/html"}
            )
            assert response.status == 404, url
            assert "Not found" in response.text()
        other.goto("/jobs")
        expect(other.get_by_role("heading", name="No jobs yet")).to_be_visible()
    finally:
        context.close()

    job = job_of(page, job_id)
    assert job["status"] == "running" and not job["cancel_requested"]
    assert page.request.get(f"/api/v1/ai-providers/{config_id}").json()["label"] == "Test server"
    # The owner can: cancelled from the page, without waiting out the retry.
    page.goto("/jobs")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile("^Cancel")).click()
    assert wait_for(page, job_id, "cancelled", "succeeded", seconds=6)["status"] == "cancelled"
