"""What the artifact pages say when a generation fails or a request is refused.

A job or an API error carries a code; people get what happened and what to do next, in
plain words. The same table goes to the page scripts (as ``messages``), so a failure the
browser learns of over the API reads the same as one the server renders.
"""

from __future__ import annotations

from typing import Any

from atelier.ai.local_models import DEFAULT_MODEL

SETTINGS_URL = "/settings/providers"
PROVIDER_HELP = (
    "No AI provider is ready. Add one in Settings → AI providers, or install the local "
    f"model (atelier models install {DEFAULT_MODEL})."
)
BUSY = "The AI provider is busy or could not be reached. Wait a minute, then try again."
# Job and API error codes → what happened and what to do next. "settings" adds a link to
# the provider settings (SETTINGS_URL).
FAILURES: dict[str, dict[str, Any]] = {
    "no_ai_provider": {"text": PROVIDER_HELP, "settings": True},
    "local_model_missing": {"text": PROVIDER_HELP, "settings": True},
    "provider_config": {"text": PROVIDER_HELP, "settings": True},
    "ai_provider_not_found": {"text": PROVIDER_HELP, "settings": True},
    "provider_auth": {
        "text": "The AI provider refused the API key. Check the key in Settings → AI providers.",
        "settings": True,
    },
    "budget_exceeded": {
        "text": "A limit of your plan is reached (AI budget or generations). The Usage page "
        "shows which one and when it starts again; an administrator can give you a larger "
        "plan."
    },
    "invalid_output": {
        "text": "The model's answer did not fit this tool's structure, even after it was asked "
        "to fix it. Try again, or use a stronger model in Settings → AI providers.",
        "settings": True,
    },
    "context_length_exceeded": {
        "text": "The inputs are too long for this model. Shorten them, or use a model with a "
        "larger context in Settings → AI providers.",
        "settings": True,
    },
    "model_refused": {"text": "The model declined to answer. Reword the inputs and try again."},
    "invalid_input": {"text": "The inputs no longer fit this tool. Edit them and try again."},
    "artifact_published": {
        "text": "This artifact is published, so it is read-only. Move it back to draft first."
    },
    "worker_lost": {"text": "The server stopped while working on this. Try again."},
    "cancelled": {"text": "Cancelled. Nothing was changed."},
    "no_output": {"text": "There is no output to start from yet: generate it first."},
    **{
        code: {"text": BUSY}
        for code in (
            "rate_limited",
            "overloaded",
            "server_error",
            "connection_error",
            "timeout",
            "stream_error",
            "provider_error",
            "bad_request",
        )
    },
}


def failure(code: str | None, message: str | None = None) -> dict[str, Any]:
    """What to show for a failed job or refused request."""
    known = FAILURES.get(code or "")
    if known is not None:
        return {"code": code, **known}
    detail = f" ({message})" if message else ""
    return {"code": code, "text": f"It did not work{detail}. Try again in a moment."}
