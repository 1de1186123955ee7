"""What the tabs of the account settings share: the tab bar, the notices shown after a
redirect, and the page around a tab.

Writes on these pages are form posts (CSRF-checked, then PRG with a ``?msg=`` code naming
one of ``NOTICES``, so no text from the URL is ever shown).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from atelier.ai.runtime import AIRuntime
from atelier.config import Settings
from atelier.web.flash import notice_of
from atelier.web.templating import render

TABS = (
    ("profile", "/settings/profile", "Profile"),
    ("organizations", "/settings/organizations", "Organizations"),
    ("providers", "/settings/providers", "AI providers"),
    ("models", "/settings/models", "Local models"),
    ("api-keys", "/settings/api-keys", "API keys"),
)

# ?msg= codes → the notice shown after a redirect. One table for every tab: any of them
# may be sent back to with "expired".
NOTICES: dict[str, tuple[str, str]] = {
    "profile-saved": ("ok", "Profile saved."),
    "key-revoked": ("ok", "API key revoked: programs using it can no longer sign in."),
    "provider-added": ("ok", "AI provider added. Its key is stored encrypted."),
    "provider-default": ("ok", "Default AI provider changed."),
    "provider-deleted": ("ok", "AI provider deleted."),
    "provider-saved": ("ok", "AI provider saved."),
    "expired": ("error", "The form expired. Please try again."),
}


def notice(msg: str | None) -> dict[str, str] | None:
    return notice_of(NOTICES, msg)


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def ai_runtime(request: Request) -> AIRuntime:
    runtime: AIRuntime = request.app.state.ai
    return runtime


def settings_page(
    request: Request, tab: str, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    """A tab of the settings: its template inside the tab bar, ``tab`` marked current."""
    return render(
        request,
        template,
        {"nav": "settings", "tabs": TABS, "tab": tab, **context},
        status=status,
    )
