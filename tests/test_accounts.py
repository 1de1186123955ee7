"""Accounts: signup, login, sessions, profile and API keys through the HTTP API."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from atelier.accounts.models import ApiKey, User, UserSession
from atelier.core import security
from tests.factories import PASSWORD, Account, Api, error_code, unique_email

pytestmark = pytest.mark.anyio

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"


def fields(response: Any) -> list[str]:
    """The `field` names of a 422 response."""
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [e["field"] for e in response.json()["detail"]]


def signup_body(**overrides: Any) -> dict[str, Any]:
    return {"email": unique_email(), "name": "Someone", "password": PASSWORD, **overrides}


async def login(api: Api, email: str, password: str = PASSWORD) -> Any:
    return await api.client.post(LOGIN, json={"email": email, "password": password})


async def create_key(api: Api, who: Account, label: str = "ci", **extra: Any) -> dict[str, Any]:
    r = await api.client.post(
        "/api/v1/api-keys", json={"label": label, **extra}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- signup -----------------------------------------------------------------------------


async def test_signup_returns_user_and_a_working_token(api: Api) -> None:
    body = signup_body(name="Ann")
    r = await api.client.post(SIGNUP, json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["user"]["email"] == body["email"]
    assert out["user"]["name"] == "Ann"
    assert out["user"]["role"] == "USER"
    assert out["user"]["is_active"] is True
    assert "password_hash" not in out["user"] and "password" not in out["user"]
    assert out["token"].startswith(security.SESSION_TOKEN_PREFIX)
    assert dt.datetime.fromisoformat(out["expires_at"]) > dt.datetime.now(dt.UTC)

    me = await api.client.get("/api/v1/me", headers=bearer(out["token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == out["user"]["id"]
    assert me.json()["email"] == body["email"]


async def test_signup_normalizes_email_to_lowercase(api: Api) -> None:
    local = f"Mixed.Case-{uuid.uuid4().hex[:8]}"
    r = await api.client.post(SIGNUP, json=signup_body(email=f"{local}@Example.COM"))
    assert r.status_code == 201, r.text
    assert r.json()["user"]["email"] == f"{local.lower()}@example.com"

    me = await api.client.get("/api/v1/me", headers=bearer(r.json()["token"]))
    assert me.json()["email"] == f"{local.lower()}@example.com"
    # Logging in with yet another casing reaches the same account.
    r2 = await login(api, f"{local.upper()}@EXAMPLE.com")
    assert r2.status_code == 200, r2.text
    assert r2.json()["user"]["id"] == r.json()["user"]["id"]


async def test_duplicate_email_is_409_even_with_other_casing(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.post(SIGNUP, json=signup_body(email=ann.email))
    assert r.status_code == 409, r.text
    assert error_code(r) == "email_taken"

    r = await api.client.post(SIGNUP, json=signup_body(email=ann.email.upper()))
    assert r.status_code == 409, r.text
    assert error_code(r) == "email_taken"


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "missing-at.example.com", "two@@example.com", "", "a@b"],
)
async def test_signup_rejects_invalid_email(api: Api, email: str) -> None:
    r = await api.client.post(SIGNUP, json=signup_body(email=email))
    assert fields(r) == ["body.email"]


async def test_signup_rejects_email_longer_than_255(api: Api) -> None:
    label = "a" * 60
    email = f"{'b' * 60}@{'.'.join([label] * 4)}.com"
    assert len(email) > 255
    r = await api.client.post(SIGNUP, json=signup_body(email=email))
    assert fields(r) == ["body.email"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_signup_rejects_bad_name(api: Api, name: str) -> None:
    r = await api.client.post(SIGNUP, json=signup_body(name=name))
    assert fields(r) == ["body.name"]


async def test_signup_accepts_100_char_name(api: Api) -> None:
    r = await api.client.post(SIGNUP, json=signup_body(name="n" * 100))
    assert r.status_code == 201, r.text
    assert r.json()["user"]["name"] == "n" * 100


async def test_signup_rejects_short_password(api: Api) -> None:
    body = signup_body(password="1234567")
    r = await api.client.post(SIGNUP, json=body)
    assert fields(r) == ["body.password"]
    # Nothing was created: the email is still free.
    r = await api.client.post(SIGNUP, json=signup_body(email=body["email"], password="12345678"))
    assert r.status_code == 201, r.text


async def test_signup_rejects_unknown_field(api: Api) -> None:
    r = await api.client.post(SIGNUP, json=signup_body(role="ADMIN"))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [e["field"] for e in detail] == ["body.role"]
    assert detail[0]["type"] == "extra_forbidden"


async def test_signup_reports_every_bad_field(api: Api) -> None:
    r = await api.client.post(SIGNUP, json={"email": "nope", "name": "", "password": "x"})
    assert sorted(fields(r)) == ["body.email", "body.name", "body.password"]
    for err in r.json()["detail"]:
        assert err["message"] and err["type"]


# --- storage ------------------------------------------------------------------------------


async def test_database_stores_only_digests(api: Api, app: FastAPI) -> None:
    ann = await api.signup()
    key = await create_key(api, ann)
    raw_key = key["key"]

    async with app.state.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.id == uuid.UUID(ann.id)))
        assert user is not None
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2")
        assert PASSWORD not in user.password_hash

        logins = (
            await session.scalars(select(UserSession).where(UserSession.user_id == user.id))
        ).all()
        assert len(logins) == 1
        assert logins[0].token_hash == hashlib.sha256(ann.token.encode()).hexdigest()
        for column in UserSession.__table__.columns:
            value = getattr(logins[0], column.key)
            assert ann.token not in str(value), column.key

        keys = (await session.scalars(select(ApiKey).where(ApiKey.user_id == user.id))).all()
        assert len(keys) == 1
        assert keys[0].key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
        assert keys[0].key_prefix == raw_key[:12]
        assert len(keys[0].key_prefix) < len(raw_key)
        for column in ApiKey.__table__.columns:
            value = getattr(keys[0], column.key)
            assert raw_key not in str(value), column.key


# --- login / logout -----------------------------------------------------------------------


async def test_login_returns_a_new_working_token(api: Api) -> None:
    ann = await api.signup()
    r = await login(api, ann.email)
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert token != ann.token and token.startswith(security.SESSION_TOKEN_PREFIX)
    assert r.json()["user"]["last_login_at"] is not None
    me = await api.client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["id"] == ann.id


async def test_wrong_password_and_unknown_email_get_the_same_401(api: Api) -> None:
    ann = await api.signup()
    wrong = await login(api, ann.email, "not the password")
    unknown = await login(api, unique_email("ghost"))
    for r in (wrong, unknown):
        assert r.status_code == 401, r.text
        assert error_code(r) == "invalid_credentials"
        assert "token" not in r.json()
    assert wrong.json() == unknown.json()


async def test_login_with_unknown_email_still_verifies_a_password(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = security._hasher

    class CountingHasher:
        """PasswordHasher has slots: wrap it instead of patching its method."""

        def verify(self, password_hash: str, password: str) -> bool:
            calls.append(password_hash)
            return bool(real.verify(password_hash, password))

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(security, "_hasher", CountingHasher())
    r = await login(api, unique_email("ghost"))
    assert r.status_code == 401, r.text
    assert calls == [security._DUMMY_HASH]


async def test_login_rejects_missing_fields(api: Api) -> None:
    r = await api.client.post(LOGIN, json={"email": "someone@example.com"})
    assert fields(r) == ["body.password"]


async def test_logout_revokes_only_that_session(api: Api) -> None:
    ann = await api.signup()
    r = await login(api, ann.email)
    other = r.json()["token"]

    r = await api.client.post("/api/v1/auth/logout", headers=ann.headers)
    assert r.status_code == 204, r.text
    assert r.content == b""

    r = await api.client.get("/api/v1/me", headers=ann.headers)
    assert r.status_code == 401, r.text
    assert error_code(r) == "invalid_token"
    # Logging out twice with the dead token is also refused.
    r = await api.client.post("/api/v1/auth/logout", headers=ann.headers)
    assert r.status_code == 401

    r = await api.client.get("/api/v1/me", headers=bearer(other))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == ann.id


async def test_missing_authorization_is_401(api: Api) -> None:
    r = await api.client.get("/api/v1/me")
    assert r.status_code == 401, r.text
    assert error_code(r) == "unauthorized"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer ats_" + "x" * 43,
        "Bearer atk_" + "x" * 43,
    ],
)
async def test_unknown_token_is_401_invalid_token(api: Api, header: str) -> None:
    r = await api.client.get("/api/v1/me", headers={"Authorization": header})
    assert r.status_code == 401, r.text
    assert error_code(r) == "invalid_token"


@pytest.mark.parametrize("header", ["garbage", "Basic dXNlcjpwYXNz", "Bearer"])
async def test_malformed_authorization_is_401(api: Api, header: str) -> None:
    r = await api.client.get("/api/v1/me", headers={"Authorization": header})
    assert r.status_code == 401, r.text


# --- profile ------------------------------------------------------------------------------


async def test_patch_me_updates_name_and_preferences(api: Api) -> None:
    ann = await api.signup("Ann")
    r = await api.client.patch(
        "/api/v1/me",
        json={"name": "Ann B.", "preferences": {"theme": "dark", "lang": "fr"}},
        headers=ann.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Ann B."
    assert r.json()["preferences"] == {"theme": "dark", "lang": "fr"}

    me = (await api.client.get("/api/v1/me", headers=ann.headers)).json()
    assert me["name"] == "Ann B."
    assert me["preferences"] == {"theme": "dark", "lang": "fr"}
    assert me["email"] == ann.email

    # A partial update leaves the other fields alone.
    r = await api.client.patch("/api/v1/me", json={"name": "Ann C."}, headers=ann.headers)
    assert r.status_code == 200, r.text
    me = (await api.client.get("/api/v1/me", headers=ann.headers)).json()
    assert me["name"] == "Ann C." and me["preferences"] == {"theme": "dark", "lang": "fr"}


async def test_patch_me_validates(api: Api) -> None:
    ann = await api.signup("Ann")
    r = await api.client.patch("/api/v1/me", json={"name": ""}, headers=ann.headers)
    assert fields(r) == ["body.name"]
    r = await api.client.patch("/api/v1/me", json={"email": "x@example.com"}, headers=ann.headers)
    assert fields(r) == ["body.email"]
    r = await api.client.patch("/api/v1/me", json={"name": "Bob"})
    assert r.status_code == 401
    me = (await api.client.get("/api/v1/me", headers=ann.headers)).json()
    assert me["name"] == "Ann" and me["email"] == ann.email


# --- API keys -----------------------------------------------------------------------------


async def test_api_key_is_shown_once_and_authenticates(api: Api) -> None:
    ann = await api.signup()
    created = await create_key(api, ann, label="laptop")
    raw = created["key"]
    assert raw.startswith(security.API_KEY_PREFIX)
    assert created["label"] == "laptop"
    assert created["key_prefix"] == raw[:12]
    assert created["last_used_at"] is None and created["revoked_at"] is None

    r = await api.client.get("/api/v1/api-keys", headers=ann.headers)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [k["id"] for k in items] == [created["id"]]
    assert "key" not in items[0]
    assert items[0]["key_prefix"] == raw[:12]
    assert raw not in r.text

    me = await api.client.get("/api/v1/me", headers=bearer(raw))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == ann.id

    listed = (await api.client.get("/api/v1/api-keys", headers=bearer(raw))).json()["items"]
    assert listed[0]["last_used_at"] is not None
    used = dt.datetime.fromisoformat(listed[0]["last_used_at"])
    assert used >= dt.datetime.fromisoformat(created["created_at"])


async def test_revoked_api_key_is_401(api: Api) -> None:
    ann = await api.signup()
    created = await create_key(api, ann)
    raw = created["key"]
    assert (await api.client.get("/api/v1/me", headers=bearer(raw))).status_code == 200

    r = await api.client.delete(f"/api/v1/api-keys/{created['id']}", headers=ann.headers)
    assert r.status_code == 204, r.text

    r = await api.client.get("/api/v1/me", headers=bearer(raw))
    assert r.status_code == 401, r.text
    assert error_code(r) == "invalid_token"
    listed = (await api.client.get("/api/v1/api-keys", headers=ann.headers)).json()["items"]
    assert listed[0]["id"] == created["id"] and listed[0]["revoked_at"] is not None
    # The session token is untouched.
    assert (await api.client.get("/api/v1/me", headers=ann.headers)).status_code == 200


async def test_cannot_revoke_someone_elses_key(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    created = await create_key(api, ann)

    r = await api.client.delete(f"/api/v1/api-keys/{created['id']}", headers=bob.headers)
    assert r.status_code == 404, r.text
    assert error_code(r) == "api_key_not_found"
    r = await api.client.delete(f"/api/v1/api-keys/{uuid.uuid4()}", headers=ann.headers)
    assert r.status_code == 404, r.text
    assert error_code(r) == "api_key_not_found"

    # Still working for its owner.
    assert (await api.client.get("/api/v1/me", headers=bearer(created["key"]))).status_code == 200
    assert (await api.client.get("/api/v1/api-keys", headers=bob.headers)).json()["items"] == []


async def test_expired_api_key_is_401(api: Api, app: FastAPI) -> None:
    ann = await api.signup()
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    expired = await create_key(api, ann, label="old", expires_at=future)
    fresh = await create_key(api, ann, label="new", expires_at=future)
    # Time passes for one of them (a key cannot be made already expired).
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.get(ApiKey, uuid.UUID(expired["id"]))
        assert row is not None
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    r = await api.client.get("/api/v1/me", headers=bearer(expired["key"]))
    assert r.status_code == 401, r.text
    assert error_code(r) == "invalid_token"
    r = await api.client.get("/api/v1/me", headers=bearer(fresh["key"]))
    assert r.status_code == 200, r.text


async def test_api_key_validation(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.post("/api/v1/api-keys", json={"label": ""}, headers=ann.headers)
    assert fields(r) == ["body.label"]
    r = await api.client.post(
        "/api/v1/api-keys", json={"label": "x", "expires_at": "soon"}, headers=ann.headers
    )
    assert fields(r) == ["body.expires_at"]
    r = await api.client.post("/api/v1/api-keys", json={"label": "x"})
    assert r.status_code == 401
    assert (await api.client.get("/api/v1/api-keys", headers=ann.headers)).json()["items"] == []


async def test_api_keys_are_paginated(api: Api) -> None:
    ann = await api.signup()
    made = [(await create_key(api, ann, label=f"k{i}"))["id"] for i in range(3)]

    r = await api.client.get("/api/v1/api-keys", params={"limit": 2}, headers=ann.headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]

    r = await api.client.get(
        "/api/v1/api-keys",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=ann.headers,
    )
    assert r.status_code == 200, r.text
    second = r.json()
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None

    seen = [k["id"] for k in first["items"] + second["items"]]
    assert seen == list(reversed(made))  # newest first, each once


async def test_bad_cursor_is_422(api: Api) -> None:
    ann = await api.signup()
    # Not base64 JSON; JSON but not a list; a list of the wrong things.
    for cursor in ["garbage", "!!!", "eyJhIjoxfQ", "WzEsMl0"]:
        r = await api.client.get("/api/v1/api-keys", params={"cursor": cursor}, headers=ann.headers)
        assert fields(r) == ["query.cursor"], cursor
    r = await api.client.get("/api/v1/api-keys", params={"limit": 0}, headers=ann.headers)
    assert fields(r) == ["query.limit"]


async def test_the_profile_picture_is_a_web_address_and_can_be_removed(api: Api) -> None:
    me = await api.signup(name="Pia Picture")
    url = "/api/v1/me"
    r = await api.client.patch(url, json={"avatar_url": "javascript:alert(1)"}, headers=me.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.avatar_url"
    picture = "https://example.com/pia.png"
    r = await api.client.patch(url, json={"avatar_url": picture}, headers=me.headers)
    assert r.status_code == 200 and r.json()["avatar_url"] == picture
    r = await api.client.patch(url, json={"name": "Pia P."}, headers=me.headers)
    assert r.json()["avatar_url"] == picture and r.json()["name"] == "Pia P."
    for removed in (None, ""):
        await api.client.patch(url, json={"avatar_url": picture}, headers=me.headers)
        r = await api.client.patch(url, json={"avatar_url": removed}, headers=me.headers)
        assert r.status_code == 200 and r.json()["avatar_url"] is None
    r = await api.client.patch(url, json={"name": None}, headers=me.headers)
    assert r.status_code == 200 and r.json()["name"] == "Pia P."  # a name always stays
