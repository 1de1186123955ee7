"""Settings (profile, API keys, AI providers, local models), the "no AI provider"
guidance, and the usage page with its charts."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from atelier.ai.local_models import DEFAULT_MODEL
from tests.packs.strategy_examples import INPUTS as STRATEGY_INPUTS
from tests.web.conftest import ANSWERS, screenshot, sign_up

expect = pytest.importorskip("playwright.sync_api").expect

RAW_KEY = "sk-test-9f8e7d6c5b4a3210zyxw"


def email() -> str:
    return f"acct-{uuid.uuid4().hex[:10]}@example.com"


def csrf(page: Any) -> str:
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    assert token
    return str(token)


def add_custom_provider(page: Any, label: str = "Test server", default: bool = True) -> None:
    page.goto("/settings/providers")
    page.get_by_label("Provider", exact=True).select_option("custom")
    page.get_by_label("Label").fill(label)
    page.get_by_label("API key").fill(RAW_KEY)
    page.get_by_label("Model").fill("qwen2.5-7b")
    page.get_by_label("Base URL").fill("http://127.0.0.1:9/v1")
    if default:
        page.get_by_label("Use as my default provider").check()
    page.get_by_role("button", name="Add provider").click()
    page.wait_for_url("**/settings/providers?msg=provider-added")


def status_of(base_url: str, key: str) -> int:
    """GET /api/v1/me with a bearer key and no cookies."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_profile_and_settings_tabs(page: Any) -> None:
    address = email()
    sign_up(page, "Pat Profile", address)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Profile").click()
    page.wait_for_url("**/settings/profile")
    tabs = page.get_by_role("navigation", name="Settings")
    expect(tabs.get_by_role("link", name="Profile")).to_have_attribute("aria-current", "page")
    expect(page.get_by_label("Email")).to_have_value(address)
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#name-error")).to_be_visible()
    page.get_by_label("Name").fill("Patricia Profile")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Patricia Profile")
    assert page.request.get("/api/v1/me").json()["name"] == "Patricia Profile"
    screenshot(page, "settings-profile")


def test_api_key_is_shown_once_then_revoked(page: Any, base_url: str) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    sign_up(page, "Kim Keys", email())
    page.goto("/settings/api-keys")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#key-label-error")).to_be_visible()  # a label is required
    page.get_by_label("Label").fill("CI pipeline")
    page.get_by_label("Expires").select_option("90")
    page.get_by_role("button", name="Create key").click()
    field = page.get_by_label("Your new API key")
    expect(field).to_have_value(re.compile(r"^atk_"))
    raw = field.input_value()
    expect(field).to_be_focused()
    row = page.get_by_role("row").filter(has_text="CI pipeline")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text(raw[:12])
    expect(row).to_contain_text("read, write")  # the default scopes
    screenshot(page, "settings-api-key-created")
    assert status_of(base_url, raw) == 200

    page.reload()
    expect(page.get_by_label("Your new API key")).to_be_hidden()
    assert raw not in page.content()

    page.get_by_role("button", name="Revoke CI pipeline").click()
    expect(page.get_by_role("status").filter(has_text="API key revoked")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="CI pipeline")).to_contain_text("revoked")
    assert status_of(base_url, raw) == 401


def test_api_key_without_javascript_is_shown_in_the_response(page: Any) -> None:
    sign_up(page, "Nora Noscript", email())
    page.goto("/settings/api-keys")
    response = page.request.post(
        "/settings/api-keys", form={"csrf_token": csrf(page), "label": "Shell script"}
    )
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert 'value="atk_' in response.text()


def test_api_key_scopes_are_chosen_on_the_page(page: Any, base_url: str) -> None:
    sign_up(page, "Sam Scopes", email())
    page.goto("/settings/api-keys")
    page.get_by_label("Label").fill("Read only")
    page.get_by_label("Write: create, change, delete, generate").uncheck()
    page.get_by_role("button", name="Create key").click()
    field = page.get_by_label("Your new API key")
    expect(field).to_have_value(re.compile(r"^atk_"))  # filled in when the answer comes
    raw = field.input_value()
    expect(page.get_by_role("row").filter(has_text="Read only")).to_contain_text("read")
    assert status_of(base_url, raw) == 200
    listed = page.request.get("/api/v1/api-keys").json()["items"]
    assert [k["scopes"] for k in listed] == [["read"]]

    # Without JavaScript: no box ticked is said next to the boxes, and no key is made.
    response = page.request.post(
        "/settings/api-keys",
        form={"csrf_token": csrf(page), "label": "Nothing", "scopes_shown": "1"},
    )
    assert response.status == 422
    assert "Choose at least one thing the key may do." in response.text()
    assert len(page.request.get("/api/v1/api-keys").json()["items"]) == 1


def test_no_provider_guidance_until_one_is_added(page: Any) -> None:
    sign_up(page, "Gus Guidance", email())
    alert = page.get_by_role("alert").filter(has_text="No AI provider configured")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(f"atelier models install {DEFAULT_MODEL}")
    alert.get_by_role("link", name="Settings → AI providers").click()
    page.wait_for_url("**/settings/providers")
    expect(page.get_by_role("alert").filter(has_text="No AI provider configured")).to_be_visible()

    # A local-model provider does not help while that model is not installed.
    page.get_by_label("Provider", exact=True).select_option("local")
    page.get_by_label("Label").fill("On this server")
    page.get_by_role("button", name="Add provider").click()
    page.wait_for_url("**msg=provider-added")
    expect(page.get_by_role("alert").filter(has_text="No AI provider configured")).to_be_visible()

    add_custom_provider(page, default=False)
    expect(page.get_by_text("No AI provider configured")).to_have_count(0)
    page.goto("/projects")
    expect(page.get_by_text("No AI provider configured")).to_have_count(0)


def test_providers_are_added_masked_tested_and_made_default(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    ANSWERS.setdefault("ping", {"ok": True})  # the "Test" button's tiny call
    sign_up(page, "Max Masked", email())

    # A custom server needs a base URL: the error is next to it, the key is not sent back.
    page.goto("/settings/providers")
    page.get_by_label("Provider", exact=True).select_option("custom")
    page.get_by_label("Label").fill("Broken")
    page.get_by_label("API key").fill(RAW_KEY)
    page.get_by_label("Model").fill("qwen2.5-7b")
    page.get_by_role("button", name="Add provider").click()
    expect(page.locator("#base_url-error")).to_be_visible()
    expect(page.get_by_label("Label")).to_have_value("Broken")
    expect(page.get_by_label("Provider", exact=True)).to_have_value("custom")
    assert RAW_KEY not in page.content()

    add_custom_provider(page, "Test server", default=False)
    card = page.locator(".provider-card", has_text="Test server")
    expect(card).to_contain_text("sk-test…zyxw")
    expect(card).to_contain_text("http://127.0.0.1:9/v1")
    assert RAW_KEY not in page.content()

    page.get_by_label("Provider", exact=True).select_option("anthropic")
    page.get_by_label("Label").fill("My Claude")
    page.get_by_label("API key").fill("sk-ant-api03-secretsecretsecret-WXYZ")
    page.get_by_role("button", name="Add provider").click()
    page.wait_for_url("**msg=provider-added")
    assert "secretsecret" not in page.content()

    page.get_by_role("button", name="Make Test server the default").click()
    expect(
        page.get_by_role("status").filter(has_text="Default AI provider changed")
    ).to_be_visible()
    expect(card.locator(".badge", has_text="default")).to_be_visible()
    expect(page.get_by_role("button", name="Make Test server the default")).to_have_count(0)
    defaults = [
        p for p in page.request.get("/api/v1/ai-providers").json()["items"] if p["is_default"]
    ]
    assert [p["label"] for p in defaults] == ["Test server"]

    card.get_by_role("button", name="Test Test server").click()
    expect(card.locator(".test-result")).to_contain_text("Works:")
    screenshot(page, "settings-providers")

    page.get_by_role("button", name="Delete My Claude").click()
    expect(page.get_by_role("status").filter(has_text="AI provider deleted")).to_be_visible()
    expect(page.locator(".provider-card")).to_have_count(1)


def test_local_models_page_lists_the_catalog(page: Any) -> None:
    sign_up(page, "Lia Local", email())
    page.goto("/settings/models")
    card = page.locator(".model-card", has_text="qwen2.5-coder-0.5b-instruct")
    expect(card).to_contain_text("available")
    expect(card).to_contain_text("491.4 MB")
    expect(card.get_by_label("Install command", exact=True)).to_have_value(
        "atelier models install qwen2.5-coder-0.5b-instruct"
    )
    expect(page.get_by_text("No local model is installed on this server yet")).to_be_visible()
    screenshot(page, "settings-models")


def test_usage_page_charts_a_generation(page: Any) -> None:
    sign_up(page, "Uma Usage", email())
    page.goto("/usage")
    expect(page.locator("svg[role=img]")).to_have_count(3)
    expect(page.get_by_text("No AI calls yet")).to_be_visible()

    add_custom_provider(page)  # the live server answers through its fake provider
    token = csrf(page)
    project = page.request.post(
        "/api/v1/projects",
        data={"name": "Usage plan", "pack": "strategy", "phase": "define"},
        headers={"X-CSRF-Token": token},
    ).json()
    created = page.request.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        data={
            "type": "value_proposition",
            "name": "VP",
            "generate": True,
            "input_data": STRATEGY_INPUTS["value_proposition"],
        },
        headers={"X-CSRF-Token": token},
    )
    assert created.status == 201, created.text()
    job_id = created.json()["job"]["id"]
    deadline = time.monotonic() + 30
    while True:
        job = page.request.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "succeeded", job

    generations = page.request.get("/api/v1/ai-generations").json()["items"]
    model = generations[0]["model"]  # what the live server's fake provider calls itself

    page.goto("/usage")
    # Each limit says what it counts: a local call uses tokens, never dollars.
    expect(page.locator("[data-applies=ai_tokens]")).to_contain_text("local model's included")
    expect(page.locator("[data-applies=ai_cost_usd]")).to_contain_text(
        "the local model costs nothing"
    )
    # A meter per limit of the plan, daily and yearly ones too.
    expect(page.locator("[data-limit=chat_messages][data-period=daily] label")).to_contain_text(
        "Chat messages today: 0 of 500"
    )
    expect(page.locator("[data-limit=projects][data-period=yearly] meter")).to_have_attribute(
        "max", "200"
    )
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(3)
    expect(page.locator("#chart-cost-title")).to_have_text("Cost per day (USD)")
    expect(page.locator("#chart-tokens-desc")).to_contain_text("input tokens")
    # Bars are drawn: one per active day in the day charts, one per model.
    expect(page.locator("#chart-tokens .chart-fill")).not_to_have_count(0)
    expect(page.locator("#chart-by-model .chart-label")).to_contain_text([model])
    row = page.locator("table.generations tbody tr").first
    expect(row).to_contain_text("success")
    expect(row).to_contain_text(model)
    expect(row.get_by_role("link", name="Usage plan")).to_be_visible()
    # The numbers are there as tables too.
    page.get_by_text("Show the chart data as tables").click()
    expect(page.get_by_role("table").filter(has_text="Day (UTC)")).to_be_visible()
    page.get_by_role("link", name="7 days").click()
    expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")
    screenshot(page, "usage")


def test_settings_and_usage_fit_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page, "Phil Phone", email())
    add_custom_provider(page)
    for path in (
        "/settings/profile",
        "/settings/providers",
        "/settings/models",
        "/settings/api-keys",
        "/usage",
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    screenshot(page, "usage-phone")


def test_chart_scale_and_layout() -> None:
    """The chart geometry the usage page draws (no browser needed)."""
    from atelier.web.usage_charts import _nice_max, day_chart, format_usd

    assert [_nice_max(v) for v in (0, 0.3, 1, 7, 12, 2400, 2600)] == [
        1.0,
        0.5,
        1,
        10,
        20,
        2500,
        5000,
    ]
    days = [f"2025-01-{n:02d}" for n in range(1, 31)]
    values = [0.0] * 30
    values[3], values[29] = 0.5, 2.0
    chart = day_chart("cost", "Cost", "Bars.", days, values, format_usd)
    assert [bar.label for bar in chart.bars] == ["2025-01-04", "2025-01-30"]
    low, high = chart.bars
    assert high.height == pytest.approx(low.height * 4)  # proportional to the values
    assert high.y + high.height == pytest.approx(chart.baseline)
    assert all(0 <= label.x <= 100 for label in chart.labels)
    assert 3 <= len(chart.labels) <= 7
    assert "the highest day is 2025-01-30 with $2.00" in chart.description
    empty = day_chart("cost", "Cost", "Bars.", days, [0.0] * 30, format_usd, empty_text="None")
    assert empty.bars == [] and empty.ticks == [] and empty.empty_text == "None"
