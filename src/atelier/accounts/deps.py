"""Authentication as a reusable dependency."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from atelier.accounts.principal import AuthCache, Principal
from atelier.accounts.scopes import method_scope, require_scope
from atelier.accounts.service import authenticate
from atelier.accounts.throttle import LoginThrottle
from atelier.core.deps import DB
from atelier.core.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="session token (ats_…) or API key (atk_…)")


SESSION_COOKIE = "atelier_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(secret: str, session_token: str) -> str:
    """The CSRF token of a browser session: an HMAC of its session token, so it needs no
    storage and another site, which cannot read our cookie, cannot compute it."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), "sha256").hexdigest()


async def bearer_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is not None and credentials.credentials:
        return credentials.credentials
    # A browser signed in to the web UI: its HttpOnly session cookie, and for anything
    # that changes state the CSRF token of that session in a header.
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method not in SAFE_METHODS:
            secret = request.app.state.settings.secret_key.get_secret_value()
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent, csrf_token(secret, cookie)):
                raise Forbidden(
                    "missing or wrong CSRF token: send the page's token in X-CSRF-Token",
                    code="csrf_failed",
                )
        return cookie
    raise Unauthorized("send 'Authorization: Bearer <token or API key>'")


Token = Annotated[str, Depends(bearer_token)]


async def signed_in(request: Request, session: DB, token: Token) -> Principal:
    """Who the credentials belong to, before their API key's scopes are checked."""
    state = request.app.state
    principal = await authenticate(
        session,
        token=token,
        cache=state.auth_cache,
        touch_interval=dt.timedelta(seconds=state.settings.api_key_touch_interval_seconds),
    )
    if principal is None:
        raise Unauthorized("the token is unknown, expired or revoked", code="invalid_token")
    return principal


async def current_user(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Principal:
    require_scope(principal, method_scope(request.method))
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def auth_cache(request: Request) -> AuthCache:
    cache: AuthCache = request.app.state.auth_cache
    return cache


AuthCacheDep = Annotated[AuthCache, Depends(auth_cache)]


def login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


Throttle = Annotated[LoginThrottle, Depends(login_throttle)]


def client_address(request: Request) -> str | None:
    """The address a request came from. Behind a reverse proxy this is the proxy's
    unless uvicorn trusts it to pass the client's on (``--forwarded-allow-ips``)."""
    return request.client.host if request.client else None
