"""/projects/{id}/mcp-tokens: create (the raw token once), list, revoke, expiry,
validation, and who may do what."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import select

from atelier.core.db import session_scope
from atelier.mcp import tokens
from atelier.mcp.models import MCPToken
from tests.factories import Account, Api, error_code
from tests.mcp.conftest import mcp_token, tokens_url

pytestmark = pytest.mark.anyio

API_PROJECTS = "/api/v1/projects"

PUBLIC_FIELDS = {
    "id",
    "project_id",
    "user_id",
    "label",
    "prefix",
    "status",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
}


async def pipeline_project(api: Api, who: Account) -> dict[str, Any]:
    # Tokens need no stage output: an empty sdp project is enough here.
    return await api.project(who, name="Design", pack="sdp")


async def row_of(app: Any, token_id: str) -> MCPToken:
    async with session_scope(app.state.sessionmaker) as session:
        row = await session.scalar(select(MCPToken).where(MCPToken.id == uuid.UUID(token_id)))
        assert row is not None
        return row


def fields(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [e["field"] for e in response.json()["detail"]]


def parse(when: str) -> dt.datetime:
    return dt.datetime.fromisoformat(when.replace("Z", "+00:00"))


async def test_create_shows_the_raw_token_once_and_stores_only_its_hash(api: Api, app: Any) -> None:
    ann = await api.signup()
    p = await pipeline_project(api, ann)
    created = await mcp_token(api, ann, p["id"], label="Claude Code")
    raw = created.pop("token")
    assert raw.startswith("atl_mcp_") and len(raw) > 40
    assert set(created) == PUBLIC_FIELDS
    assert created["label"] == "Claude Code" and created["status"] == "active"
    assert (created["project_id"], created["user_id"]) == (p["id"], ann.id)
    assert raw.startswith(created["prefix"]) and len(created["prefix"]) < 20
    assert created["last_used_at"] is None and created["expires_at"] is None

    row = await row_of(app, created["id"])
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (row.token_hash, row.prefix, row.label)

    r = await api.client.get(tokens_url(p["id"]), headers=ann.headers)
    assert r.status_code == 200, r.text
    [listed] = r.json()["items"]
    assert set(listed) == PUBLIC_FIELDS
    assert raw not in r.text and row.token_hash not in r.text


async def test_list_is_newest_first_and_paginated(api: Api) -> None:
    ann = await api.signup()
    p = await pipeline_project(api, ann)
    ids = [(await mcp_token(api, ann, p["id"], label=f"t{i}"))["id"] for i in range(3)]
    r = await api.client.get(tokens_url(p["id"]), params={"limit": 2}, headers=ann.headers)
    assert r.status_code == 200, r.text
    first = r.json()
    cursor = first["next_cursor"]
    assert cursor
    r = await api.client.get(
        tokens_url(p["id"]), params={"limit": 2, "cursor": cursor}, headers=ann.headers
    )
    listed = [t["id"] for t in first["items"] + r.json()["items"]]
    assert listed == ids[::-1]


async def test_revoke_is_idempotent_and_shows_in_the_list(api: Api, app: Any) -> None:
    ann = await api.signup()
    p = await pipeline_project(api, ann)
    created = await mcp_token(api, ann, p["id"])
    url = f"{tokens_url(p['id'])}/{created['id']}"
    r = await api.client.delete(url, headers=ann.headers)
    assert r.status_code == 204, r.text
    first = (await row_of(app, created["id"])).revoked_at
    assert first is not None
    r = await api.client.delete(url, headers=ann.headers)
    assert r.status_code == 204, r.text
    assert (await row_of(app, created["id"])).revoked_at == first

    r = await api.client.get(tokens_url(p["id"]), headers=ann.headers)
    [listed] = r.json()["items"]
    assert listed["status"] == "revoked" and listed["revoked_at"] is not None

    r = await api.client.delete(f"{tokens_url(p['id'])}/{uuid.uuid4()}", headers=ann.headers)
    assert r.status_code == 404 and error_code(r) == "mcp_token_not_found"


async def test_expiry_by_date_or_by_days(api: Api, app: Any) -> None:
    ann = await api.signup()
    p = await pipeline_project(api, ann)
    before = dt.datetime.now(dt.UTC)
    by_days = await mcp_token(api, ann, p["id"], expires_in_days=7)
    expires = parse(by_days["expires_at"])
    assert dt.timedelta(days=7) <= expires - before < dt.timedelta(days=7, minutes=1)

    # No offset means UTC.
    by_date = await mcp_token(api, ann, p["id"], expires_at="2099-01-02T03:04:05")
    assert parse(by_date["expires_at"]) == dt.datetime(2099, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

    expired = await mcp_token(api, ann, p["id"], expires_in_days=1)
    async with session_scope(app.state.sessionmaker) as session:
        row = await session.get(MCPToken, uuid.UUID(expired["id"]))
        assert row is not None
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    r = await api.client.get(tokens_url(p["id"]), headers=ann.headers)
    statuses = {t["id"]: t["status"] for t in r.json()["items"]}
    assert statuses == {
        by_days["id"]: "active",
        by_date["id"]: "active",
        expired["id"]: "expired",
    }


INVALID_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"label": ""}, "body.label"),
    ({"label": "x" * 101}, "body.label"),
    ({}, "body.label"),
    ({"label": "ok", "expires_at": "2001-01-01T00:00:00Z"}, "body.expires_at"),
    ({"label": "ok", "expires_at": "soon"}, "body.expires_at"),
    ({"label": "ok", "expires_in_days": 0}, "body.expires_in_days"),
    ({"label": "ok", "expires_in_days": 100000}, "body.expires_in_days"),
    (
        {"label": "ok", "expires_in_days": 3, "expires_at": "2099-01-01T00:00:00Z"},
        "body.expires_in_days",
    ),
    ({"label": "ok", "scopes": ["write"]}, "body.scopes"),
]


async def test_validation_errors_name_the_field(api: Api) -> None:
    ann = await api.signup()
    p = await pipeline_project(api, ann)
    for body, field in INVALID_BODIES:
        r = await api.client.post(tokens_url(p["id"]), json=body, headers=ann.headers)
        assert field in fields(r), body
    r = await api.client.get(tokens_url(p["id"]), headers=ann.headers)
    assert r.json()["items"] == []


async def test_only_pipeline_projects_have_tokens(api: Api) -> None:
    ann = await api.signup()
    p = await api.project(ann, name="Strategy", pack="strategy")
    for method, url, body in (
        ("POST", tokens_url(p["id"]), {"label": "agent"}),
        ("GET", tokens_url(p["id"]), None),
        ("DELETE", f"{tokens_url(p['id'])}/{uuid.uuid4()}", None),
    ):
        r = await api.client.request(method, url, json=body, headers=ann.headers)
        assert r.status_code == 409, r.text
        assert error_code(r) == "no_stages"


async def test_another_user_gets_404_on_every_route(api: Api, app: Any) -> None:
    ann, bob = await api.signup("Ann"), await api.signup("Bob")
    p = await pipeline_project(api, ann)
    created = await mcp_token(api, ann, p["id"])
    token_url = f"{tokens_url(p['id'])}/{created['id']}"
    for method, url, body in (
        ("POST", tokens_url(p["id"]), {"label": "mine now"}),
        ("GET", tokens_url(p["id"]), None),
        ("DELETE", token_url, None),
    ):
        r = await api.client.request(method, url, json=body, headers=bob.headers)
        assert r.status_code == 404, r.text
        assert error_code(r) == "project_not_found"
        assert created["token"] not in r.text and created["prefix"] not in r.text

    # Nor through his own project: the token id belongs to another project.
    own = await pipeline_project(api, bob)
    r = await api.client.delete(f"{tokens_url(own['id'])}/{created['id']}", headers=bob.headers)
    assert r.status_code == 404 and error_code(r) == "mcp_token_not_found"
    r = await api.client.get(tokens_url(own["id"]), headers=bob.headers)
    assert r.json()["items"] == []

    row = await row_of(app, created["id"])
    assert row.revoked_at is None
    r = await api.client.get(tokens_url(p["id"]), headers=ann.headers)
    assert [t["id"] for t in r.json()["items"]] == [created["id"]]


async def test_organization_viewers_list_but_cannot_create_or_revoke(api: Api) -> None:
    ann, vic = await api.signup("Ann"), await api.signup("Vic")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], vic, "VIEWER")
    p = await api.project(ann, name="Shared", pack="sdp", organization_id=org["id"])
    created = await mcp_token(api, ann, p["id"])

    r = await api.client.get(tokens_url(p["id"]), headers=vic.headers)
    assert r.status_code == 200 and [t["id"] for t in r.json()["items"]] == [created["id"]]
    r = await api.client.post(tokens_url(p["id"]), json={"label": "x"}, headers=vic.headers)
    assert r.status_code == 403, r.text
    r = await api.client.delete(f"{tokens_url(p['id'])}/{created['id']}", headers=vic.headers)
    assert r.status_code == 403, r.text


async def test_verify_and_touch(api: Api, app: Any) -> None:
    ann = await api.signup()
    p = await pipeline_project(api, ann)
    created = await mcp_token(api, ann, p["id"])
    maker = app.state.sessionmaker
    async with session_scope(maker) as session:
        assert await tokens.verify(session, "atl_mcp_not-a-real-token") is None
        assert await tokens.verify(session, created["prefix"]) is None
        found = await tokens.verify(session, created["token"])
        assert found is not None
        row, project = found
        assert str(project.id) == p["id"]
        now = dt.datetime.now(dt.UTC)
        assert await tokens.touch(session, row, now=now) is True
        # Within the interval: no write.
        assert await tokens.touch(session, row, now=now + dt.timedelta(seconds=5)) is False
        later = now + tokens.TOUCH_INTERVAL + dt.timedelta(seconds=1)
        assert await tokens.touch(session, row, now=later) is True
    assert (await row_of(app, created["id"])).last_used_at == later

    # A deleted project ends its tokens.
    r = await api.client.delete(f"{API_PROJECTS}/{p['id']}", headers=ann.headers)
    assert r.status_code == 204, r.text
    async with session_scope(maker) as session:
        assert await tokens.verify(session, created["token"]) is None


async def test_a_member_who_leaves_the_organization_takes_no_access_along(
    api: Api, app: Any
) -> None:
    ann, max_ = await api.signup("Ann"), await api.signup("Max")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], max_, "MEMBER")
    p = await api.project(ann, name="Shared", pack="sdp", organization_id=org["id"])
    created = await mcp_token(api, max_, p["id"])
    assert created["user_id"] == max_.id
    async with session_scope(app.state.sessionmaker) as session:
        assert await tokens.verify(session, created["token"]) is not None

    r = await api.client.delete(
        f"/api/v1/organizations/{org['id']}/members/{max_.id}", headers=ann.headers
    )
    assert r.status_code == 204, r.text
    async with session_scope(app.state.sessionmaker) as session:
        assert await tokens.verify(session, created["token"]) is None
    # The owner still sees (and may revoke) the token.
    r = await api.client.delete(f"{tokens_url(p['id'])}/{created['id']}", headers=ann.headers)
    assert r.status_code == 204
