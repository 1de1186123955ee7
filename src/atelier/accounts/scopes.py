"""What an API key may do.

A browser session or a session token (signed in with a password) may do everything its
user may. An API key may do only what its scopes say, so that a key handed to a script
cannot hand out credentials: a leaked key that could mint new keys would outlive its own
revocation.

- ``read``: GET and HEAD requests.
- ``write``: every other request (create, change, delete, generate, export).
- ``keys``: create and revoke credentials (API keys and MCP tokens); given only when the
  key's creator asks for it, and only a session or a key that has ``keys`` itself can.
"""

from __future__ import annotations

import enum

from atelier.accounts.principal import Principal
from atelier.core.errors import Forbidden


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    KEYS = "keys"


DEFAULT_SCOPES: tuple[Scope, ...] = (Scope.READ, Scope.WRITE)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InsufficientScope(Forbidden):
    code = "insufficient_scope"


def method_scope(method: str) -> Scope:
    return Scope.READ if method.upper() in READ_METHODS else Scope.WRITE


def require_scope(principal: Principal, scope: Scope) -> None:
    """Refuse a key that lacks ``scope``; a session has every scope."""
    if principal.scopes is not None and scope not in principal.scopes:
        raise InsufficientScope(
            f"this API key lacks the {scope.value!r} scope "
            f"(it has: {', '.join(sorted(principal.scopes)) or 'none'})"
        )
