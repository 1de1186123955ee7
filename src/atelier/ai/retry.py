"""Retries with exponential backoff and full jitter, honouring Retry-After."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from atelier.ai.providers.base import ProviderError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2**retry_number))
        return random.uniform(0, ceiling)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    on_failure: Callable[[ProviderError, float | None], Awaitable[None]] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call``; on a retryable ProviderError wait and try again, up to the policy.

    ``on_failure(error, delay)`` sees every failure (delay None when giving up), so the
    caller can record each one (an audit row per attempt).
    """
    retry = 0
    while True:
        try:
            return await call()
        except ProviderError as error:
            give_up = not error.retryable or retry >= policy.max_retries
            delay = None if give_up else policy.delay(retry, error.retry_after)
            if on_failure is not None:
                await on_failure(error, delay)
            if delay is None:
                raise
            await sleep(delay)
            retry += 1
