"""Who reaches the admin console's API: administrators; everyone else gets the 404 of a path
that does not exist (the console is not advertised), and no credentials the usual 401.
And ``require_role``, the guard packs use for their moderation routes."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi import APIRouter, Depends
from httpx import Response

from atelier.accounts.models import UserRole
from atelier.accounts.principal import Principal
from atelier.accounts.roles import require_role
from atelier.config import Settings
from tests.admin.conftest import serving
from tests.factories import Api, admin, set_role

pytestmark = pytest.mark.anyio

API = "/api/v1"
PARAM = re.compile(r"\{([^}]+)\}")
UNKNOWN = {"error": "not_found", "detail": "Not Found"}


def admin_routes(app: Any) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith(f"{API}/admin/")
        for method in ops
    ]


async def call(api: Api, method: str, path: str, ids: dict[str, str], **kwargs: Any) -> Response:
    url = PARAM.sub(lambda m: ids[m.group(1)], path)
    return await api.client.request(method.upper(), url, **kwargs)


async def test_the_console_routes_are_the_expected_ones(app: Any) -> None:
    assert sorted(admin_routes(app)) == sorted(
        [
            ("get", f"{API}/admin/users"),
            ("get", f"{API}/admin/users/{{user_id}}"),
            ("patch", f"{API}/admin/users/{{user_id}}"),
            ("get", f"{API}/admin/organizations"),
            ("get", f"{API}/admin/organizations/{{org_id}}"),
            ("patch", f"{API}/admin/organizations/{{org_id}}"),
            ("get", f"{API}/admin/figures"),
            ("get", f"{API}/admin/pin"),
            ("put", f"{API}/admin/pin"),
            ("post", f"{API}/admin/pin/unlock"),
            ("post", f"{API}/admin/pin/lock"),
        ]
    )


@pytest.mark.parametrize("role", ["USER", "MODERATOR", "DEVELOPER"])
async def test_anyone_but_an_admin_gets_the_404_of_an_unknown_path(
    api: Api, app: Any, role: str
) -> None:
    boss = await admin(api, app)
    who = await set_role(app, await api.signup("Not an admin"), role)
    org = await api.organization(boss)
    ids = {"user_id": boss.id, "org_id": org["id"]}
    unknown = await api.client.get(f"{API}/admin/nothing-here", headers=who.headers)
    assert unknown.status_code == 404 and unknown.json() == UNKNOWN
    routes = admin_routes(app)
    for method, path in routes:
        # A body that would be valid: the refusal must not depend on what is sent.
        r = await call(api, method, path, ids, json={"role": "USER"}, headers=who.headers)
        assert (r.status_code, r.json()) == (404, UNKNOWN), (method, path, r.text)
        # With a malformed id too: no "invalid_id" that would tell the route exists.
        r = await call(api, method, path, {"user_id": "x", "org_id": "y"}, headers=who.headers)
        assert (r.status_code, r.json()) == (404, UNKNOWN), (method, path, r.text)
    # A method a route does not take is the same 404, not a 405 naming the route.
    for method, path in (("delete", f"{API}/admin/figures"), ("put", f"{API}/admin/users")):
        r = await call(api, method, path, ids, headers=who.headers)
        assert (r.status_code, r.json()) == (404, UNKNOWN), (method, path, r.text)
    # The same key of theirs works elsewhere, and nothing was changed.
    assert (await api.client.get(f"{API}/me", headers=who.headers)).status_code == 200
    r = await api.client.get(f"{API}/admin/users/{boss.id}", headers=boss.headers)
    assert r.json()["role"] == "ADMIN"


async def test_no_credentials_is_401_and_an_admin_gets_through(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    org = await api.organization(boss)
    ids = {"user_id": boss.id, "org_id": org["id"]}
    for method, path in admin_routes(app):
        r = await call(api, method, path, ids, json={})
        assert r.status_code == 401 and r.json()["error"] == "unauthorized", (method, path)
        if path.startswith(f"{API}/admin/pin"):
            continue  # they need a PIN in the body: tests/admin/test_pin.py
        r = await call(api, method, path, ids, json={}, headers=boss.headers)
        assert r.status_code == 200, (method, path, r.text)


async def read_only_key(api: Api, who: Any) -> dict[str, str]:
    r = await api.client.post(
        f"{API}/api-keys", json={"label": "ro", "scopes": ["read"]}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


async def test_an_admins_read_only_key_reads_but_does_not_write(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    key = await read_only_key(api, boss)
    assert (await api.client.get(f"{API}/admin/users", headers=key)).status_code == 200
    r = await api.client.patch(f"{API}/admin/users/{boss.id}", json={}, headers=key)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    # Anyone else's key learns nothing from its scopes: the same 404 as for a session.
    key = await read_only_key(api, await api.signup())
    r = await api.client.patch(f"{API}/admin/users/{boss.id}", json={}, headers=key)
    assert (r.status_code, r.json()) == (404, UNKNOWN)


# --- require_role, as a pack uses it ---------------------------------------------------

moderation = APIRouter(prefix="/moderation-test")


@moderation.post("/posts/{post_id}/hide")
async def hide(
    post_id: uuid.UUID,
    who: Principal = Depends(require_role(UserRole.MODERATOR)),
) -> dict[str, str]:
    return {"hidden": str(post_id), "by": who.role.value}


async def test_require_role_lets_moderators_and_admins_through(
    api: Api, app: Any, settings: Settings
) -> None:
    """A route of a pack guarded by ``require_role(MODERATOR)``, on an app of its own (so
    that the shared app's routes, walked by other tests, stay as they are)."""
    accounts = {
        role: await set_role(app, await api.signup(role.title()), role)
        for role in ("USER", "DEVELOPER", "MODERATOR", "ADMIN")
    }
    async with serving(settings) as (pack_app, pack_api):
        pack_app.include_router(moderation, prefix=API)
        url = f"{API}/moderation-test/posts/{uuid.uuid4()}/hide"
        for role, who in accounts.items():
            r = await pack_api.client.post(url, headers=who.headers)
            if role in ("MODERATOR", "ADMIN"):
                assert r.status_code == 200 and r.json()["by"] == role, r.text
            else:
                assert (r.status_code, r.json()) == (404, UNKNOWN), (role, r.text)
        assert (await pack_api.client.post(url)).status_code == 401
