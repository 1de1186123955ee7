"""The custom-base-URL path over a real socket, end to end.

The in-process app with the REAL OpenAICompatibleProvider (no provider swap) against the
fake OpenAI-compatible server on 127.0.0.1: a custom provider config, a brief generated
through the job runner, the audit rows and the new version; the json_schema refusal
fallback; and faults on the wire (429, repeated 500s, an invalid answer repaired).

Each test signs up its own user with its own provider config, so no provider (one
client per config) carries state from one test to the next.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from atelier.ai.providers.openai_compat import SCHEMA_INSTRUCTION
from atelier.ai.runtime import ProviderPool
from tests.ai import fake_openai_server as fake
from tests.ai.fake_openai_server import Fail, FakeServer, Reply
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Account, Api

pytestmark = pytest.mark.anyio

# The fake server's fixtures: one server for this module, reset for every test.
openai_server = fake.openai_server
fake_openai = fake.fake_openai

API_KEY = "sk-e2e-custom-0123456789"
ANSWER = json.dumps(BRIEF_OUTPUT)


@pytest.fixture(autouse=True)
async def real_providers(app: object) -> AsyncIterator[ProviderPool]:
    """The app's own provider factory (the real OpenAICompatibleProvider), in a pool of
    this test's: its HTTP clients are closed in this test's event loop. Left in the
    session-wide app's pool they would outlive that loop, and the openai SDK closes a
    garbage-collected client on whatever loop runs then ("Event loop is closed" in
    some later, unrelated test)."""
    runtime = app.state.ai  # type: ignore[attr-defined]
    saved, pool = runtime.providers, ProviderPool()
    runtime.providers = pool
    try:
        yield pool
    finally:
        runtime.providers = saved
        await pool.aclose()


async def _setup(api: Api, server: FakeServer) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    """A user with a custom provider config at the fake server, and a project."""
    who = await api.signup()
    config = await api.provider(
        who,
        label="fake",
        api_key=API_KEY,
        base_url=f"{server.url}/v1",
        default_model="m",
        is_default=True,
    )
    assert config["provider"] == "custom" and config["base_url"] == f"{server.url}/v1"
    server.state.api_key = API_KEY  # the fake answers 401 unless the key arrives
    return who, config, await api.project(who)


async def _brief(api: Api, who: Account, project: dict[str, Any]) -> dict[str, Any]:
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, "generate": True},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    body = dict(r.json())
    assert body["job"]["status"] == "queued"
    return body


async def _run(api: Api, app: object, who: Account, artifact: dict[str, Any]) -> dict[str, Any]:
    job_id = artifact["job"]["id"]
    await run_jobs(app, job_id)
    r = await api.client.get(f"/api/v1/jobs/{job_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _rows(api: Api, who: Account, artifact: dict[str, Any]) -> list[dict[str, Any]]:
    """The artifact's audit rows, in call order."""
    r = await api.client.get(
        "/api/v1/ai-generations", params={"artifact_id": artifact["id"]}, headers=who.headers
    )
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda row: row["attempt"])


async def _artifact(api: Api, who: Account, artifact_id: str) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/artifacts/{artifact_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _versions(api: Api, who: Account, artifact_id: str) -> list[dict[str, Any]]:
    r = await api.client.get(f"/api/v1/artifacts/{artifact_id}/versions", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def _event_kinds(api: Api, who: Account, job_id: str) -> list[str]:
    r = await api.client.get(f"/api/v1/jobs/{job_id}/events", headers=who.headers)
    assert r.status_code == 200, r.text
    return [line[7:] for line in r.text.splitlines() if line.startswith("event: ")]


async def test_generates_a_brief_through_a_custom_base_url(
    api: Api, app: object, fake_openai: FakeServer
) -> None:
    who, config, project = await _setup(api, fake_openai)
    fake_openai.state.push(Reply(ANSWER, model="m-q4", prompt_tokens=321, completion_tokens=54))
    artifact = await _brief(api, who, project)
    job = await _run(api, app, who, artifact)
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 1 and job["result"]["version"] == 1

    # What went over the wire: the configured model and key, streamed, json_schema.
    (received,) = fake_openai.state.requests
    assert received.path == "/v1/chat/completions"
    assert received.headers["authorization"] == f"Bearer {API_KEY}"
    assert received.headers["user-agent"].startswith("AsyncOpenAI/Python")  # the real SDK
    assert received.body["model"] == "m" and received.body["stream"] is True
    assert received.body["response_format"]["type"] == "json_schema"
    assert received.body["response_format"]["json_schema"]["strict"] is False
    assert BRIEF_INPUT["idea"] in json.dumps(received.body["messages"])

    (row,) = await _rows(api, who, artifact)
    assert row["status"] == "success" and row["error_message"] is None
    assert row["provider"] == "custom" and row["provider_id"] == config["id"]
    assert row["model"] == "m-q4"  # the model the server says answered
    assert (row["input_tokens"], row["output_tokens"], row["total_tokens"]) == (321, 54, 375)
    assert row["job_id"] == job["id"] and row["attempt"] == 1

    got = await _artifact(api, who, artifact["id"])
    assert got["output_data"] == BRIEF_OUTPUT and got["active_version"] == 1
    (version,) = await _versions(api, who, artifact["id"])
    assert version["generated_by"] == "ai" and version["ai_generation_id"] == row["id"]
    assert json.loads(version["content"]) == BRIEF_OUTPUT

    kinds = await _event_kinds(api, who, job["id"])
    assert "progress" in kinds and kinds[-1] == "succeeded", kinds


async def test_a_server_refusing_json_schema_gets_json_object(
    api: Api, app: object, fake_openai: FakeServer
) -> None:
    who, _, project = await _setup(api, fake_openai)
    fake_openai.state.refuse_formats = {"json_schema"}  # as llama.cpp's server did
    fake_openai.state.push(Reply(ANSWER))
    artifact = await _brief(api, who, project)
    job = await _run(api, app, who, artifact)
    assert job["status"] == "succeeded", job

    first, fallback = fake_openai.state.bodies
    assert first["response_format"]["type"] == "json_schema"
    assert fallback["response_format"] == {"type": "json_object"}
    system = fallback["messages"][0]
    assert system["role"] == "system" and SCHEMA_INSTRUCTION in system["content"]
    # The refusal is the provider's own negotiation: one audit row, the success.
    (row,) = await _rows(api, who, artifact)
    assert row["status"] == "success" and row["provider"] == "custom"
    got = await _artifact(api, who, artifact["id"])
    assert got["output_data"] == BRIEF_OUTPUT and got["active_version"] == 1

    # The provider remembers what works: the next generation asks json_object at once.
    fake_openai.state.push(Reply(ANSWER))
    second = await _brief(api, who, project)
    assert (await _run(api, app, who, second))["status"] == "succeeded"
    assert [b["response_format"]["type"] for b in fake_openai.state.bodies[2:]] == ["json_object"]


async def test_rate_limited_then_answered(api: Api, app: object, fake_openai: FakeServer) -> None:
    who, _, project = await _setup(api, fake_openai)
    fake_openai.state.push(
        Fail(429, "slow down", "rate_limit_exceeded", headers={"Retry-After": "0"}),
        Reply(ANSWER),
    )
    artifact = await _brief(api, who, project)
    job = await _run(api, app, who, artifact)
    assert job["status"] == "succeeded", job

    rows = await _rows(api, who, artifact)
    assert [r["status"] for r in rows] == ["error", "success"]
    assert "rate limited" in rows[0]["error_message"] and "slow down" in rows[0]["error_message"]
    assert rows[0]["total_tokens"] == 0
    assert len(fake_openai.state.requests) == 2
    got = await _artifact(api, who, artifact["id"])
    assert got["output_data"] == BRIEF_OUTPUT and got["active_version"] == 1
    kinds = await _event_kinds(api, who, job["id"])
    assert "attempt_failed" in kinds and kinds[-1] == "succeeded", kinds


async def test_server_errors_until_retries_run_out_fail_the_job(
    api: Api, app: object, fake_openai: FakeServer
) -> None:
    who, _, project = await _setup(api, fake_openai)
    retries = app.state.settings.provider_max_retries  # type: ignore[attr-defined]
    fake_openai.state.push(
        *[Fail(500, "boom", headers={"Retry-After": "0"}) for _ in range(retries + 5)]
    )
    artifact = await _brief(api, who, project)
    before = await _artifact(api, who, artifact["id"])
    job = await _run(api, app, who, artifact)
    assert job["status"] == "failed", job
    assert job["error_code"] == "server_error"
    assert "HTTP 500" in job["error_message"] and "boom" in job["error_message"]

    assert len(fake_openai.state.requests) == retries + 1
    rows = await _rows(api, who, artifact)
    assert [r["status"] for r in rows] == ["error"] * (retries + 1)
    assert all("HTTP 500" in r["error_message"] for r in rows)
    # The artifact is as it was: same inputs, no output, no version.
    after = await _artifact(api, who, artifact["id"])
    for key in ("input_data", "output_data", "active_version"):
        assert after[key] == before[key], key
    assert after["output_data"] is None
    assert await _versions(api, who, artifact["id"]) == []
    kinds = await _event_kinds(api, who, job["id"])
    assert kinds.count("attempt_failed") == retries + 1 and kinds[-1] == "failed", kinds


async def test_an_invalid_answer_is_repaired(
    api: Api, app: object, fake_openai: FakeServer
) -> None:
    who, _, project = await _setup(api, fake_openai)
    fake_openai.state.push(Reply("not json at all", completion_tokens=4), Reply(ANSWER))
    artifact = await _brief(api, who, project)
    job = await _run(api, app, who, artifact)
    assert job["status"] == "succeeded", job

    rows = await _rows(api, who, artifact)
    assert [r["status"] for r in rows] == ["error", "success"]
    assert "does not match the schema" in rows[0]["error_message"]
    assert rows[0]["output_tokens"] == 4  # the invalid answer's tokens are counted too
    first, repair = fake_openai.state.bodies
    assert repair["messages"][-2] == {"role": "assistant", "content": "not json at all"}
    assert "does not match the required JSON schema" in repair["messages"][-1]["content"]
    assert len(repair["messages"]) == len(first["messages"]) + 2
    got = await _artifact(api, who, artifact["id"])
    assert got["output_data"] == BRIEF_OUTPUT and got["active_version"] == 1
    (version,) = await _versions(api, who, artifact["id"])
    assert version["ai_generation_id"] == rows[1]["id"]
