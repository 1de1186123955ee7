"""OpenAIProvider and OpenAICompatibleProvider against a fake server on a real socket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from atelier.ai.providers.base import (
    GenerationRequest,
    Message,
    ProviderAuthError,
    ProviderError,
    ProviderSettings,
    ProviderTimeout,
)
from atelier.ai.providers.openai_compat import (
    OpenAICompatibleProvider,
    OpenAIProvider,
    strict_compatible,
    strict_schema,
)
from atelier.ai.retry import RetryPolicy, call_with_retries
from tests.ai import fake_openai_server as fake
from tests.ai.fake_openai_server import Fail, FakeServer, Reply, Sleep, unused_port

pytestmark = pytest.mark.anyio

# The fake server's fixtures: one server for this module, reset for every test.
openai_server = fake.openai_server
fake_openai = fake.fake_openai

SECRET_KEY = "sk-test-SECRET-0123456789abcdef"


class Item(BaseModel):
    name: str
    qty: int = 1


class Section(BaseModel):
    heading: str
    items: list[Item]
    owner: Item | None = None


class Answer(BaseModel):
    title: str
    sections: list[Section]
    summary: str = ""


SCHEMA = Answer.model_json_schema()
ANSWER = Answer(
    title="Plan", sections=[Section(heading="A", items=[Item(name="x", qty=2)])]
).model_dump_json()


def request(
    schema: dict[str, Any] | None = SCHEMA, *, timeout: float = 5.0, **extra: Any
) -> GenerationRequest:
    return GenerationRequest(
        messages=[Message("system", "You are terse."), Message("user", "Make a plan.")],
        json_schema=schema,
        schema_name="Answer",
        timeout=timeout,
        **extra,
    )


def compat(server: FakeServer, api_key: str | None = None) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        ProviderSettings(
            kind="custom", default_model="local-model", base_url=f"{server.url}/v1", api_key=api_key
        )
    )


def openai_provider(server: FakeServer) -> OpenAIProvider:
    return OpenAIProvider(
        ProviderSettings(
            kind="openai", default_model="gpt-test", base_url=f"{server.url}/v1", api_key=SECRET_KEY
        )
    )


# -- OpenAI-compatible: happy paths ------------------------------------------------------


async def test_structured_output_happy_path(fake_openai: FakeServer) -> None:
    fake_openai.state.push(
        Reply(ANSWER, model="served-model", prompt_tokens=42, completion_tokens=9)
    )
    provider = compat(fake_openai)
    try:
        result = await provider.generate(request())
    finally:
        await provider.aclose()

    assert Answer.model_validate_json(result.text).title == "Plan"
    assert (result.input_tokens, result.output_tokens) == (42, 9)
    assert result.model == "served-model"
    assert result.finish_reason == "stop"
    assert result.notes == {"structured_output": "json_schema"}
    [sent] = fake_openai.state.requests
    assert sent.body["model"] == "local-model"
    assert sent.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": SCHEMA, "strict": False},
    }
    assert sent.body["max_tokens"] == 4096
    assert sent.body["temperature"] == 0.2
    assert not sent.body.get("stream")
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]
    assert sent.headers["authorization"] == "Bearer not-needed"


async def test_streaming_calls_on_text_with_the_whole_answer(fake_openai: FakeServer) -> None:
    fake_openai.state.push(Reply(ANSWER, chunk_size=7, prompt_tokens=30, completion_tokens=12))
    chunks: list[str] = []

    async def on_text(delta: str) -> None:
        chunks.append(delta)

    provider = compat(fake_openai)
    try:
        result = await provider.generate(request(), on_text=on_text)
    finally:
        await provider.aclose()

    assert len(chunks) > 3
    assert "".join(chunks) == result.text == ANSWER
    assert (result.input_tokens, result.output_tokens) == (30, 12)
    assert result.finish_reason == "stop"
    [sent] = fake_openai.state.bodies
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


async def test_stream_without_usage_is_estimated(fake_openai: FakeServer) -> None:
    fake_openai.state.push(Reply(ANSWER, usage=False))

    async def on_text(delta: str) -> None:
        return None

    provider = compat(fake_openai)
    try:
        result = await provider.generate(request(None), on_text=on_text)
    finally:
        await provider.aclose()
    assert result.notes == {"usage_estimated": True}
    assert result.input_tokens > 0 and result.output_tokens > 0
    assert "response_format" not in fake_openai.state.bodies[0]


async def test_base_url_without_v1_gets_it(fake_openai: FakeServer) -> None:
    provider = OpenAICompatibleProvider(
        ProviderSettings(kind="custom", default_model="m", base_url=fake_openai.url)
    )
    try:
        result = await provider.generate(request(None))
    finally:
        await provider.aclose()
    assert result.text
    assert fake_openai.state.requests[0].path == "/v1/chat/completions"


def test_custom_provider_needs_a_base_url() -> None:
    with pytest.raises(ProviderError) as caught:
        OpenAICompatibleProvider(ProviderSettings(kind="custom", default_model="m"))
    assert caught.value.code == "provider_config"


# -- OpenAI-compatible: structured-output fallbacks ---------------------------------------


async def test_json_schema_refusal_falls_back_to_json_object(fake_openai: FakeServer) -> None:
    fake_openai.state.refuse_formats = {"json_schema"}
    fake_openai.state.push(Reply(ANSWER), Reply(ANSWER))
    provider = compat(fake_openai)
    try:
        first = await provider.generate(request())
        second = await provider.generate(request())
    finally:
        await provider.aclose()

    assert first.text == ANSWER
    assert first.notes["structured_output"] == "json_object_fallback"
    assert second.notes["structured_output"] == "json_object_fallback"
    bodies = fake_openai.state.bodies
    # 1st call: refused json_schema, then json_object; 2nd call: json_object straight away.
    assert [b["response_format"]["type"] for b in bodies] == [
        "json_schema",
        "json_object",
        "json_object",
    ]
    fallback_messages = bodies[1]["messages"]
    assert [m["role"] for m in fallback_messages] == ["system", "user"]
    system = fallback_messages[0]["content"]
    assert system.startswith("You are terse.")
    assert "JSON object" in system
    assert json.dumps(SCHEMA, indent=2) in system
    assert provider.structured_mode == "json_object"


async def test_json_object_refusal_falls_back_to_text(fake_openai: FakeServer) -> None:
    fake_openai.state.refuse_formats = {"json_schema", "json_object"}
    fake_openai.state.push(Reply(f"```json\n{ANSWER}\n```"))
    provider = compat(fake_openai)
    try:
        result = await provider.generate(request())
    finally:
        await provider.aclose()

    assert result.text == ANSWER
    assert result.notes["structured_output"] == "text_fallback"
    bodies = fake_openai.state.bodies
    assert [b.get("response_format", {}).get("type") for b in bodies] == [
        "json_schema",
        "json_object",
        None,
    ]
    assert "JSON schema" in bodies[2]["messages"][0]["content"]


async def test_other_bad_requests_do_not_trigger_the_fallback(fake_openai: FakeServer) -> None:
    fake_openai.state.push(Fail(400, "maximum context length is 4096 tokens"))
    provider = compat(fake_openai)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(request())
    finally:
        await provider.aclose()
    assert not caught.value.retryable
    assert caught.value.status == 400
    assert "maximum context length" in caught.value.message
    assert len(fake_openai.state.requests) == 1
    assert provider.structured_mode == "json_schema"


# -- OpenAI-compatible: errors -------------------------------------------------------------


async def test_rate_limit_is_retryable_with_retry_after(fake_openai: FakeServer) -> None:
    fake_openai.state.push(Fail(429, "slow down", "rate_limit", headers={"Retry-After": "7"}))
    provider = compat(fake_openai)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(request())
    finally:
        await provider.aclose()
    error = caught.value
    assert (error.retryable, error.status, error.retry_after, error.code) == (
        True,
        429,
        7.0,
        "rate_limited",
    )
    assert len(fake_openai.state.requests) == 1  # the SDK's own retries are off


async def test_server_error_is_retryable(fake_openai: FakeServer) -> None:
    fake_openai.state.push(Fail(500, "boom"))
    provider = compat(fake_openai)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(request())
    finally:
        await provider.aclose()
    assert (caught.value.retryable, caught.value.status) == (True, 500)
    assert len(fake_openai.state.requests) == 1


async def test_slow_server_times_out(fake_openai: FakeServer) -> None:
    fake_openai.state.push(Sleep(1.0))
    provider = compat(fake_openai)
    started = time.monotonic()
    try:
        with pytest.raises(ProviderTimeout) as caught:
            await provider.generate(request(timeout=0.3))
    finally:
        await provider.aclose()
    assert time.monotonic() - started < 0.9
    assert caught.value.retryable


async def test_connection_refused_is_a_retryable_connection_error() -> None:
    provider = OpenAICompatibleProvider(
        ProviderSettings(
            kind="custom", default_model="m", base_url=f"http://127.0.0.1:{unused_port()}/v1"
        )
    )
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(request())
    finally:
        await provider.aclose()
    assert not isinstance(caught.value, ProviderTimeout)
    assert (caught.value.retryable, caught.value.code) == (True, "connection_error")


async def test_bad_key_is_an_auth_error_that_does_not_leak_the_key(
    fake_openai: FakeServer,
) -> None:
    fake_openai.state.api_key = "the-right-key"
    provider = compat(fake_openai, api_key=SECRET_KEY)
    try:
        with pytest.raises(ProviderAuthError) as caught:
            await provider.generate(request())
    finally:
        await provider.aclose()
    error = caught.value
    assert not error.retryable
    assert SECRET_KEY not in str(error) and SECRET_KEY not in error.message
    assert SECRET_KEY not in repr(error.args)
    # The server echoed the key back; an auth failure is not a format refusal.
    assert len(fake_openai.state.requests) == 1


async def test_retries_with_the_real_provider(fake_openai: FakeServer) -> None:
    fake_openai.state.push(Fail(429, "slow down", headers={"Retry-After": "0"}), Reply(ANSWER))
    provider = compat(fake_openai)
    failures: list[tuple[ProviderError, float | None]] = []
    sleeps: list[float] = []

    async def on_failure(error: ProviderError, delay: float | None) -> None:
        failures.append((error, delay))

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    try:
        result = await call_with_retries(
            lambda: provider.generate(request()),
            policy=RetryPolicy(max_retries=3, base_delay=0.01),
            on_failure=on_failure,
            sleep=sleep,
        )
    finally:
        await provider.aclose()
    assert result.text == ANSWER
    assert len(failures) == 1
    assert failures[0][0].status == 429 and failures[0][1] == 0.0
    assert sleeps == [0.0]
    assert len(fake_openai.state.requests) == 2


# -- OpenAIProvider (strict) -------------------------------------------------------------


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_strict_schema_on_a_nested_model() -> None:
    strict = strict_schema(SCHEMA)
    objects = list(_objects(strict))
    assert len(objects) == 3  # Answer, Section, Item
    for node in objects:
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])
        for prop in node["properties"].values():
            assert "default" not in prop
    # Optional properties became nullable; required ones did not.
    answer_props = strict["properties"]
    assert {"type": "null"} in answer_props["summary"]["anyOf"]
    assert "anyOf" not in answer_props["title"]
    item = strict["$defs"]["Item"]
    assert {"type": "null"} in item["properties"]["qty"]["anyOf"]
    owner = strict["$defs"]["Section"]["properties"]["owner"]
    assert owner["anyOf"].count({"type": "null"}) == 1  # already nullable, not wrapped again
    assert Answer.model_json_schema() == SCHEMA  # the input is left alone


def test_strict_schema_inlines_refs_with_siblings_and_converts_oneof() -> None:
    schema = {
        "type": "object",
        "properties": {
            "thing": {"$ref": "#/$defs/Thing", "description": "the thing"},
            "either": {"oneOf": [{"type": "string"}, {"type": "integer"}], "default": 1},
        },
        "required": ["thing"],
        "$defs": {
            "Thing": {"type": "object", "properties": {"a": {"type": "string"}}},
        },
    }
    strict = strict_schema(schema)
    thing = strict["properties"]["thing"]
    assert "$ref" not in thing
    assert thing["description"] == "the thing"
    assert thing["additionalProperties"] is False and thing["required"] == ["a"]
    either = strict["properties"]["either"]
    assert "oneOf" not in json.dumps(either) and "default" not in either
    assert strict["required"] == ["thing", "either"]


def test_free_form_maps_are_not_strict_compatible() -> None:
    class WithMap(BaseModel):
        counts: dict[str, int]

    assert strict_compatible(SCHEMA)
    assert not strict_compatible(WithMap.model_json_schema())


async def test_openai_provider_sends_strict_schema(fake_openai: FakeServer) -> None:
    # Strict mode makes the model fill optional fields with null; they must come back out.
    answer = {
        "title": "Plan",
        "sections": [{"heading": "A", "items": [{"name": "x", "qty": None}], "owner": None}],
        "summary": None,
    }
    fake_openai.state.push(Reply(json.dumps(answer)))
    provider = openai_provider(fake_openai)
    try:
        result = await provider.generate(request())
    finally:
        await provider.aclose()

    [sent] = fake_openai.state.requests
    json_schema = sent.body["response_format"]["json_schema"]
    assert json_schema["strict"] is True
    assert json_schema["name"] == "Answer"
    assert json_schema["schema"] == strict_schema(SCHEMA)
    assert sent.body["max_completion_tokens"] == 4096 and "max_tokens" not in sent.body
    assert sent.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert result.notes == {"structured_output": "json_schema", "strict": True}
    parsed = Answer.model_validate_json(result.text)
    assert parsed.summary == "" and parsed.sections[0].items[0].qty == 1
    assert parsed.sections[0].owner is None


async def test_forced_nulls_are_dropped_inside_tagged_unions(fake_openai: FakeServer) -> None:
    class Cat(BaseModel):
        kind: Literal["cat"] = "cat"
        lives: int = 9

    class Dog(BaseModel):
        kind: Literal["dog"] = "dog"
        good: bool = True

    class Pets(BaseModel):
        first: Annotated[Cat | Dog, Field(discriminator="kind")]
        others: list[Cat | Dog] = []

    schema = Pets.model_json_schema()
    strict = strict_schema(schema)
    # A tag stays required and non-null: strict mode must produce it.
    assert strict["$defs"]["Cat"]["properties"]["kind"]["const"] == "cat"
    answer = {
        "first": {"kind": "dog", "good": None},
        "others": [{"kind": "cat", "lives": None}, {"kind": "dog", "good": False}],
    }
    fake_openai.state.push(Reply(json.dumps(answer)))
    provider = openai_provider(fake_openai)
    try:
        result = await provider.generate(request(schema))
    finally:
        await provider.aclose()
    pets = Pets.model_validate_json(result.text)
    assert pets.first == Dog()
    assert pets.others == [Cat(), Dog(good=False)]


async def test_openai_provider_sends_maps_non_strict(fake_openai: FakeServer) -> None:
    class WithMap(BaseModel):
        counts: dict[str, int]

    schema = WithMap.model_json_schema()
    fake_openai.state.push(Reply('{"counts": {"a": 1}}'))
    provider = openai_provider(fake_openai)
    try:
        result = await provider.generate(request(schema))
    finally:
        await provider.aclose()
    sent = fake_openai.state.bodies[0]["response_format"]["json_schema"]
    assert sent["strict"] is False and sent["schema"] == schema
    assert result.notes["strict"] is False


async def test_openai_provider_drops_a_refused_temperature(fake_openai: FakeServer) -> None:
    fake_openai.state.push(
        Fail(
            400,
            "Unsupported value: 'temperature' does not support 0.2 with this model. "
            "Only the default (1) value is supported.",
            "invalid_request_error",
        ),
        Reply(ANSWER),
        Reply(ANSWER),
    )
    provider = openai_provider(fake_openai)
    try:
        await provider.generate(request())
        await provider.generate(request())
    finally:
        await provider.aclose()
    assert ["temperature" in b for b in fake_openai.state.bodies] == [True, False, False]


async def test_openai_provider_without_a_key_refuses_to_call() -> None:
    provider = OpenAIProvider(ProviderSettings(kind="openai", default_model="gpt-test"))
    with pytest.raises(ProviderAuthError):
        await provider.generate(request())
    await provider.aclose()
