"""How many tokens a model can read at once: its context window.

The embedded model's is the length it was loaded with. For hosted models, a provider
config can say (option ``context_window``); otherwise the known families below, and a
cautious default for anything else (an OpenAI-compatible server's model is unknown).
"""

from __future__ import annotations

from atelier.ai.resolve import ResolvedProvider

DEFAULT_WINDOW = 8192

# Model name prefixes and their windows, longest prefix first when they overlap.
KNOWN_WINDOWS: tuple[tuple[str, int], ...] = (
    ("claude-", 200_000),
    ("gpt-4.1", 1_000_000),
    ("gpt-4o", 128_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-5", 400_000),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
    ("gpt-3.5", 16_385),
)


def context_window(resolved: ResolvedProvider, *, cap: int | None = None) -> int:
    """The model's window in tokens, no larger than ``cap`` (a setting) when given."""
    window = _window_of(resolved)
    return min(window, cap) if cap is not None else window


def _window_of(resolved: ResolvedProvider) -> int:
    configured = resolved.options.get("context_window")
    if isinstance(configured, int) and not isinstance(configured, bool) and configured > 0:
        return configured
    if resolved.kind == "local":
        return resolved.settings.context_length
    model = resolved.settings.default_model.lower()
    for prefix, window in KNOWN_WINDOWS:
        if model.startswith(prefix):
            return window
    return DEFAULT_WINDOW
