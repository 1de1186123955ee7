"""The embedded model's prompt cache: the state after a prompt is kept and restored for
the next prompt that shares its start, and the answers are the same as without it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make test does)")

from atelier.ai.providers.base import GenerationRequest, Message
from atelier.ai.providers.local import LocalProvider
from atelier.ai.providers.local_cache import prompt_cache

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
        # States were kept, within the memory given, logits counted: one row of them each
        # (llama-cpp-python saves a batch of rows, 512 x the vocabulary, uncounted).
        cache = cached._llama.cache
        assert cache is not None and 0 < cache.cache_size <= 64 << 20
        states = list(cache.cache_state.values())
        assert states and all(state.scores.shape[0] == 1 for state in states)
        assert cache.cache_size >= sum(state.scores.nbytes for state in states)
    finally:
        await plain.aclose()
        await cached.aclose()


async def test_the_cache_keeps_to_its_limit_when_states_are_large(tiny_model: Path) -> None:
    """A limit between one state's size and two: the older state goes, and the answers
    stay the same."""
    probe = LocalProvider(tiny_model, threads=1, context_length=512, prompt_cache_mb=64)
    plain = LocalProvider(tiny_model, threads=1, context_length=512)
    small = LocalProvider(tiny_model, threads=1, context_length=512)
    try:
        await probe.generate(request("sourdough"))
        one_state = probe._llama.cache.cache_size
        llama, _ = small._load()
        llama.set_cache(prompt_cache(int(one_state * 1.5)))
        assert await answers(small) == await answers(plain)
        assert len(llama.cache.cache_state) == 1
    finally:
        for provider in (probe, plain, small):
            await provider.aclose()
