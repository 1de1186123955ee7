"""A project's language: set through the API and the settings page, and used by the
quality checks to decide which writing systems an answer may use."""

from __future__ import annotations

import re
from typing import Any

import pytest

from atelier.ai.providers.fake import FakeProvider
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Api, error_code

pytestmark = pytest.mark.anyio

API = "/api/v1"


async def test_language_is_checked_set_and_changed(api: Api) -> None:
    ann = await api.signup()
    project = await api.project(ann, language="fr")
    assert project["language"] == "fr"
    r = await api.client.post(
        f"{API}/projects", json={"name": "X", "language": "xx"}, headers=ann.headers
    )
    assert r.status_code == 422 and error_code(r) == "validation_error"
    assert [e["field"] for e in r.json()["detail"]] == ["body.language"]
    url = f"{API}/projects/{project['id']}"
    r = await api.client.patch(url, json={"language": "ru"}, headers=ann.headers)
    assert r.status_code == 200 and r.json()["language"] == "ru"
    r = await api.client.patch(url, json={"language": None}, headers=ann.headers)
    assert r.json()["language"] is None

    bob = await api.signup()
    r = await api.client.patch(url, json={"language": "de"}, headers=bob.headers)
    assert r.status_code == 404
    assert (await api.client.get(url, headers=ann.headers)).json()["language"] is None


async def test_the_settings_page_sets_the_language(api: Api) -> None:
    ann = await api.signup()
    project = await api.project(ann, name="Réunion")
    cookies = {"Cookie": f"atelier_session={ann.token}", "Accept": "text/html"}
    page = await api.client.get(f"/projects/{project['id']}/settings", headers=cookies)
    assert 'name="language"' in page.text and ">French</option>" in page.text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    form = {"csrf_token": token.group(1), "name": "Réunion", "language": "fr"}
    r = await api.client.post(f"/projects/{project['id']}/settings", data=form, headers=cookies)
    assert r.status_code == 303, r.text
    got = await api.client.get(f"{API}/projects/{project['id']}", headers=ann.headers)
    assert got.json()["language"] == "fr"
    form["language"] = "klingon"
    r = await api.client.post(f"/projects/{project['id']}/settings", data=form, headers=cookies)
    assert r.status_code == 422 and "Choose one of the languages." in r.text


@pytest.mark.parametrize(("language", "flagged"), [("en", True), ("ru", False)])
async def test_the_checks_follow_the_project_language(
    api: Api, app: Any, fake_ai: FakeProvider, language: str, flagged: bool
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    project = await api.project(ann, language=language)
    fake_ai.push({**BRIEF_OUTPUT, "summary": "Простая CRM для сантехников, работает офлайн."})
    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "B", "input_data": BRIEF_INPUT, "generate": True},
        headers=ann.headers,
    )
    artifact = r.json()
    await run_jobs(app, artifact["job"]["id"])
    versions = await api.client.get(
        f"{API}/artifacts/{artifact['id']}/versions", headers=ann.headers
    )
    findings = versions.json()["items"][0]["quality"]["findings"]
    assert any(f["rule"] == "off_script" and f["path"] == "summary" for f in findings) is flagged
