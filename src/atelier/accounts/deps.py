"""Authentication as a reusable dependency."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from atelier.accounts.models import User
from atelier.accounts.service import authenticate
from atelier.core.deps import DB
from atelier.core.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="session token (ats_…) or API key (atk_…)")


def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("send 'Authorization: Bearer <token or API key>'")
    return credentials.credentials


Token = Annotated[str, Depends(bearer_token)]


async def current_user(request: Request, session: DB, token: Token) -> User:
    interval = dt.timedelta(seconds=request.app.state.settings.api_key_touch_interval_seconds)
    user = await authenticate(session, token=token, touch_interval=interval)
    if user is None:
        raise Unauthorized("the token is unknown, expired or revoked", code="invalid_token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
