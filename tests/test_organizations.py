"""Organizations and their members: roles, slugs, the last-owner rule."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import Response

from tests.factories import Account, Api, error_code, unique_email

pytestmark = pytest.mark.anyio

ORGS = "/api/v1/organizations"


def fields(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [e["field"] for e in response.json()["detail"]]


def unique_slug(prefix: str = "org") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create_org(api: Api, who: Account, **body: Any) -> Response:
    return await api.client.post(ORGS, json={"name": "Org", **body}, headers=who.headers)


async def members(api: Api, who: Account, org_id: str) -> dict[str, str]:
    """user_id -> role, as `who` sees the member list."""
    r = await api.client.get(f"{ORGS}/{org_id}/members", headers=who.headers)
    assert r.status_code == 200, r.text
    return {m["user_id"]: m["role"] for m in r.json()["items"]}


async def set_role(api: Api, actor: Account, org_id: str, target: Account, role: str) -> Response:
    return await api.client.patch(
        f"{ORGS}/{org_id}/members/{target.id}", json={"role": role}, headers=actor.headers
    )


async def remove(api: Api, actor: Account, org_id: str, target: Account) -> Response:
    return await api.client.delete(f"{ORGS}/{org_id}/members/{target.id}", headers=actor.headers)


# --- create, slugs, names -----------------------------------------------------------------


async def test_creator_is_owner(api: Api) -> None:
    ann = await api.signup()
    slug = unique_slug()
    r = await create_org(api, ann, name="Acme", slug=slug)
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["name"] == "Acme" and org["slug"] == slug and org["role"] == "OWNER"
    assert org["subscription_tier"] == "FREE" and org["subscription_status"] == "TRIAL"

    got = await api.client.get(f"{ORGS}/{org['id']}", headers=ann.headers)
    assert got.status_code == 200, got.text
    assert got.json()["role"] == "OWNER" and got.json()["slug"] == slug
    assert await members(api, ann, org["id"]) == {ann.id: "OWNER"}


async def test_slug_rules(api: Api) -> None:
    ann = await api.signup()
    for bad in ["ab", "Upper-Case", "has space", "under_score", "x" * 51, "ünï", ""]:
        r = await create_org(api, ann, slug=bad)
        assert fields(r) == ["body.slug"], bad
    # Bounds: 3 and 50 characters are fine.
    for good in [uuid.uuid4().hex[:3], unique_slug("a" * 39)]:
        assert len(good) in (3, 50)
        r = await create_org(api, ann, slug=good)
        assert r.status_code == 201, r.text
        assert r.json()["slug"] == good
    listed = (await api.client.get(ORGS, headers=ann.headers)).json()["items"]
    assert len(listed) == 2


async def test_slug_is_derived_from_the_name(api: Api) -> None:
    ann = await api.signup()
    tag = uuid.uuid4().hex[:8]
    r = await create_org(api, ann, name=f"Acme Widgets {tag}!")
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == f"acme-widgets-{tag}"
    # The same name again gets a suffix instead of a conflict.
    r = await create_org(api, ann, name=f"Acme Widgets {tag}!")
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == f"acme-widgets-{tag}-2"


async def test_short_name_still_gets_a_valid_slug(api: Api) -> None:
    ann = await api.signup()
    r = await create_org(api, ann, name="X")
    assert r.status_code == 201, r.text
    slug = r.json()["slug"]
    assert 3 <= len(slug) <= 50 and slug.startswith("x")


async def test_duplicate_slug_is_409(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    slug = unique_slug()
    assert (await create_org(api, ann, slug=slug)).status_code == 201
    r = await create_org(api, bob, slug=slug)
    assert r.status_code == 409, r.text
    assert error_code(r) == "slug_taken"
    assert (await api.client.get(ORGS, headers=bob.headers)).json()["items"] == []


async def test_name_length(api: Api) -> None:
    ann = await api.signup()
    for bad in ["", "   ", "n" * 101]:
        r = await create_org(api, ann, name=bad, slug=unique_slug())
        assert fields(r) == ["body.name"], bad
    r = await create_org(api, ann, name="n" * 100, slug=unique_slug())
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "n" * 100


async def test_unknown_field_is_422(api: Api) -> None:
    ann = await api.signup()
    r = await create_org(api, ann, slug=unique_slug(), subscription_tier="ENTERPRISE")
    assert fields(r) == ["body.subscription_tier"]


async def test_update_name_and_slug(api: Api) -> None:
    ann = await api.signup()
    org = await api.organization(ann)
    other = await api.organization(ann)
    new_slug = unique_slug("renamed")
    r = await api.client.patch(
        f"{ORGS}/{org['id']}", json={"name": "Renamed", "slug": new_slug}, headers=ann.headers
    )
    assert r.status_code == 200, r.text
    got = (await api.client.get(f"{ORGS}/{org['id']}", headers=ann.headers)).json()
    assert got["name"] == "Renamed" and got["slug"] == new_slug

    r = await api.client.patch(
        f"{ORGS}/{org['id']}", json={"slug": other["slug"]}, headers=ann.headers
    )
    assert r.status_code == 409, r.text
    assert error_code(r) == "slug_taken"
    r = await api.client.patch(f"{ORGS}/{org['id']}", json={"slug": "NO"}, headers=ann.headers)
    assert fields(r) == ["body.slug"]


# --- visibility ---------------------------------------------------------------------------


async def test_list_shows_only_my_organizations(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    mine = await api.organization(ann)
    theirs = await api.organization(bob)

    r = await api.client.get(ORGS, headers=ann.headers)
    assert r.status_code == 200, r.text
    assert [(o["id"], o["role"]) for o in r.json()["items"]] == [(mine["id"], "OWNER")]

    await api.add_member(bob, theirs["id"], ann, "VIEWER")
    listed = (await api.client.get(ORGS, headers=ann.headers)).json()["items"]
    assert {o["id"]: o["role"] for o in listed} == {mine["id"]: "OWNER", theirs["id"]: "VIEWER"}


async def test_non_member_gets_404(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)
    base = f"{ORGS}/{org['id']}"
    for method, url, body in [
        ("GET", base, None),
        ("PATCH", base, {"name": "Mine now"}),
        ("DELETE", base, None),
        ("GET", f"{base}/members", None),
        ("POST", f"{base}/members", {"email": bob.email}),
        ("PATCH", f"{base}/members/{ann.id}", {"role": "VIEWER"}),
        ("DELETE", f"{base}/members/{ann.id}", None),
    ]:
        r = await api.client.request(method, url, json=body, headers=bob.headers)
        assert r.status_code == 404, (method, url, r.text)
        assert error_code(r) == "organization_not_found"
    r = await api.client.get(f"{ORGS}/{uuid.uuid4()}", headers=ann.headers)
    assert r.status_code == 404 and error_code(r) == "organization_not_found"
    got = (await api.client.get(base, headers=ann.headers)).json()
    assert got["name"] == org["name"]
    assert await members(api, ann, org["id"]) == {ann.id: "OWNER"}


# --- members ------------------------------------------------------------------------------


async def test_add_member_by_email(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)

    r = await api.client.post(
        f"{ORGS}/{org['id']}/members",
        json={"email": bob.email.upper(), "role": "ADMIN"},
        headers=ann.headers,
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["user_id"] == bob.id and out["email"] == bob.email
    assert out["name"] == "Bob" and out["role"] == "ADMIN"
    assert out["organization_id"] == org["id"]
    assert await members(api, ann, org["id"]) == {ann.id: "OWNER", bob.id: "ADMIN"}
    # Bob now sees it too, with his role.
    got = await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers)
    assert got.status_code == 200 and got.json()["role"] == "ADMIN"

    r = await api.client.post(
        f"{ORGS}/{org['id']}/members", json={"email": bob.email}, headers=ann.headers
    )
    assert r.status_code == 409, r.text
    assert error_code(r) == "already_member"


async def test_default_member_role_is_member(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)
    r = await api.client.post(
        f"{ORGS}/{org['id']}/members", json={"email": bob.email}, headers=ann.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "MEMBER"


async def test_add_unknown_email_or_bad_role_is_422(api: Api) -> None:
    ann = await api.signup()
    org = await api.organization(ann)
    url = f"{ORGS}/{org['id']}/members"
    r = await api.client.post(url, json={"email": unique_email("nobody")}, headers=ann.headers)
    assert fields(r) == ["body.email"]
    r = await api.client.post(url, json={"email": "not-an-email"}, headers=ann.headers)
    assert fields(r) == ["body.email"]
    r = await api.client.post(url, json={"email": ann.email, "role": "KING"}, headers=ann.headers)
    assert fields(r) == ["body.role"]
    assert await members(api, ann, org["id"]) == {ann.id: "OWNER"}


async def test_members_and_viewers_cannot_manage_members(api: Api) -> None:
    ann = await api.signup("Ann")
    mem = await api.signup("Mem")
    viewer = await api.signup("Vic")
    newcomer = await api.signup("New")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], mem, "MEMBER")
    await api.add_member(ann, org["id"], viewer, "VIEWER")

    for actor in (mem, viewer):
        r = await api.client.post(
            f"{ORGS}/{org['id']}/members", json={"email": newcomer.email}, headers=actor.headers
        )
        assert r.status_code == 403, r.text
        assert error_code(r) == "forbidden"
        r = await set_role(api, actor, org["id"], actor, "ADMIN")
        assert r.status_code == 403, r.text
        r = await api.client.patch(
            f"{ORGS}/{org['id']}", json={"name": "Taken over"}, headers=actor.headers
        )
        assert r.status_code == 403, r.text
    r = await remove(api, mem, org["id"], viewer)
    assert r.status_code == 403, r.text

    # Everybody can still read the member list; nothing changed.
    expected = {ann.id: "OWNER", mem.id: "MEMBER", viewer.id: "VIEWER"}
    assert await members(api, viewer, org["id"]) == expected
    got = (await api.client.get(f"{ORGS}/{org['id']}", headers=ann.headers)).json()
    assert got["name"] == org["name"]


async def test_only_an_owner_can_make_owners(api: Api) -> None:
    ann = await api.signup("Ann")
    adm = await api.signup("Adm")
    bob = await api.signup("Bob")
    cat = await api.signup("Cat")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], adm, "ADMIN")
    await api.add_member(adm, org["id"], bob, "MEMBER")  # an admin can add members

    r = await api.client.post(
        f"{ORGS}/{org['id']}/members",
        json={"email": cat.email, "role": "OWNER"},
        headers=adm.headers,
    )
    assert r.status_code == 403, r.text
    assert (await set_role(api, adm, org["id"], bob, "OWNER")).status_code == 403
    assert (await set_role(api, adm, org["id"], adm, "OWNER")).status_code == 403
    # An admin cannot demote or remove the owner either.
    assert (await set_role(api, adm, org["id"], ann, "MEMBER")).status_code == 403
    assert (await remove(api, adm, org["id"], ann)).status_code == 403
    assert await members(api, ann, org["id"]) == {
        ann.id: "OWNER",
        adm.id: "ADMIN",
        bob.id: "MEMBER",
    }

    r = await set_role(api, ann, org["id"], bob, "OWNER")
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "OWNER"
    await api.add_member(ann, org["id"], cat, "OWNER")
    roles = await members(api, ann, org["id"])
    assert roles[bob.id] == "OWNER" and roles[cat.id] == "OWNER"


async def test_change_role_and_remove_member(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], bob, "VIEWER")

    r = await set_role(api, ann, org["id"], bob, "MEMBER")
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "MEMBER" and r.json()["user_id"] == bob.id
    assert (await members(api, ann, org["id"]))[bob.id] == "MEMBER"
    r = await set_role(api, ann, org["id"], bob, "nope")
    assert fields(r) == ["body.role"]

    r = await remove(api, ann, org["id"], bob)
    assert r.status_code == 204, r.text
    assert await members(api, ann, org["id"]) == {ann.id: "OWNER"}
    r = await api.client.get(f"{ORGS}/{org['id']}", headers=bob.headers)
    assert r.status_code == 404 and error_code(r) == "organization_not_found"

    # The same member cannot be removed or changed twice.
    r = await remove(api, ann, org["id"], bob)
    assert r.status_code == 404 and error_code(r) == "member_not_found"
    r = await set_role(api, ann, org["id"], bob, "ADMIN")
    assert r.status_code == 404 and error_code(r) == "member_not_found"


async def test_member_can_leave(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], bob, "VIEWER")

    r = await remove(api, bob, org["id"], bob)
    assert r.status_code == 204, r.text
    assert await members(api, ann, org["id"]) == {ann.id: "OWNER"}
    assert (await api.client.get(ORGS, headers=bob.headers)).json()["items"] == []


async def test_last_owner_cannot_leave_or_be_demoted(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], bob, "ADMIN")

    r = await remove(api, ann, org["id"], ann)
    assert r.status_code == 409, r.text
    assert error_code(r) == "last_owner"
    r = await set_role(api, ann, org["id"], ann, "ADMIN")
    assert r.status_code == 409, r.text
    assert error_code(r) == "last_owner"
    assert (await members(api, ann, org["id"]))[ann.id] == "OWNER"

    # With a second owner, the first may step down and then leave.
    assert (await set_role(api, ann, org["id"], bob, "OWNER")).status_code == 200
    r = await set_role(api, ann, org["id"], ann, "ADMIN")
    assert r.status_code == 200, r.text
    assert await members(api, bob, org["id"]) == {ann.id: "ADMIN", bob.id: "OWNER"}
    # Bob is now the only owner: the same rule protects him.
    r = await remove(api, bob, org["id"], bob)
    assert r.status_code == 409 and error_code(r) == "last_owner"
    r = await remove(api, ann, org["id"], ann)
    assert r.status_code == 204, r.text
    assert await members(api, bob, org["id"]) == {bob.id: "OWNER"}


async def test_owner_can_leave_when_another_owner_remains(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], bob, "OWNER")
    r = await remove(api, ann, org["id"], ann)
    assert r.status_code == 204, r.text
    assert await members(api, bob, org["id"]) == {bob.id: "OWNER"}


async def test_members_list_is_paginated(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    cat = await api.signup("Cat")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], bob, "MEMBER")
    await api.add_member(ann, org["id"], cat, "VIEWER")
    url = f"{ORGS}/{org['id']}/members"

    first = (await api.client.get(url, params={"limit": 2}, headers=ann.headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    r = await api.client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ann.headers
    )
    assert r.status_code == 200, r.text
    second = r.json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    ids = [m["user_id"] for m in first["items"] + second["items"]]
    assert ids == [cat.id, bob.id, ann.id]  # newest first

    r = await api.client.get(url, params={"cursor": "nonsense"}, headers=ann.headers)
    assert fields(r) == ["query.cursor"]


async def test_delete_organization(api: Api) -> None:
    ann = await api.signup("Ann")
    adm = await api.signup("Adm")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], adm, "ADMIN")

    r = await api.client.delete(f"{ORGS}/{org['id']}", headers=adm.headers)
    assert r.status_code == 403, r.text
    assert (await api.client.get(f"{ORGS}/{org['id']}", headers=adm.headers)).status_code == 200

    r = await api.client.delete(f"{ORGS}/{org['id']}", headers=ann.headers)
    assert r.status_code == 204, r.text
    for who in (ann, adm):
        r = await api.client.get(f"{ORGS}/{org['id']}", headers=who.headers)
        assert r.status_code == 404 and error_code(r) == "organization_not_found"
        assert (await api.client.get(ORGS, headers=who.headers)).json()["items"] == []
    # The slug is free again.
    r = await create_org(api, ann, slug=org["slug"])
    assert r.status_code == 201, r.text
