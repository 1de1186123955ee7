"""End to end through the engine with a FakeProvider: generate, audit row, new version."""

from __future__ import annotations

import pytest

from atelier.ai.providers.fake import FakeProvider
from atelier.packs.general.brief import BriefTool
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Api

pytestmark = pytest.mark.anyio


async def test_generate_creates_an_ai_version_and_an_audit_row(
    api: Api, app: object, fake_ai: FakeProvider
) -> None:
    ann = await api.signup()
    await api.provider(ann)
    project = await api.project(ann)
    fake_ai.push("not json at all", BRIEF_OUTPUT)  # first answer invalid: repaired
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, "generate": True},
        headers=ann.headers,
    )
    assert r.status_code == 201, r.text
    art, job = r.json(), r.json()["job"]
    assert job["status"] == "queued"
    await run_jobs(app, job["id"])

    r = await api.client.get(f"/api/v1/jobs/{job['id']}", headers=ann.headers)
    assert r.json()["status"] == "succeeded", r.json()
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["output_data"] == BRIEF_OUTPUT and r.json()["active_version"] == 1
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}/versions", headers=ann.headers)
    (version,) = r.json()["items"]
    assert version["generated_by"] == "ai" and version["ai_generation_id"]
    r = await api.client.get(
        "/api/v1/ai-generations", params={"project_id": project["id"]}, headers=ann.headers
    )
    rows = r.json()["items"]
    assert sorted(x["status"] for x in rows) == ["error", "success"]
    assert {x["prompt_template"] for x in rows} == {BriefTool.prompt_name()}
    assert all(x["total_tokens"] == x["input_tokens"] + x["output_tokens"] > 0 for x in rows)
    # The repair request carried the schema errors back to the model.
    assert "does not match the required JSON schema" in fake_ai.requests[1].messages[-1].content

    r = await api.client.get(f"/api/v1/jobs/{job['id']}/events", headers=ann.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    kinds = [line[7:] for line in r.text.splitlines() if line.startswith("event: ")]
    assert kinds[0] == "queued" and kinds[-1] == "succeeded"
    assert "attempt_failed" in kinds and "progress" in kinds
