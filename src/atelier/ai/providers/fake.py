"""FakeProvider: scripted answers for tests and benchmarks. Never offered to users:
the API refuses to create a provider config of this kind (see ai.schemas)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from typing import Any

from atelier.ai.providers.base import (
    GenerationRequest,
    GenerationResult,
    ProviderError,
    TextCallback,
)

# A script step: text to answer, an error to raise, or a function of the request.
Step = str | dict[str, Any] | ProviderError | Callable[[GenerationRequest], str]


class FakeProvider:
    kind = "fake"

    def __init__(
        self,
        script: list[Step] | None = None,
        *,
        default: Step | None = None,
        latency: float = 0.0,
        default_model: str = "fake-model",
        chunk_size: int = 16,
        chunk_delay: float = 0.0,
    ) -> None:
        self.script: deque[Step] = deque(script or [])
        self.default = default
        self.latency = latency
        self.default_model = default_model
        self.chunk_size = chunk_size
        # Seconds between streamed chunks: a reply long enough to stop half way.
        self.chunk_delay = chunk_delay
        self.requests: list[GenerationRequest] = []

    def push(self, *steps: Step) -> None:
        self.script.extend(steps)

    async def generate(
        self, request: GenerationRequest, *, on_text: TextCallback | None = None
    ) -> GenerationResult:
        self.requests.append(request)
        step = self.script.popleft() if self.script else self.default
        if step is None:
            raise ProviderError("FakeProvider has no scripted answer left", code="fake_empty")
        if self.latency:
            await asyncio.sleep(self.latency)
        if isinstance(step, ProviderError):
            raise step
        if callable(step):
            step = step(request)
        text = step if isinstance(step, str) else json.dumps(step)
        if on_text is not None:
            for start in range(0, len(text), self.chunk_size):
                if self.chunk_delay and start:
                    await asyncio.sleep(self.chunk_delay)
                await on_text(text[start : start + self.chunk_size])
        prompt_chars = sum(len(m.content) for m in request.messages)
        return GenerationResult(
            text=text,
            model=request.model or self.default_model,
            input_tokens=max(1, prompt_chars // 4),
            output_tokens=max(1, len(text) // 4),
            finish_reason="stop",
        )

    async def aclose(self) -> None:
        return None
