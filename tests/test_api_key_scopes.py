"""API keys have scopes: a key cannot mint credentials unless it was made to, a read key
cannot write, an expiry in the past is refused, and a key cannot "log out"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.factories import Account, Api, error_code

pytestmark = pytest.mark.anyio

KEYS = "/api/v1/api-keys"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_key(api: Api, headers: dict[str, str], **body: Any) -> Any:
    return await api.client.post(KEYS, json={"label": "k", **body}, headers=headers)


async def key_of(api: Api, who: Account, **body: Any) -> dict[str, Any]:
    r = await make_key(api, who.headers, **body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_default_key_reads_and_writes_but_cannot_mint_keys(api: Api) -> None:
    ann = await api.signup()
    key = await key_of(api, ann)
    assert key["scopes"] == ["read", "write"]
    headers = bearer(key["key"])

    r = await make_key(api, headers)
    assert r.status_code == 403, r.text
    assert error_code(r) == "insufficient_scope"
    assert "keys" in r.json()["detail"]
    # Nor revoke keys (a leaked key must not lock its owner's other keys out).
    other = await key_of(api, ann)
    r = await api.client.delete(f"{KEYS}/{other['id']}", headers=headers)
    assert r.status_code == 403
    # Everything else works.
    assert (await api.client.get("/api/v1/me", headers=headers)).status_code == 200
    r = await api.client.post("/api/v1/projects", json={"name": "By key"}, headers=headers)
    assert r.status_code == 201, r.text
    # The two keys the session made; the refused one was not made.
    listed = (await api.client.get(KEYS, headers=ann.headers)).json()["items"]
    assert len(listed) == 2


async def test_revoking_a_leaked_key_locks_its_holder_out(api: Api) -> None:
    ann = await api.signup()
    leaked = await key_of(api, ann)
    assert (await make_key(api, bearer(leaked["key"]))).status_code == 403
    r = await api.client.delete(f"{KEYS}/{leaked['id']}", headers=ann.headers)
    assert r.status_code == 204
    assert (await api.client.get("/api/v1/me", headers=bearer(leaked["key"]))).status_code == 401


async def test_a_key_with_the_keys_scope_can_mint_and_revoke(api: Api) -> None:
    ann = await api.signup()
    admin = await key_of(api, ann, scopes=["read", "write", "keys"])
    r = await make_key(api, bearer(admin["key"]), scopes=["read"])
    assert r.status_code == 201, r.text
    minted = r.json()
    assert minted["scopes"] == ["read"]
    r = await api.client.delete(f"{KEYS}/{minted['id']}", headers=bearer(admin["key"]))
    assert r.status_code == 204


async def test_a_read_key_cannot_write(api: Api) -> None:
    ann = await api.signup()
    project = await api.project(ann)
    reader = bearer((await key_of(api, ann, scopes=["read"]))["key"])
    assert (
        await api.client.get(f"/api/v1/projects/{project['id']}", headers=reader)
    ).status_code == 200
    for method, url, body in (
        ("POST", "/api/v1/projects", {"name": "x"}),
        ("PATCH", f"/api/v1/projects/{project['id']}", {"name": "renamed"}),
        ("DELETE", f"/api/v1/projects/{project['id']}", None),
        ("PATCH", "/api/v1/me", {"name": "Mallory"}),
    ):
        r = await api.client.request(method, url, json=body, headers=reader)
        assert r.status_code == 403, (method, url, r.text)
        assert error_code(r) == "insufficient_scope"
    r = await api.client.get(f"/api/v1/projects/{project['id']}", headers=ann.headers)
    assert r.json()["name"] == project["name"]


async def test_a_key_cannot_make_mcp_tokens_without_the_keys_scope(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.post(
        "/api/v1/projects", json={"name": "SDP", "pack": "sdp"}, headers=ann.headers
    )
    project = r.json()
    url = f"/api/v1/projects/{project['id']}/mcp-tokens"
    plain = bearer((await key_of(api, ann))["key"])
    r = await api.client.post(url, json={"label": "agent"}, headers=plain)
    assert r.status_code == 403 and error_code(r) == "insufficient_scope"
    allowed = bearer((await key_of(api, ann, scopes=["read", "write", "keys"]))["key"])
    r = await api.client.post(url, json={"label": "agent"}, headers=allowed)
    assert r.status_code == 201, r.text


async def test_scope_validation(api: Api) -> None:
    ann = await api.signup()
    for scopes in (["admin"], [], "read"):
        r = await make_key(api, ann.headers, scopes=scopes)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["field"].startswith("body.scopes")


async def test_an_expiry_in_the_past_is_refused(api: Api) -> None:
    ann = await api.signup()
    for past in (
        (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(),
        "2001-01-01T00:00:00",  # no offset: UTC
    ):
        r = await make_key(api, ann.headers, expires_at=past)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["field"] == "body.expires_at"
    assert (await api.client.get(KEYS, headers=ann.headers)).json()["items"] == []
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert (await make_key(api, ann.headers, expires_at=future)).status_code == 201


async def test_logout_with_an_api_key_says_to_revoke_it(api: Api) -> None:
    ann = await api.signup()
    key = await key_of(api, ann)
    r = await api.client.post("/api/v1/auth/logout", headers=bearer(key["key"]))
    assert r.status_code == 400, r.text
    assert error_code(r) == "not_a_session"
    assert key["id"] in r.json()["detail"]
    # The key still works (nothing was revoked), and so does the session.
    assert (await api.client.get("/api/v1/me", headers=bearer(key["key"]))).status_code == 200
    assert (await api.client.post("/api/v1/auth/logout", headers=ann.headers)).status_code == 204
    assert (await api.client.get("/api/v1/me", headers=ann.headers)).status_code == 401


async def test_another_user_cannot_see_or_revoke_a_key(api: Api) -> None:
    ann, bob = await api.signup(), await api.signup()
    key = await key_of(api, ann)
    r = await api.client.delete(f"{KEYS}/{key['id']}", headers=bob.headers)
    assert r.status_code == 404
    assert (await api.client.get(KEYS, headers=bob.headers)).json()["items"] == []
