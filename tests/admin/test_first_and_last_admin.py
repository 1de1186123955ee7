"""A fresh instance's way in (its first account is the administrator) and the rules that
keep one: an administrator cannot deactivate themself, and nobody can leave the instance
without an active administrator. On databases of their own, so that who is first and who
is the only administrator is known."""

from __future__ import annotations

import asyncio

import pytest

from tests.admin.conftest import Instance
from tests.factories import PASSWORD, Account, Api, error_code, unique_email

pytestmark = pytest.mark.anyio

API = "/api/v1"


async def role_of(api: Api, who: Account) -> str:
    r = await api.client.get(f"{API}/me", headers=who.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["role"])


async def test_the_first_account_of_an_empty_instance_is_the_admin(
    empty_instance: Instance,
) -> None:
    api = empty_instance.api
    r = await api.client.post(
        f"{API}/auth/signup",
        json={"email": unique_email(), "name": "First", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    assert r.json()["user"]["role"] == "ADMIN"
    first = Account(id=r.json()["user"]["id"], email="", token=r.json()["token"])
    second = await api.signup("Second")
    assert await role_of(api, second) == "USER"
    assert await role_of(api, first) == "ADMIN"
    r = await api.client.get(f"{API}/admin/users", headers=first.headers)
    assert [u["id"] for u in r.json()["items"]] == [second.id, first.id]


async def test_two_first_sign_ups_at_once_make_one_admin(empty_instance: Instance) -> None:
    api = empty_instance.api
    people = await asyncio.gather(*(api.signup(f"Racer {i}") for i in range(4)))
    roles = [await role_of(api, who) for who in people]
    assert sorted(roles) == ["ADMIN", "USER", "USER", "USER"]


async def test_the_sign_up_page_says_so_until_there_is_an_account(
    empty_instance: Instance,
) -> None:
    client = empty_instance.api.client
    r = await client.get("/signup")
    assert r.status_code == 200
    assert "the first account becomes the administrator" in r.text
    # The form's CSRF token; its cookie is in the client's jar.
    csrf = r.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"name": "Web First", "email": unique_email(), "password": PASSWORD, "csrf_token": csrf}
    r = await client.post("/signup", data=form)
    assert r.status_code == 303, r.text
    r = await client.get(f"{API}/me")  # signed in through the cookie
    assert r.status_code == 200 and r.json()["role"] == "ADMIN"
    page = await client.get("/projects", headers={"accept": "text/html"})
    assert 'href="/admin"' in page.text  # the navigation shows the console
    client.cookies.clear()
    r = await client.get("/signup")
    assert "the first account becomes the administrator" not in r.text
    later = await empty_instance.api.signup("Later")
    assert await role_of(empty_instance.api, later) == "USER"


async def test_the_last_admin_cannot_step_down_and_nobody_deactivates_themself(
    empty_instance: Instance,
) -> None:
    api = empty_instance.api
    boss = await api.signup("Only Admin")
    other = await api.signup("Other")
    assert await role_of(api, boss) == "ADMIN"
    me = f"{API}/admin/users/{boss.id}"

    r = await api.client.patch(me, json={"role": "USER"}, headers=boss.headers)
    assert r.status_code == 409 and error_code(r) == "last_admin", r.text
    assert "administrator" in r.json()["detail"]
    r = await api.client.patch(me, json={"is_active": False}, headers=boss.headers)
    assert r.status_code == 409 and error_code(r) == "cannot_deactivate_self", r.text
    # A refused change takes the rest of the request with it.
    r = await api.client.patch(me, json={"role": "USER", "plan": "PRO"}, headers=boss.headers)
    assert r.status_code == 409
    r = await api.client.get(me, headers=boss.headers)
    assert (r.json()["role"], r.json()["is_active"], r.json()["plan"]) == ("ADMIN", True, None)

    # With a second administrator, the first may step down (and then sees no console).
    r = await api.client.patch(
        f"{API}/admin/users/{other.id}", json={"role": "ADMIN"}, headers=boss.headers
    )
    assert r.status_code == 200, r.text
    r = await api.client.patch(me, json={"role": "DEVELOPER"}, headers=boss.headers)
    assert r.status_code == 200 and r.json()["role"] == "DEVELOPER"
    assert (await api.client.get(me, headers=boss.headers)).status_code == 404
    # Now the other is the last one: the same rule holds for them.
    r = await api.client.patch(
        f"{API}/admin/users/{other.id}", json={"role": "MODERATOR"}, headers=other.headers
    )
    assert r.status_code == 409 and error_code(r) == "last_admin"
    # An administrator deactivating another is fine, and that admin no longer counts.
    r = await api.client.patch(me, json={"role": "ADMIN"}, headers=other.headers)
    assert r.status_code == 200
    r = await api.client.patch(me, json={"is_active": False}, headers=other.headers)
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = await api.client.patch(
        f"{API}/admin/users/{other.id}", json={"role": "USER"}, headers=other.headers
    )
    assert r.status_code == 409 and error_code(r) == "last_admin"


async def test_two_admins_stepping_down_at_once_leave_one(empty_instance: Instance) -> None:
    api = empty_instance.api
    first = await api.signup("First")
    second = await api.signup("Second")
    r = await api.client.patch(
        f"{API}/admin/users/{second.id}", json={"role": "ADMIN"}, headers=first.headers
    )
    assert r.status_code == 200

    async def step_down(who: Account) -> int:
        r = await api.client.patch(
            f"{API}/admin/users/{who.id}", json={"role": "USER"}, headers=who.headers
        )
        return r.status_code

    statuses = await asyncio.gather(step_down(first), step_down(second))
    assert sorted(statuses) == [200, 409]
    roles = [await role_of(api, who) for who in (first, second)]
    assert sorted(roles) == ["ADMIN", "USER"]
