"""/auth, /me and /api-keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from atelier.accounts import service
from atelier.accounts.deps import AuthCacheDep, CurrentUser, Throttle, Token, client_address
from atelier.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    AuthOut,
    LoginIn,
    ProfileUpdate,
    SignupIn,
    UserOut,
)
from atelier.core.deps import DB, AppSettings, Paging
from atelier.core.errors import AtelierError
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.core.security import token_digest

router = APIRouter(tags=["accounts"])


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthOut,
    responses=error_responses(
        409, 429, s429="too many sign-ups waiting for a password hash; try again shortly"
    ),
)
async def signup(body: SignupIn, session: DB, settings: AppSettings, request: Request) -> AuthOut:
    """A new account and its first session. The first account of an empty instance is its
    administrator (role ADMIN)."""
    user = await service.create_user(
        session, email=body.email, name=body.name, password=body.password, first_becomes_admin=True
    )
    login, token = await service.start_session(
        session,
        user=user,
        ttl_hours=settings.session_ttl_hours,
        user_agent=request.headers.get("user-agent"),
    )
    return AuthOut(user=UserOut.model_validate(user), token=token, expires_at=login.expires_at)


@router.post(
    "/auth/login",
    response_model=AuthOut,
    responses=error_responses(
        401,
        403,
        429,
        s401="the email or the password is wrong",
        s403="the account is disabled",
        s429="too many failed logins from this address or for this account (or too many "
        "logins waiting for a password hash); try again after `Retry-After` seconds",
    ),
)
async def login(
    body: LoginIn, session: DB, settings: AppSettings, request: Request, throttle: Throttle
) -> AuthOut:
    """A session token for an email and password. Failed attempts are throttled per
    client address and per account: 429 with ``Retry-After`` while locked out."""
    user = await service.login(
        session,
        email=body.email,
        password=body.password,
        throttle=throttle,
        address=client_address(request),
    )
    login_row, token = await service.start_session(
        session,
        user=user,
        ttl_hours=settings.session_ttl_hours,
        user_agent=request.headers.get("user-agent"),
    )
    return AuthOut(user=UserOut.model_validate(user), token=token, expires_at=login_row.expires_at)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, s400="an API key is not a session (`not_a_session`)"),
)
async def logout(user: CurrentUser, token: Token, session: DB, cache: AuthCacheDep) -> Response:
    """End this session. An API key is not a session: revoke it with
    ``DELETE /api-keys/{id}`` instead (400 ``not_a_session``)."""
    if user.via_api_key:
        raise AtelierError(
            "an API key cannot log out; revoke it with DELETE /api/v1/api-keys/"
            f"{user.api_key_id} instead",
            code="not_a_session",
        )
    await service.revoke_session(session, token=token)
    cache.forget(token_digest(token))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut)
async def me(principal: CurrentUser, session: DB) -> UserOut:
    return UserOut.model_validate(await service.load_user(session, principal))


@router.patch("/me", response_model=UserOut)
async def update_me(body: ProfileUpdate, principal: CurrentUser, session: DB) -> UserOut:
    user = await service.load_user(session, principal)
    await service.update_profile(session, user, body.model_dump(exclude_unset=True))
    return UserOut.model_validate(user)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, user: CurrentUser, session: DB) -> ApiKeyCreated:
    """A new API key (shown once). Needs a session or a key with the ``keys`` scope."""
    key, raw = await service.create_api_key(
        session, user=user, label=body.label, expires_at=body.expires_at, scopes=body.scopes
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=raw)


@router.get("/api-keys", response_model=Page[ApiKeyOut])
async def list_api_keys(user: CurrentUser, session: DB, page: Paging) -> Page[ApiKeyOut]:
    keys, cursor = await service.list_api_keys(
        session, user=user, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[ApiKeyOut.model_validate(k) for k in keys], next_cursor=cursor)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(
    key_id: uuid.UUID, user: CurrentUser, session: DB, cache: AuthCacheDep
) -> Response:
    key = await service.revoke_api_key(session, user=user, key_id=key_id)
    cache.forget(key.key_hash)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
