"""The embedded model's prompt cache, held to its memory budget.

llama-cpp-python's ``LlamaRAMCache`` keeps the model's state after each call so that the
next prompt sharing its start skips evaluating it. Each saved state also carries a copy
of the logits buffer: one row per batch token, 512 x the vocabulary in floats, about
310 MB for a Qwen model, which its size limit does not count. Twenty states of a few MB
each then held some 6 GB (seen by bench/quality.py: 8.3 GB peak for the 0.5B model).
Restoring a state always re-evaluates at least one token before sampling (the state is
marked as needing evaluation), so the saved logits are never read: the cache here keeps
one row of them (the shape llama-cpp-python assigns back from) and counts every byte
it keeps against the limit.
"""

from __future__ import annotations

from typing import Any


def prompt_cache(capacity_bytes: int) -> Any:
    """A ``LlamaRAMCache`` that keeps to ``capacity_bytes``, logits included."""
    from llama_cpp.llama_cache import LlamaRAMCache

    class CompactRAMCache(LlamaRAMCache):
        @property
        def cache_size(self) -> int:
            return sum(
                state.llama_state_size + state.scores.nbytes + state.input_ids.nbytes
                for state in self.cache_state.values()
            )

        def __setitem__(self, key: Any, value: Any) -> None:
            value.scores = value.scores[-1:].copy()
            super().__setitem__(key, value)

    return CompactRAMCache(capacity_bytes=capacity_bytes)
