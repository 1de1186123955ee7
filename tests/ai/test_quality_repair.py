"""The repair loop: a schema-valid answer with findings goes back to the model once with
them; the answer with the fewest findings is stored with what remains, and every call is
audited. A FakeProvider plays the model: first it echoes the instructions, then it
answers properly (or does not)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from atelier.ai.providers.base import ProviderError
from atelier.ai.providers.fake import FakeProvider
from tests.ai.value_proposition import generate_value_proposition
from tests.factories import Account, Api
from tests.packs.strategy_examples import OUTPUTS

pytestmark = pytest.mark.anyio

API = "/api/v1"
GOOD = OUTPUTS["value_proposition"]


def echoing() -> dict[str, Any]:
    """The good answer with its value map's products described by the prompt's label,
    and its first pain reliever copying the pain back."""
    bad = copy.deepcopy(GOOD)
    for row in bad["value_map"]["products_and_services"]:
        row["description"] = "What customers use today instead: …"
    first = bad["value_map"]["pain_relievers"][0]
    first["reliever"] = first["pain"]
    return bad


@pytest.fixture
def repair_on(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.state.ai.settings, "quality_repair_attempts", 1)


async def versions(api: Api, who: Account, artifact_id: str) -> list[dict[str, Any]]:
    r = await api.client.get(f"{API}/artifacts/{artifact_id}/versions", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def audit(api: Api, who: Account, artifact_id: str) -> list[dict[str, Any]]:
    r = await api.client.get(
        f"{API}/ai-generations", params={"artifact_id": artifact_id}, headers=who.headers
    )
    return sorted(r.json()["items"], key=lambda row: row["attempt"])


async def events(api: Api, who: Account, job_id: str) -> list[dict[str, Any]]:
    """The job's events, read from its (finished) server-sent event stream."""
    r = await api.client.get(f"{API}/jobs/{job_id}/events", headers=who.headers)
    assert r.status_code == 200, r.text
    out = []
    for block in r.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append({"type": lines.get("event"), "data": json.loads(lines.get("data", "null"))})
    return out


async def test_findings_go_back_once_and_the_clean_answer_is_stored(
    api: Api, app: Any, fake_ai: FakeProvider, repair_on: None
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    fake_ai.push(echoing(), GOOD)
    job, artifact = await generate_value_proposition(api, app, ann)
    assert job["status"] == "succeeded", job
    assert job["result"]["quality"] == {"score": 1.0, "findings": 0}

    # The second call carried the findings, in plain words, after the first answer.
    assert len(fake_ai.requests) == 2
    repair = fake_ai.requests[1].messages[-1].content
    assert "value_map.products_and_services[0].description" in repair
    assert "repeats the instructions" in repair
    assert "value_map.pain_relievers[0].reliever" in repair

    [version] = await versions(api, ann, artifact["id"])
    assert version["quality"]["findings"] == [] and version["quality"]["score"] == 1.0
    rows = await audit(api, ann, artifact["id"])
    assert [row["status"] for row in rows] == ["success", "success"]
    found = [e for e in await events(api, ann, job["id"]) if e["type"] == "quality_findings"]
    assert len(found) == 1
    rules = {f["rule"] for f in found[0]["data"]["findings"]}
    assert rules == {"instruction_echo", "input_parroting"}  # the rows differ by name


async def test_what_the_repair_cannot_fix_is_stored_with_its_findings(
    api: Api, app: Any, fake_ai: FakeProvider, repair_on: None
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    worse = echoing()
    worse["customer_profile"]["pains"][1]["pain"] = "TBD"
    fake_ai.push(echoing(), worse)  # the repair makes it worse: the first one is kept
    job, artifact = await generate_value_proposition(api, app, ann)
    assert job["status"] == "succeeded", job
    [version] = await versions(api, ann, artifact["id"])
    stored = version["content"]
    assert '"TBD"' not in stored and "What customers use today instead" in stored
    quality = version["quality"]
    assert quality["score"] < 1.0
    paths = {f["path"] for f in quality["findings"]}
    assert "value_map.pain_relievers[0].reliever" in paths
    assert all(set(f) == {"rule", "path", "message"} for f in quality["findings"])
    assert job["result"]["quality"]["findings"] == len(quality["findings"])


async def test_a_failed_repair_call_keeps_the_first_answer(
    api: Api, app: Any, fake_ai: FakeProvider, repair_on: None
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    fake_ai.push(echoing(), ProviderError("the server went away", code="bad_request"))
    job, artifact = await generate_value_proposition(api, app, ann)
    assert job["status"] == "succeeded", job
    [version] = await versions(api, ann, artifact["id"])
    assert version["quality"]["findings"]
    statuses = [row["status"] for row in await audit(api, ann, artifact["id"])]
    assert statuses[0] == "success" and statuses[-1] == "error"


async def test_with_repair_off_the_findings_are_stored_without_a_second_call(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    fake_ai.push(echoing())
    job, artifact = await generate_value_proposition(api, app, ann)
    assert job["status"] == "succeeded" and len(fake_ai.requests) == 1
    [version] = await versions(api, ann, artifact["id"])
    assert {f["rule"] for f in version["quality"]["findings"]} >= {"instruction_echo"}


async def test_a_stranger_cannot_read_the_findings(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    fake_ai.push(echoing())
    _, artifact = await generate_value_proposition(api, app, ann)
    bob = await api.signup()
    r = await api.client.get(f"{API}/artifacts/{artifact['id']}/versions", headers=bob.headers)
    assert r.status_code == 404


async def test_the_artifact_and_version_pages_show_the_findings_in_plain_words(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    fake_ai.push(echoing())
    _, artifact = await generate_value_proposition(api, app, ann)
    cookies = {"Cookie": f"atelier_session={ann.token}", "Accept": "text/html"}
    for url in (f"/artifacts/{artifact['id']}", f"/artifacts/{artifact['id']}/versions/1"):
        page = await api.client.get(url, headers=cookies)
        assert page.status_code == 200, url
        assert "to look at before you rely on this draft" in page.text, url
        assert "Value map / Products and services 1 / Description" in page.text
        assert "repeats the instructions instead of answering them" in page.text
    page = await api.client.get(f"/artifacts/{artifact['id']}", headers=cookies)
    assert f"/api/v1/artifacts/{artifact['id']}/export?format=md&amp;checks=true" in page.text

    # A clean answer says what was checked instead.
    fake_ai.push(GOOD)
    _, clean = await generate_value_proposition(api, app, ann)
    page = await api.client.get(f"/artifacts/{clean['id']}", headers=cookies)
    assert "no echoed instructions, copies, duplicates" in page.text
    assert "to look at before you rely" not in page.text
    assert "Markdown with checks" not in page.text


async def test_exports_include_the_findings_only_when_asked(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    """Repair off (the suite's default): the echoing answer is stored with its findings.
    A Markdown or JSON export leaves them out unless ``checks=true``; a human edit (no
    checks ran) has no Checks section even then."""
    ann = await api.signup()
    await api.provider(ann)
    fake_ai.push(echoing())
    job, artifact = await generate_value_proposition(api, app, ann)
    assert job["status"] == "succeeded", job
    url = f"{API}/artifacts/{artifact['id']}/export"
    path = "value_map.products_and_services[0].description"

    plain = await api.client.get(url, params={"format": "md"}, headers=ann.headers)
    assert plain.status_code == 200 and "Checks" not in plain.text
    with_checks = await api.client.get(
        url, params={"format": "md", "checks": "true"}, headers=ann.headers
    )
    assert "## Checks" in with_checks.text and f"`{path}`" in with_checks.text
    assert "(`instruction_echo`)" in with_checks.text
    as_json = await api.client.get(
        url, params={"format": "json", "checks": "true"}, headers=ann.headers
    )
    assert path in {f["path"] for f in as_json.json()["quality"]["findings"]}
    assert (
        "quality"
        not in (await api.client.get(url, params={"format": "json"}, headers=ann.headers)).json()
    )
    project_url = f"{API}/projects/{artifact['project_id']}/export"
    whole = await api.client.get(
        project_url, params={"format": "md", "checks": "true"}, headers=ann.headers
    )
    assert "### Checks" in whole.text and f"`{path}`" in whole.text

    edited = await api.client.patch(
        f"{API}/artifacts/{artifact['id']}", json={"output_data": GOOD}, headers=ann.headers
    )
    assert edited.status_code == 200, edited.text
    after_edit = await api.client.get(
        url, params={"format": "md", "checks": "true"}, headers=ann.headers
    )
    assert "Checks" not in after_edit.text

    bob = await api.signup()
    other = await api.client.get(url, params={"checks": "true"}, headers=bob.headers)
    assert other.status_code == 404
