"""Authentication as a reusable dependency."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from atelier.accounts.principal import AuthCache, Principal
from atelier.accounts.service import authenticate
from atelier.core.deps import DB
from atelier.core.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="session token (ats_…) or API key (atk_…)")


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("send 'Authorization: Bearer <token or API key>'")
    return credentials.credentials


Token = Annotated[str, Depends(bearer_token)]


async def current_user(request: Request, session: DB, token: Token) -> Principal:
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


CurrentUser = Annotated[Principal, Depends(current_user)]


def auth_cache(request: Request) -> AuthCache:
    cache: AuthCache = request.app.state.auth_cache
    return cache


AuthCacheDep = Annotated[AuthCache, Depends(auth_cache)]
