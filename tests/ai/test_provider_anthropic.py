"""AnthropicProvider against a fake Anthropic Messages endpoint on a real socket."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from pydantic import BaseModel

from atelier.ai.providers.anthropic import AnthropicProvider
from atelier.ai.providers.base import (
    GenerationRequest,
    Message,
    ProviderAuthError,
    ProviderError,
    ProviderSettings,
    ProviderTimeout,
)
from tests.ai import fake_openai_server as fake
from tests.ai.fake_openai_server import Fail, FakeServer, Reply, Sleep, StreamFail, unused_port

pytestmark = pytest.mark.anyio

# The fake server's fixtures: one server for this module, reset for every test.
anthropic_server = fake.anthropic_server
fake_anthropic = fake.fake_anthropic

SECRET_KEY = "sk-ant-test-SECRET-0123456789abcdef"


class Step(BaseModel):
    text: str
    minutes: int = 5


class Recipe(BaseModel):
    name: str
    steps: list[Step]


SCHEMA = Recipe.model_json_schema()
ANSWER = Recipe(name="Tea", steps=[Step(text="Boil water", minutes=3)]).model_dump_json()


def provider_for(server: FakeServer, api_key: str | None = SECRET_KEY) -> AnthropicProvider:
    return AnthropicProvider(
        ProviderSettings(
            kind="anthropic", default_model="claude-test", api_key=api_key, base_url=server.url
        )
    )


def request(schema: dict[str, Any] | None = SCHEMA, *, timeout: float = 5.0) -> GenerationRequest:
    return GenerationRequest(
        messages=[
            Message("system", "You write recipes."),
            Message("user", "Tea, please."),
            Message("assistant", "Which tea?"),
            Message("user", "Black tea."),
        ],
        json_schema=schema,
        schema_name="Recipe",
        max_tokens=1000,
        timeout=timeout,
    )


async def generate(server: FakeServer, req: GenerationRequest, **kwargs: Any) -> Any:
    provider = provider_for(server)
    try:
        return await provider.generate(req, **kwargs)
    finally:
        await provider.aclose()


async def failure(server: FakeServer, *behaviours: Any, stream: bool = False) -> ProviderError:
    server.state.push(*behaviours)

    async def on_text(delta: str) -> None:
        return None

    with pytest.raises(ProviderError) as caught:
        await generate(server, request(), on_text=on_text if stream else None)
    return caught.value


# -- requests and results ------------------------------------------------------------------


async def test_structured_output_request_shape_and_usage(fake_anthropic: FakeServer) -> None:
    fake_anthropic.state.push(Reply(ANSWER, prompt_tokens=120, completion_tokens=33))
    result = await generate(fake_anthropic, request())

    assert Recipe.model_validate_json(result.text).name == "Tea"
    assert (result.input_tokens, result.output_tokens) == (120, 33)
    assert result.model == "claude-test"
    assert result.finish_reason == "end_turn"
    assert result.notes == {"structured_output": "json_schema"}

    [sent] = fake_anthropic.state.requests
    body = sent.body
    assert sent.path == "/v1/messages"
    assert body["model"] == "claude-test" and body["max_tokens"] == 1000
    assert body["system"] == [{"type": "text", "text": "You write recipes."}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert "temperature" not in body  # API 2026-10-21 rejects sampling parameters
    assert "stream" not in body or body["stream"] is False
    out = body["output_config"]["format"]
    assert out["type"] == "json_schema"
    assert out["schema"] == anthropic.transform_schema(SCHEMA)
    assert out["schema"]["$defs"]["Step"]["additionalProperties"] is False
    assert "tools" not in body
    assert SECRET_KEY in sent.headers.get("authorization", "") + sent.headers.get("x-api-key", "")


async def test_free_text_request_has_no_output_config(fake_anthropic: FakeServer) -> None:
    fake_anthropic.state.push(Reply("Just boil it."))
    result = await generate(fake_anthropic, request(None))
    assert result.text == "Just boil it."
    assert result.notes == {}
    assert "output_config" not in fake_anthropic.state.bodies[0]


async def test_streaming_text_deltas(fake_anthropic: FakeServer) -> None:
    fake_anthropic.state.push(Reply(ANSWER, chunk_size=6, prompt_tokens=80, completion_tokens=21))
    chunks: list[str] = []

    async def on_text(delta: str) -> None:
        chunks.append(delta)

    result = await generate(fake_anthropic, request(), on_text=on_text)
    assert len(chunks) > 3
    assert "".join(chunks) == result.text == ANSWER
    assert (result.input_tokens, result.output_tokens) == (80, 21)
    assert result.finish_reason == "end_turn"
    assert result.model == "claude-test"
    body = fake_anthropic.state.bodies[0]
    assert body["stream"] is True
    assert body["output_config"]["format"]["type"] == "json_schema"


async def test_refused_output_config_falls_back_to_a_forced_tool(
    fake_anthropic: FakeServer,
) -> None:
    fake_anthropic.state.reject_output_config = True
    fake_anthropic.state.push(Reply(ANSWER), Reply(ANSWER, chunk_size=5))
    chunks: list[str] = []

    async def on_text(delta: str) -> None:
        chunks.append(delta)

    provider = provider_for(fake_anthropic)
    try:
        first = await provider.generate(request())
        second = await provider.generate(request(), on_text=on_text)
    finally:
        await provider.aclose()

    assert json.loads(first.text) == json.loads(ANSWER)
    assert first.finish_reason == "tool_use"
    assert first.notes == {"structured_output": "tool_use_fallback"}
    assert second.text == ANSWER == "".join(chunks)  # partial tool-input JSON streamed
    bodies = fake_anthropic.state.bodies
    assert ["output_config" in b for b in bodies] == [True, False, False]  # remembered
    tool_body = bodies[1]
    assert tool_body["tools"][0]["name"] == "Recipe"
    assert tool_body["tools"][0]["input_schema"] == SCHEMA
    assert tool_body["tool_choice"] == {"type": "tool", "name": "Recipe"}


# -- errors --------------------------------------------------------------------------------


async def test_rate_limit(fake_anthropic: FakeServer) -> None:
    error = await failure(
        fake_anthropic, Fail(429, "Rate limited", "rate_limit_error", {"retry-after": "12"})
    )
    assert (error.retryable, error.status, error.retry_after, error.code) == (
        True,
        429,
        12.0,
        "rate_limited",
    )
    assert len(fake_anthropic.state.requests) == 1  # the SDK's own retries are off


async def test_overloaded(fake_anthropic: FakeServer) -> None:
    error = await failure(fake_anthropic, Fail(529, "Overloaded", "overloaded_error"))
    assert (error.retryable, error.status, error.code) == (True, 529, "overloaded")


async def test_overloaded_inside_a_stream(fake_anthropic: FakeServer) -> None:
    error = await failure(fake_anthropic, StreamFail("overloaded_error"), stream=True)
    assert (error.retryable, error.status, error.code) == (True, 529, "overloaded")


async def test_server_error(fake_anthropic: FakeServer) -> None:
    error = await failure(fake_anthropic, Fail(500, "Internal", "api_error"))
    assert (error.retryable, error.status, error.code) == (True, 500, "server_error")


async def test_bad_request_is_not_retryable(fake_anthropic: FakeServer) -> None:
    error = await failure(
        fake_anthropic, Fail(400, "messages: roles must alternate", "invalid_request_error")
    )
    assert (error.retryable, error.status, error.code) == (False, 400, "bad_request")
    assert "roles must alternate" in error.message
    assert len(fake_anthropic.state.requests) == 1  # not mistaken for a structured refusal


async def test_bad_key(fake_anthropic: FakeServer) -> None:
    fake_anthropic.state.api_key = "the-right-key"
    error = await failure(fake_anthropic)
    assert isinstance(error, ProviderAuthError)
    assert not error.retryable
    assert SECRET_KEY not in str(error) and SECRET_KEY not in error.message


async def test_timeout(fake_anthropic: FakeServer) -> None:
    fake_anthropic.state.push(Sleep(1.0))
    with pytest.raises(ProviderTimeout):
        await generate(fake_anthropic, request(timeout=0.3))


async def test_connection_refused() -> None:
    provider = AnthropicProvider(
        ProviderSettings(
            kind="anthropic",
            default_model="claude-test",
            api_key=SECRET_KEY,
            base_url=f"http://127.0.0.1:{unused_port()}",
        )
    )
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(request())
    finally:
        await provider.aclose()
    assert (caught.value.retryable, caught.value.code) == (True, "connection_error")


async def test_no_key_never_falls_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake_anthropic: FakeServer
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "server-wide-key")
    provider = provider_for(fake_anthropic, api_key=None)
    with pytest.raises(ProviderAuthError):
        await provider.generate(request())
    await provider.aclose()
    assert fake_anthropic.state.requests == []
