"""The embedded model's prompt cache: the state after a prompt is kept and restored for
the next prompt that shares its start, and the answers are the same as without it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make test does)")

from atelier.ai.providers.base import GenerationRequest, Message
from atelier.ai.providers.local import LocalProvider

pytestmark = pytest.mark.anyio

SYSTEM = Message("system", "You write JSON only. " + "Keep every answer short and plain. " * 8)
SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string", "maxLength": 40}},
    "required": ["title"],
    "additionalProperties": False,
}


def request(topic: str) -> GenerationRequest:
    return GenerationRequest(
        messages=[SYSTEM, Message("user", f"A title for a post about {topic}.")],
        json_schema=SCHEMA,
        max_tokens=40,
        temperature=0.0,  # greedy: the same prompt gives the same answer
        timeout=120,
        language="en",
    )


async def answers(provider: LocalProvider) -> list[str]:
    # Sourdough, then another prompt, then sourdough again: the third call starts from
    # the cache's state for the shared start, not from the second call's.
    return [
        (await provider.generate(request(topic))).text
        for topic in ("sourdough", "bicycles", "sourdough")
    ]


async def test_the_same_answers_with_and_without_the_cache(tiny_model: Path) -> None:
    plain = LocalProvider(tiny_model, threads=1, context_length=512)
    cached = LocalProvider(tiny_model, threads=1, context_length=512, prompt_cache_mb=64)
    try:
        without = await answers(plain)
        with_cache = await answers(cached)
        assert with_cache == without
        assert without[0] == without[2]
        assert plain._llama.cache is None
        # States were kept, within the memory given.
        cache = cached._llama.cache
        assert cache is not None and 0 < cache.cache_size <= 64 << 20
    finally:
        await plain.aclose()
        await cached.aclose()
