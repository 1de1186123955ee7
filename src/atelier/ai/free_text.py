"""A free-text answer, streamed: what a chat reply is. Same provider pool, retries and
audit rows as a structured generation (``ai/generation.py``), without a schema.

The caller gets every text delta through ``on_text`` as the provider sends it, and is
told of each failed attempt through ``on_retry`` (what it streamed of that attempt is
not part of the answer). A call cancelled mid-stream (the user pressed stop) still gets
its audit row, with tokens estimated from the text streamed so far: a hosted provider
bills what it wrote.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from atelier.ai.generation import Generator
from atelier.ai.models import GenerationStatus
from atelier.ai.providers.base import (
    GenerationRequest,
    GenerationResult,
    Message,
    ProviderError,
    ProviderTimeout,
    TextCallback,
)
from atelier.ai.retry import RetryPolicy, call_with_retries

ESTIMATE_CHARS_PER_TOKEN = 4

RetryCallback = Callable[[ProviderError, float | None, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TextAnswer:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    generation_id: uuid.UUID
    finish_reason: str | None


async def stream_text(
    generator: Generator,
    *,
    messages: list[Message],
    max_tokens: int,
    on_text: TextCallback,
    on_retry: RetryCallback | None = None,
    on_finish: Callable[[], Awaitable[None]] | None = None,
    temperature: float = 0.7,
) -> TextAnswer:
    """Call until an answer arrives (retryable errors are retried by the policy);
    raises the last ProviderError when it gives up. ``on_finish`` runs as soon as the
    provider has sent its last text, before the audit row is written (a stream sends
    its tail at once instead of after that commit)."""
    request = GenerationRequest(
        messages=messages,
        max_tokens=max_tokens,
        temperature=temperature,
        timeout=generator.resolved.settings.timeout,
    )
    policy = RetryPolicy(max_retries=generator.runtime.settings.provider_max_retries)
    attempt = _Attempt(generator, request, on_text)

    async def failed(error: ProviderError, delay: float | None) -> None:
        await generator.audit(
            status=(
                GenerationStatus.TIMEOUT
                if isinstance(error, ProviderTimeout)
                else GenerationStatus.ERROR
            ),
            started=attempt.started,
            error=generator.clean(error.message),
        )
        if on_retry is not None:
            await on_retry(error, delay, generator.clean(error.message))

    result = await call_with_retries(attempt.run, policy=policy, on_failure=failed)
    if on_finish is not None:
        await on_finish()
    generation_id = await generator.audit(
        status=GenerationStatus.SUCCESS, started=attempt.started, result=result
    )
    return TextAnswer(
        text=result.text,
        model=result.model,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        generation_id=generation_id,
        finish_reason=result.finish_reason,
    )


class _Attempt:
    """One provider call; remembers what it streamed, for the audit row of a stop."""

    def __init__(
        self, generator: Generator, request: GenerationRequest, on_text: TextCallback
    ) -> None:
        self.generator = generator
        self.request = request
        self.on_text = on_text
        self.started = time.monotonic()
        self.streamed: list[str] = []

    async def _relay(self, delta: str) -> None:
        self.streamed.append(delta)
        await self.on_text(delta)

    async def run(self) -> GenerationResult:
        self.started = time.monotonic()
        self.streamed = []
        try:
            return await self.generator.provider.generate(self.request, on_text=self._relay)
        except asyncio.CancelledError:
            await asyncio.shield(self._audit_stopped())
            raise

    async def _audit_stopped(self) -> None:
        text = "".join(self.streamed)
        prompt_chars = sum(len(m.content) for m in self.request.messages)
        estimate = GenerationResult(
            text=text,
            model=self.request.model or self.generator.resolved.settings.default_model,
            input_tokens=prompt_chars // ESTIMATE_CHARS_PER_TOKEN,
            output_tokens=-(-len(text) // ESTIMATE_CHARS_PER_TOKEN),
            finish_reason="stopped",
        )
        await self.generator.audit(
            status=GenerationStatus.ERROR,
            started=self.started,
            result=estimate,
            error="stopped before the end (tokens estimated from the text streamed)",
        )
