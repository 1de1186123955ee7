"""A provider config whose kind does not match the server at its base URL.

An ``anthropic`` config pointed at an OpenAI-compatible server, an OpenAI/custom config
pointed at an Anthropic server, or either pointed at something that is no AI API at all
(a web page, JSON of another shape, a 404 for the endpoint): each is the classified,
non-retryable ``provider_protocol_mismatch`` naming the base URL and asking whether the
kind is right, on the provider, on ``POST /ai-providers/{id}/test`` and in a generation
job (no retries or repair attempts spent, the audit row and the artifact as they should).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from atelier.ai.providers.anthropic import AnthropicProvider
from atelier.ai.providers.base import (
    GenerationRequest,
    Message,
    ProviderError,
    ProviderProtocolMismatch,
    ProviderSettings,
)
from atelier.ai.providers.openai_compat import OpenAICompatibleProvider, OpenAIProvider
from atelier.ai.retry import RetryPolicy, call_with_retries
from tests.ai import fake_openai_server as fake
from tests.ai.fake_openai_server import Fail, FakeServer, Raw, Reply
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Account, Api

pytestmark = pytest.mark.anyio

# The fake servers' fixtures: one server each for this module, reset for every test.
openai_server = fake.openai_server
fake_openai = fake.fake_openai
anthropic_server = fake.anthropic_server
fake_anthropic = fake.fake_anthropic
real_providers = fake.real_providers

SECRET = "sk-mismatch-SECRET-0123456789abcdef"
ANSWER = json.dumps(BRIEF_OUTPUT)
SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}
ANTHROPIC = "does not answer in the Anthropic Messages protocol"
OPENAI = "does not answer in the OpenAI Chat Completions protocol"
KIND_QUESTION = "is the provider kind right?"

HTML = "<!doctype html><html><head><title>Welcome</title></head><body>Hi</body></html>"
# What a server may answer instead of the protocol's answer, whichever protocol was asked.
NOT_AN_API = {
    "html page": Raw(HTML),
    "json of another shape": Raw(
        '{"status": "ok", "version": "1.2"}', content_type="application/json"
    ),
    "json array": Raw("[1, 2, 3]", content_type="application/json"),
    "invalid json": Raw("{not json", content_type="application/json"),
    "html 404": Raw("<html><body>Not Found</body></html>", status=404),
    "framework 404": Raw('{"detail": "Not Found"}', status=404, content_type="application/json"),
}


def request() -> GenerationRequest:
    return GenerationRequest(
        messages=[Message("user", 'Reply with {"ok": true}.')],
        json_schema=SCHEMA,
        schema_name="ping",
        max_tokens=50,
        timeout=5.0,
    )


async def on_text(delta: str) -> None:
    return None


def anthropic_at(base_url: str) -> AnthropicProvider:
    return AnthropicProvider(
        ProviderSettings(
            kind="anthropic", default_model="claude-test", api_key=SECRET, base_url=base_url
        )
    )


def custom_at(base_url: str) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        ProviderSettings(kind="custom", default_model="m", api_key=SECRET, base_url=base_url)
    )


def openai_at(base_url: str) -> OpenAIProvider:
    return OpenAIProvider(
        ProviderSettings(kind="openai", default_model="gpt-test", api_key=SECRET, base_url=base_url)
    )


async def mismatch(provider: Any, *, stream: bool) -> ProviderError:
    """The error ``provider`` raises for one call, which must be the classified one."""
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(request(), on_text=on_text if stream else None)
    finally:
        await provider.aclose()
    error = caught.value
    assert isinstance(error, ProviderProtocolMismatch), (error.code, error.message)
    assert error.code == "provider_protocol_mismatch"
    assert not error.retryable
    assert KIND_QUESTION in error.message
    assert SECRET not in error.message
    return error


# -- anthropic config → an OpenAI-compatible server -------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_anthropic_kind_at_an_openai_server_is_a_404_for_its_endpoint(
    fake_openai: FakeServer, stream: bool
) -> None:
    base = f"{fake_openai.url}/v1"  # how OpenAI-compatible base URLs are written
    error = await mismatch(anthropic_at(base), stream=stream)
    assert error.status == 404
    assert error.message.startswith(f"the server at {base} {ANTHROPIC} (HTTP 404")
    assert "/v1/v1/messages" in error.message
    assert [r.path for r in fake_openai.state.requests] == ["/v1/v1/messages"]


async def test_anthropic_kind_at_a_catch_all_openai_server_names_the_right_kind(
    fake_openai: FakeServer,
) -> None:
    # A server that answers every path with a chat completion: the SDK used to hand back a
    # Message without content, and reading it raised a TypeError (a 500 on /test).
    fake_openai.state.any_path = True
    fake_openai.state.push(Reply('{"ok": true}'))
    error = await mismatch(anthropic_at(fake_openai.url), stream=False)
    assert ANTHROPIC in error.message
    assert "OpenAI-compatible server" in error.message and '"custom"' in error.message


async def test_anthropic_kind_reading_an_openai_event_stream(fake_openai: FakeServer) -> None:
    # OpenAI's unnamed chunk events are skipped by the Anthropic SDK: this used to be an
    # empty answer, which generation then blamed on the model (invalid_output).
    fake_openai.state.any_path = True
    fake_openai.state.push(Reply('{"ok": true}'))
    error = await mismatch(anthropic_at(fake_openai.url), stream=True)
    assert ANTHROPIC in error.message and "message_start" in error.message
    assert fake_openai.state.bodies[0]["stream"] is True


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("name", list(NOT_AN_API))
async def test_anthropic_kind_at_something_that_is_no_ai_api(
    fake_anthropic: FakeServer, name: str, stream: bool
) -> None:
    fake_anthropic.state.push(NOT_AN_API[name])
    error = await mismatch(anthropic_at(fake_anthropic.url), stream=stream)
    assert error.message.startswith(f"the server at {fake_anthropic.url} {ANTHROPIC} (")
    if name == "html page":
        assert "HTML" in error.message and HTML not in error.message


async def test_anthropic_own_not_found_is_not_a_mismatch(fake_anthropic: FakeServer) -> None:
    # The API's own 404 (in its error format: an unknown model) stays what it was, while a
    # 404 in any other format is the endpoint missing.
    fake_anthropic.state.push(
        Fail(404, "model: claude-nope", "not_found_error"), NOT_AN_API["framework 404"]
    )
    provider = anthropic_at(fake_anthropic.url)
    try:
        with pytest.raises(ProviderError) as own:
            await provider.generate(request())
        with pytest.raises(ProviderError) as other:
            await provider.generate(request())
    finally:
        await provider.aclose()
    assert (own.value.code, own.value.status) == ("provider_error", 404)
    assert "claude-nope" in own.value.message
    assert other.value.code == "provider_protocol_mismatch"
    assert "Not Found" in other.value.message


# -- openai / custom config → an Anthropic server ---------------------------------------------

KINDS: dict[str, Callable[[str], Any]] = {"custom": custom_at, "openai": openai_at}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("kind", list(KINDS))
async def test_openai_kinds_at_an_anthropic_server_is_a_404_for_their_endpoint(
    fake_anthropic: FakeServer, kind: str, stream: bool
) -> None:
    base = f"{fake_anthropic.url}/v1"
    error = await mismatch(KINDS[kind](base), stream=stream)
    assert error.status == 404
    assert error.message.startswith(f"the server at {base} {OPENAI} (HTTP 404")
    # No structured-output fallbacks tried on a server that is not one of ours at all.
    assert [r.path for r in fake_anthropic.state.requests] == ["/v1/chat/completions"]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("kind", list(KINDS))
async def test_openai_kinds_at_a_catch_all_anthropic_server_name_the_right_kind(
    fake_anthropic: FakeServer, kind: str, stream: bool
) -> None:
    # A Message where a completion belongs used to pass for an empty answer; Anthropic's
    # events in the stream raised a TypeError.
    fake_anthropic.state.any_path = True
    fake_anthropic.state.push(Reply('{"ok": true}'))
    error = await mismatch(KINDS[kind](f"{fake_anthropic.url}/v1"), stream=stream)
    assert OPENAI in error.message
    assert 'Anthropic server: use the provider kind "anthropic"' in error.message
    assert len(fake_anthropic.state.requests) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("name", list(NOT_AN_API))
async def test_custom_kind_at_something_that_is_no_ai_api(
    fake_openai: FakeServer, name: str, stream: bool
) -> None:
    fake_openai.state.push(NOT_AN_API[name])
    error = await mismatch(custom_at(f"{fake_openai.url}/v1"), stream=stream)
    assert error.message.startswith(f"the server at {fake_openai.url}/v1 {OPENAI} (")
    assert len(fake_openai.state.requests) == 1


async def test_openai_style_not_found_is_not_a_mismatch(fake_openai: FakeServer) -> None:
    fake_openai.state.push(
        Fail(404, "The model `nope` does not exist.", "NotFoundError"), NOT_AN_API["html 404"]
    )
    provider = custom_at(f"{fake_openai.url}/v1")
    try:
        with pytest.raises(ProviderError) as own:
            await provider.generate(request())
        with pytest.raises(ProviderError) as other:
            await provider.generate(request())
    finally:
        await provider.aclose()
    assert (own.value.code, own.value.status) == ("provider_error", 404)
    assert other.value.code == "provider_protocol_mismatch"


async def test_a_mismatch_is_not_retried_and_hides_credentials_in_the_url(
    fake_openai: FakeServer,
) -> None:
    user_url = fake_openai.url.replace("http://", "http://admin:hunter2-pw@")
    provider = anthropic_at(f"{user_url}/v1?token=tok-in-query")
    calls = 0

    async def call() -> Any:
        nonlocal calls
        calls += 1
        return await provider.generate(request())

    try:
        with pytest.raises(ProviderProtocolMismatch) as caught:
            await call_with_retries(call, policy=RetryPolicy(max_retries=3, base_delay=0))
    finally:
        await provider.aclose()
    assert calls == 1 and len(fake_openai.state.requests) == 1
    message = caught.value.message
    assert f"the server at {fake_openai.url}/v1 " in message
    assert "hunter2" not in message and "admin" not in message and "tok-in-query" not in message


# -- POST /ai-providers/{id}/test --------------------------------------------------------------


async def _config(
    api: Api, who: Account, kind: str, base_url: str, **fields: Any
) -> dict[str, Any]:
    r = await api.client.post(
        "/api/v1/ai-providers",
        json={
            "provider": kind,
            "label": f"{kind} at {base_url}",
            "api_key": SECRET,
            "base_url": base_url,
            "default_model": "m",
            **fields,
        },
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _test_call(api: Api, who: Account, config: dict[str, Any]) -> dict[str, Any]:
    r = await api.client.post(f"/api/v1/ai-providers/{config['id']}/test", headers=who.headers)
    # The endpoint's usual failure: 200 with ok false and the error's code, never a 500.
    assert r.status_code == 200, r.text
    assert SECRET not in r.text
    body = dict(r.json())
    assert body["ok"] is False and body["error"] == "provider_protocol_mismatch", body
    return body


async def _test_rows(api: Api, who: Account) -> list[dict[str, Any]]:
    r = await api.client.get("/api/v1/ai-generations", headers=who.headers)
    assert r.status_code == 200, r.text
    return [row for row in r.json()["items"] if row["prompt_template"] == "provider_test@1"]


@pytest.mark.usefixtures("real_providers")
async def test_testing_an_anthropic_config_at_an_openai_server(
    api: Api, fake_openai: FakeServer
) -> None:
    who = await api.signup()
    fake_openai.state.any_path = True
    fake_openai.state.push(Reply('{"ok": true}'))
    config = await _config(api, who, "anthropic", fake_openai.url)
    body = await _test_call(api, who, config)
    assert ANTHROPIC in body["message"] and "OpenAI-compatible" in body["message"]
    assert body["output"] is None
    (row,) = await _test_rows(api, who)
    assert row["status"] == "error" and row["provider"] == "anthropic"
    assert ANTHROPIC in row["error_message"] and SECRET not in row["error_message"]


@pytest.mark.usefixtures("real_providers")
@pytest.mark.parametrize("any_path", [False, True], ids=["404", "catch-all"])
async def test_testing_a_custom_config_at_an_anthropic_server(
    api: Api, fake_anthropic: FakeServer, any_path: bool
) -> None:
    who = await api.signup()
    fake_anthropic.state.any_path = any_path
    config = await _config(api, who, "custom", f"{fake_anthropic.url}/v1")
    body = await _test_call(api, who, config)
    assert OPENAI in body["message"]
    if any_path:
        assert '"anthropic"' in body["message"]
    (row,) = await _test_rows(api, who)
    assert row["status"] == "error" and OPENAI in row["error_message"]


@pytest.mark.usefixtures("real_providers")
@pytest.mark.parametrize("kind", ["anthropic", "custom", "openai"])
async def test_testing_a_config_at_a_web_page(api: Api, fake_openai: FakeServer, kind: str) -> None:
    who = await api.signup()
    fake_openai.state.any_path = True
    fake_openai.state.push(Raw(HTML))
    config = await _config(api, who, kind, f"{fake_openai.url}/v1")
    body = await _test_call(api, who, config)
    assert "HTML page" in body["message"]


# -- generation jobs -----------------------------------------------------------------------------


async def _artifact(api: Api, who: Account, artifact_id: str) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/artifacts/{artifact_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _versions(api: Api, who: Account, artifact_id: str) -> list[dict[str, Any]]:
    r = await api.client.get(f"/api/v1/artifacts/{artifact_id}/versions", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def _rows(api: Api, who: Account, artifact_id: str) -> list[dict[str, Any]]:
    r = await api.client.get(
        "/api/v1/ai-generations", params={"artifact_id": artifact_id}, headers=who.headers
    )
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda row: (row["created_at"], row["attempt"]))


async def _job(api: Api, app: object, who: Account, job_id: str) -> dict[str, Any]:
    await run_jobs(app, job_id)
    r = await api.client.get(f"/api/v1/jobs/{job_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _brief_with_a_version(
    api: Api, app: object, who: Account, server: FakeServer
) -> dict[str, Any]:
    """A brief whose first version came from a working custom provider at ``server``."""
    await _config(api, who, "custom", f"{server.url}/v1", is_default=True)
    project = await api.project(who)
    server.state.push(Reply(ANSWER))
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, "generate": True},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    artifact = dict(r.json())
    assert (await _job(api, app, who, artifact["job"]["id"]))["status"] == "succeeded"
    server.state.reset()
    return await _artifact(api, who, artifact["id"])


async def _generate_with(
    api: Api, app: object, who: Account, artifact: dict[str, Any], config: dict[str, Any]
) -> dict[str, Any]:
    r = await api.client.post(
        f"/api/v1/artifacts/{artifact['id']}/generate",
        json={"provider_id": config["id"]},
        headers=who.headers,
    )
    assert r.status_code == 202, r.text
    return await _job(api, app, who, r.json()["id"])


async def _assert_failed_cleanly(
    api: Api, who: Account, before: dict[str, Any], job: dict[str, Any], config: dict[str, Any]
) -> dict[str, Any]:
    """The job failed as a mismatch after one call; the artifact is as it was."""
    assert job["status"] == "failed", job
    assert job["error_code"] == "provider_protocol_mismatch", job
    assert KIND_QUESTION in job["error_message"] and SECRET not in job["error_message"]
    rows = [r for r in await _rows(api, who, before["id"]) if r["job_id"] == job["id"]]
    # One call, one row: no retries, no repair attempts (it is not the model's fault).
    (row,) = rows
    assert row["status"] == "error" and row["provider_id"] == config["id"]
    assert row["error_message"] == job["error_message"]
    after = await _artifact(api, who, before["id"])
    for key in ("input_data", "output_data", "active_version"):
        assert after[key] == before[key], key
    assert [v["version"] for v in await _versions(api, who, before["id"])] == [1]
    return row


@pytest.mark.usefixtures("real_providers")
async def test_generating_through_an_anthropic_config_at_an_openai_server(
    api: Api, app: object, fake_openai: FakeServer
) -> None:
    who = await api.signup()
    before = await _brief_with_a_version(api, app, who, fake_openai)
    assert before["active_version"] == 1 and before["output_data"] == BRIEF_OUTPUT
    # The server answers the Anthropic client's stream with OpenAI chunks of a valid
    # answer: this used to be an empty text, repaired in vain, then "invalid_output".
    fake_openai.state.any_path = True
    fake_openai.state.push(*[Reply(ANSWER) for _ in range(5)])
    config = await _config(api, who, "anthropic", f"{fake_openai.url}/v1")
    job = await _generate_with(api, app, who, before, config)
    row = await _assert_failed_cleanly(api, who, before, job, config)
    assert ANTHROPIC in row["error_message"] and row["provider"] == "anthropic"
    assert len(fake_openai.state.requests) == 1


@pytest.mark.usefixtures("real_providers")
async def test_generating_through_a_custom_config_at_an_anthropic_server(
    api: Api, app: object, fake_openai: FakeServer, fake_anthropic: FakeServer
) -> None:
    who = await api.signup()
    before = await _brief_with_a_version(api, app, who, fake_openai)
    fake_anthropic.state.any_path = True
    fake_anthropic.state.push(*[Reply(ANSWER) for _ in range(5)])
    config = await _config(api, who, "custom", f"{fake_anthropic.url}/v1")
    job = await _generate_with(api, app, who, before, config)
    row = await _assert_failed_cleanly(api, who, before, job, config)
    assert OPENAI in row["error_message"] and '"anthropic"' in row["error_message"]
    assert len(fake_anthropic.state.requests) == 1


@pytest.mark.usefixtures("real_providers")
async def test_generating_through_a_custom_config_at_a_web_page(
    api: Api, app: object, fake_openai: FakeServer
) -> None:
    who = await api.signup()
    before = await _brief_with_a_version(api, app, who, fake_openai)
    fake_openai.state.push(*[Raw(HTML) for _ in range(5)])
    config = await _config(api, who, "custom", f"{fake_openai.url}/v1")
    job = await _generate_with(api, app, who, before, config)
    row = await _assert_failed_cleanly(api, who, before, job, config)
    assert "HTML page" in row["error_message"]
