"""Generation through the API with a FakeProvider: versions, audit rows, repair, retries,
provider choice, and what is refused before anything is queued."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import update

from atelier.ai.providers.base import ProviderAuthError, ProviderError, ProviderTimeout
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.retry import RetryPolicy
from atelier.artifacts.models import Artifact
from atelier.core.db import session_scope
from atelier.packs.general.brief import BriefTool
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Account, Api, error_code

pytestmark = pytest.mark.anyio

AI_OUTPUT = {**BRIEF_OUTPUT, "title": "Tiny CRM, by the model", "goals": ["Ship a beta"]}


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, retry, retry_after: 0.0)


def fields(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [e["field"] for e in response.json()["detail"]]


async def brief(api: Api, who: Account, project_id: str, **extra: Any) -> dict[str, Any]:
    payload = {"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, **extra}
    r = await api.client.post(
        f"/api/v1/projects/{project_id}/artifacts", json=payload, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def generate(
    api: Api, who: Account, artifact_id: str, prefix: str = "artifacts", **body: Any
) -> Response:
    return await api.client.post(
        f"/api/v1/{prefix}/{artifact_id}/generate", json=body or None, headers=who.headers
    )


async def queued(api: Api, who: Account, artifact_id: str, **body: Any) -> dict[str, Any]:
    r = await generate(api, who, artifact_id, **body)
    assert r.status_code == 202, r.text
    job = dict(r.json())
    assert job["status"] == "queued" and job["kind"] == "generate"
    assert job["artifact_id"] == artifact_id
    return job


async def finished(api: Api, app: Any, who: Account, job_id: str) -> dict[str, Any]:
    await run_jobs(app, job_id)
    r = await api.client.get(f"/api/v1/jobs/{job_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def audit_rows(api: Api, who: Account, artifact_id: str) -> list[dict[str, Any]]:
    """The artifact's AIGeneration rows, in call order."""
    r = await api.client.get(
        "/api/v1/ai-generations", params={"artifact_id": artifact_id}, headers=who.headers
    )
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda row: (row["job_id"], row["attempt"]))


async def snapshot(api: Api, who: Account, artifact: dict[str, Any]) -> tuple[Any, ...]:
    """Everything a failed generation must leave as it was."""
    a = await api.client.get(f"/api/v1/artifacts/{artifact['id']}", headers=who.headers)
    v = await api.client.get(f"/api/v1/artifacts/{artifact['id']}/versions", headers=who.headers)
    p = await api.client.get(f"/api/v1/projects/{artifact['project_id']}", headers=who.headers)
    return a.json(), v.json(), p.json()


async def jobs_of(api: Api, who: Account) -> list[dict[str, Any]]:
    r = await api.client.get("/api/v1/jobs", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def ready(api: Api, **provider: Any) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    """A user with a (faked) provider and a project."""
    who = await api.signup()
    config = await api.provider(who, **provider)
    project = await api.project(who)
    return who, config, project


# --- the happy path ---------------------------------------------------------------------------


async def test_generate_adds_an_active_ai_version_and_an_audit_row(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, config, project = await ready(api)
    art = await brief(api, ann, project["id"], output_data=BRIEF_OUTPUT)  # human version 1
    assert art["active_version"] == 1
    fake_ai.push(AI_OUTPUT)

    job = await queued(api, ann, art["id"])
    assert job["events_url"] == f"/api/v1/jobs/{job['id']}/events"
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "succeeded", done
    assert done["result"]["version"] == 2 and done["result"]["artifact_id"] == art["id"]
    assert done["error_code"] is None and done["attempts"] == 1

    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["output_data"] == AI_OUTPUT
    assert r.json()["active_version"] == 2 and r.json()["latest_version"] == 2
    assert r.json()["input_data"]["idea"] == BRIEF_INPUT["idea"]
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}/versions", headers=ann.headers)
    v2, v1 = r.json()["items"]
    assert (v2["version"], v2["generated_by"], v2["is_active"]) == (2, "ai", True)
    assert (v1["version"], v1["generated_by"], v1["is_active"]) == (1, "human", False)
    assert v2["created_by_id"] == ann.id

    (row,) = await audit_rows(api, ann, art["id"])
    assert v2["ai_generation_id"] == row["id"] == done["result"]["ai_generation_id"]
    assert row["status"] == "success" and row["error_message"] is None
    assert row["provider"] == "custom" and row["provider_id"] == config["id"]
    assert row["model"] == "fake-model" and row["prompt_template"] == BriefTool.prompt_name()
    assert row["user_id"] == ann.id and row["project_id"] == project["id"]
    assert row["job_id"] == job["id"] and row["artifact_id"] == art["id"]
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert row["total_tokens"] == row["input_tokens"] + row["output_tokens"]
    # A custom server with no price set costs nothing (and is not priced as something else).
    assert Decimal(row["estimated_cost"]) == 0
    assert row["attempt"] == 1

    # The prompt carried the inputs and asked for the tool's schema.
    (request,) = fake_ai.requests
    prompt = "\n".join(m.content for m in request.messages)
    assert BRIEF_INPUT["idea"] in prompt and BRIEF_INPUT["name"] in prompt
    assert request.json_schema is not None and "value_proposition" in str(request.json_schema)


async def test_cost_follows_the_configs_prices_exactly(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, _, project = await ready(api, options={"input_usd_per_mtok": 1, "output_usd_per_mtok": 2})
    art = await brief(api, ann, project["id"])
    fake_ai.push(AI_OUTPUT)
    job = await queued(api, ann, art["id"])
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"
    (row,) = await audit_rows(api, ann, art["id"])
    expected = (Decimal(row["input_tokens"]) * 1 + Decimal(row["output_tokens"]) * 2) / Decimal(
        1_000_000
    )
    assert expected > 0
    assert Decimal(row["estimated_cost"]) == expected


async def test_the_models_alias_generates_too(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    fake_ai.push(AI_OUTPUT)
    r = await generate(api, ann, art["id"], prefix="models")
    assert r.status_code == 202, r.text
    assert (await finished(api, app, ann, r.json()["id"]))["status"] == "succeeded"
    r = await api.client.get(f"/api/v1/models/{art['id']}", headers=ann.headers)
    assert r.json()["output_data"] == AI_OUTPUT and r.json()["active_version"] == 1


async def test_create_with_generate(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    fake_ai.push(AI_OUTPUT)
    art = await brief(api, ann, project["id"], generate=True)
    assert art["job"]["status"] == "queued" and art["active_version"] is None
    assert (await finished(api, app, ann, art["job"]["id"]))["status"] == "succeeded"
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["output_data"] == AI_OUTPUT and r.json()["active_version"] == 1


# --- inputs ---------------------------------------------------------------------------------


async def test_generate_with_new_inputs_replaces_them(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    new_inputs = {"name": "Route planner", "idea": "Plan the day's visits for plumbers."}
    fake_ai.push(AI_OUTPUT)
    job = await queued(api, ann, art["id"], input_data=new_inputs)
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["input_data"] == {
        **new_inputs,
        "audience": None,
        "problem": None,
        "constraints": [],
    }
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"
    prompt = "\n".join(m.content for m in fake_ai.requests[0].messages)
    assert new_inputs["idea"] in prompt and BRIEF_INPUT["idea"] not in prompt


async def test_generate_with_bad_new_inputs_is_refused(api: Api, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    for bad, field in (
        ({"name": "", "idea": "An idea"}, "body.input_data.name"),
        ({"name": "X"}, "body.input_data.idea"),
        ({**BRIEF_INPUT, "colour": "blue"}, "body.input_data.colour"),
        ({**BRIEF_INPUT, "constraints": "not a list"}, "body.input_data.constraints"),
    ):
        r = await generate(api, ann, art["id"], input_data=bad)
        assert fields(r) == [field], bad
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["input_data"]["name"] == BRIEF_INPUT["name"]
    assert await jobs_of(api, ann) == [] and fake_ai.requests == []


async def test_stored_inputs_that_no_longer_validate(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Artifact)
            .where(Artifact.id == uuid.UUID(art["id"]))
            .values(input_data={"name": "Tiny CRM", "legacy_field": 1})
        )
    r = await generate(api, ann, art["id"])
    assert sorted(fields(r)) == ["input_data.idea", "input_data.legacy_field"]
    assert await jobs_of(api, ann) == [] and fake_ai.requests == []
    # Sending valid inputs with the request mends it.
    fake_ai.push(AI_OUTPUT)
    job = await queued(api, ann, art["id"], input_data=BRIEF_INPUT)
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"


async def test_inputs_broken_after_queueing_fail_the_job(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    job = await queued(api, ann, art["id"])
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(Artifact).where(Artifact.id == uuid.UUID(art["id"])).values(input_data={})
        )
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "invalid_input"
    assert "idea" in done["error_message"]
    assert fake_ai.requests == []


async def test_generating_needs_a_tool(api: Api, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    url = f"/api/v1/projects/{project['id']}/artifacts"
    r = await api.client.post(
        url,
        json={"type": "notes", "name": "VP", "input_data": {}, "generate": True},
        headers=ann.headers,
    )
    assert fields(r) == ["body.type"]
    assert "brief" in r.json()["detail"][0]["message"]  # names the tools there are
    r = await api.client.get(url, headers=ann.headers)
    assert r.json()["items"] == []  # nothing half-created

    # An existing artifact of a type no tool makes.
    vp = await api.artifact(ann, project["id"])
    r = await generate(api, ann, vp["id"])
    assert fields(r) == ["type"]
    r = await generate(api, ann, vp["id"], input_data={"a": 2})
    assert fields(r) == ["type"]
    r = await api.client.get(f"/api/v1/artifacts/{vp['id']}", headers=ann.headers)
    assert r.json()["input_data"] == {"a": 1}
    assert await jobs_of(api, ann) == [] and fake_ai.requests == []


async def test_a_tools_artifact_is_created_with_valid_inputs_only(api: Api) -> None:
    ann = await api.signup()
    project = await api.project(ann)
    url = f"/api/v1/projects/{project['id']}/artifacts"
    for bad, field in (
        ({"name": "X"}, "body.input_data.idea"),
        ({"name": "X", "idea": "   "}, "body.input_data.idea"),
        ({**BRIEF_INPUT, "extra": 1}, "body.input_data.extra"),
    ):
        r = await api.client.post(
            url, json={"type": "brief", "name": "B", "input_data": bad}, headers=ann.headers
        )
        assert fields(r) == [field], bad
    r = await api.client.get(url, headers=ann.headers)
    assert r.json()["items"] == []


# --- repair ---------------------------------------------------------------------------------


async def test_an_invalid_answer_is_repaired(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    incomplete = {k: v for k, v in AI_OUTPUT.items() if k != "risks"}
    fake_ai.push(incomplete, AI_OUTPUT)
    job = await queued(api, ann, art["id"])
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"

    first, second = await audit_rows(api, ann, art["id"])
    assert (first["status"], second["status"]) == ("error", "success")
    assert (first["attempt"], second["attempt"]) == (1, 2)
    assert "risks" in first["error_message"]
    assert first["total_tokens"] > 0  # a wrong answer still used tokens
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}/versions", headers=ann.headers)
    (version,) = r.json()["items"]
    assert version["ai_generation_id"] == second["id"]

    assert len(fake_ai.requests) == 2
    repair = fake_ai.requests[1].messages
    assert repair[: len(fake_ai.requests[0].messages)] == fake_ai.requests[0].messages
    assert repair[-2].role == "assistant" and '"title"' in repair[-2].content
    assert repair[-1].role == "user"
    assert "risks" in repair[-1].content and "Field required" in repair[-1].content


async def test_an_always_invalid_answer_fails_and_changes_nothing(
    api: Api, app: Any, fake_ai: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = app.state.ai.settings
    monkeypatch.setattr(settings, "generation_max_attempts", 2)
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"], output_data=BRIEF_OUTPUT)
    before = await snapshot(api, ann, art)
    fake_ai.default = {"title": "only a title"}

    job = await queued(api, ann, art["id"])
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "invalid_output", done
    assert "2 attempts" in done["error_message"]
    assert len(fake_ai.requests) == settings.generation_max_attempts == 2
    rows = await audit_rows(api, ann, art["id"])
    assert [r["status"] for r in rows] == ["error", "error"]
    assert await snapshot(api, ann, art) == before


# --- provider failures ---------------------------------------------------------------------


async def test_a_provider_that_stays_down_fails_the_job(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    retries = app.state.ai.settings.provider_max_retries
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"], output_data=BRIEF_OUTPUT)
    before = await snapshot(api, ann, art)
    fake_ai.default = ProviderError("upstream unavailable", retryable=True, status=503)

    job = await queued(api, ann, art["id"])
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "provider_error", done
    assert "upstream unavailable" in done["error_message"]
    assert len(fake_ai.requests) == retries + 1
    rows = await audit_rows(api, ann, art["id"])
    assert len(rows) == retries + 1
    assert all(r["status"] == "error" and r["job_id"] == job["id"] for r in rows)
    assert all(r["error_message"] == "upstream unavailable" for r in rows)
    assert [r["attempt"] for r in rows] == list(range(1, retries + 2))
    assert await snapshot(api, ann, art) == before

    r = await api.client.get(f"/api/v1/jobs/{job['id']}/events", headers=ann.headers)
    failures = [line for line in r.text.splitlines() if line == "event: attempt_failed"]
    assert len(failures) == retries + 1


async def test_a_refused_key_is_not_retried(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    fake_ai.default = ProviderAuthError()
    job = await queued(api, ann, art["id"])
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "provider_auth"
    assert len(fake_ai.requests) == 1
    assert [r["status"] for r in await audit_rows(api, ann, art["id"])] == ["error"]


async def test_a_provider_error_never_shows_the_key(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    key = "sk-echoed-back-by-the-provider-42"
    ann, _, project = await ready(api, api_key=key)
    art = await brief(api, ann, project["id"])
    fake_ai.default = ProviderError(f"invalid key {key}", code="provider_auth")
    job = await queued(api, ann, art["id"])
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and "invalid key" in done["error_message"]
    assert key not in str(done)
    assert key not in str(await audit_rows(api, ann, art["id"]))
    r = await api.client.get(f"/api/v1/jobs/{job['id']}/events", headers=ann.headers)
    assert "invalid key" in r.text and key not in r.text


async def test_rate_limited_then_answered(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    fake_ai.push(
        ProviderError("rate limited", retryable=True, status=429, retry_after=30.0), AI_OUTPUT
    )
    job = await queued(api, ann, art["id"])
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"
    rows = await audit_rows(api, ann, art["id"])
    assert [(r["status"], r["error_message"]) for r in rows] == [
        ("error", "rate limited"),
        ("success", None),
    ]
    assert rows[0]["total_tokens"] == 0 and Decimal(rows[0]["estimated_cost"]) == 0
    r = await api.client.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.json()["output_data"] == AI_OUTPUT


async def test_a_timeout_is_recorded_as_such(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    fake_ai.push(ProviderTimeout(), AI_OUTPUT)
    job = await queued(api, ann, art["id"])
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"
    rows = await audit_rows(api, ann, art["id"])
    assert [r["status"] for r in rows] == ["timeout", "success"]


async def test_timeouts_only_fail_with_timeout(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    fake_ai.default = ProviderTimeout()
    job = await queued(api, ann, art["id"])
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "timeout"
    statuses = {r["status"] for r in await audit_rows(api, ann, art["id"])}
    assert statuses == {"timeout"}


# --- which provider -------------------------------------------------------------------------


async def test_provider_override_in_the_body(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    ann, default, project = await ready(api)
    other = await api.provider(ann, label="Other", is_default=False)
    art = await brief(api, ann, project["id"])
    fake_ai.push(AI_OUTPUT, AI_OUTPUT)

    job = await queued(api, ann, art["id"], provider_id=other["id"])
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"
    job = await queued(api, ann, art["id"])
    assert (await finished(api, app, ann, job["id"]))["status"] == "succeeded"
    first, second = sorted(await audit_rows(api, ann, art["id"]), key=lambda row: row["created_at"])
    assert first["provider_id"] == other["id"]
    assert second["provider_id"] == default["id"]


async def test_someone_elses_provider_cannot_be_used(api: Api, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    bob = await api.signup()
    bobs = await api.provider(bob)
    art = await brief(api, ann, project["id"])
    for provider_id in (bobs["id"], str(uuid.uuid4())):
        r = await generate(api, ann, art["id"], provider_id=provider_id)
        assert r.status_code == 404 and error_code(r) == "ai_provider_not_found", r.text
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={
            "type": "brief",
            "name": "B",
            "input_data": BRIEF_INPUT,
            "generate": True,
            "provider_id": bobs["id"],
        },
        headers=ann.headers,
    )
    assert r.status_code == 404 and error_code(r) == "ai_provider_not_found"
    assert await jobs_of(api, ann) == [] and fake_ai.requests == []


async def test_an_organizations_shared_provider_serves_its_members(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    owner, member = await api.signup(), await api.signup()
    org = await api.organization(owner)
    await api.add_member(owner, org["id"], member, "MEMBER")
    shared = await api.provider(owner, organization_id=org["id"], is_default=False)
    project = await api.project(member)
    art = await brief(api, member, project["id"])
    fake_ai.push(AI_OUTPUT)
    job = await queued(api, member, art["id"], provider_id=shared["id"])
    assert (await finished(api, app, member, job["id"]))["status"] == "succeeded"
    (row,) = await audit_rows(api, member, art["id"])
    assert row["provider_id"] == shared["id"] and row["user_id"] == member.id


async def test_no_provider_at_all_says_how_to_fix_it(api: Api, fake_ai: FakeProvider) -> None:
    ann = await api.signup()  # no provider config; the local model is not installed
    project = await api.project(ann)
    art = await brief(api, ann, project["id"])
    r = await generate(api, ann, art["id"])
    assert r.status_code == 409 and error_code(r) == "no_ai_provider", r.text
    detail = r.json()["detail"]
    assert "/api/v1/ai-providers" in detail and "install" in detail
    assert await jobs_of(api, ann) == []

    url = f"/api/v1/projects/{project['id']}/artifacts"
    r = await api.client.post(
        url,
        json={"type": "brief", "name": "B2", "input_data": BRIEF_INPUT, "generate": True},
        headers=ann.headers,
    )
    assert r.status_code == 409 and error_code(r) == "no_ai_provider"
    r = await api.client.get(url, headers=ann.headers)
    assert [a["id"] for a in r.json()["items"]] == [art["id"]]  # the failed create left none
    assert await jobs_of(api, ann) == [] and fake_ai.requests == []


async def test_a_provider_removed_while_queued_fails_the_job(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, config, project = await ready(api)
    art = await brief(api, ann, project["id"])
    job = await queued(api, ann, art["id"], provider_id=config["id"])
    r = await api.client.delete(f"/api/v1/ai-providers/{config['id']}", headers=ann.headers)
    assert r.status_code == 204
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "ai_provider_not_found"
    assert fake_ai.requests == []


async def test_an_artifact_deleted_while_queued_fails_the_job(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    job = await queued(api, ann, art["id"])
    r = await api.client.delete(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
    assert r.status_code == 204
    fake_ai.push(AI_OUTPUT)
    done = await finished(api, app, ann, job["id"])
    assert done["status"] == "failed" and done["error_code"] == "artifact_not_found"
    assert fake_ai.requests == []


async def test_generating_needs_write_access(api: Api, fake_ai: FakeProvider) -> None:
    ann, _, project = await ready(api)
    art = await brief(api, ann, project["id"])
    bob = await api.signup()
    await api.provider(bob)
    r = await generate(api, bob, art["id"])
    assert r.status_code == 404 and error_code(r) == "artifact_not_found"
    r = await api.client.post(f"/api/v1/artifacts/{art['id']}/generate")
    assert r.status_code == 401
    assert await jobs_of(api, bob) == [] and fake_ai.requests == []
