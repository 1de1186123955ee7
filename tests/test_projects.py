"""Projects: defaults, slugs, updates, listing, soft delete, and organization sharing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import Response

from tests.factories import Account, Api, error_code

pytestmark = pytest.mark.anyio

API = "/api/v1"
PROJECTS = f"{API}/projects"


def fields(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [e["field"] for e in response.json()["detail"]]


async def get(api: Api, who: Account, project_id: str) -> Response:
    return await api.client.get(f"{PROJECTS}/{project_id}", headers=who.headers)


async def patch(api: Api, who: Account, project_id: str, **body: Any) -> Response:
    return await api.client.patch(f"{PROJECTS}/{project_id}", json=body, headers=who.headers)


async def delete(api: Api, who: Account, project_id: str) -> Response:
    return await api.client.delete(f"{PROJECTS}/{project_id}", headers=who.headers)


async def listed(api: Api, who: Account, **params: Any) -> list[str]:
    """Ids of every project `who` can list with these filters (all pages)."""
    ids: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(PROJECTS, params=query, headers=who.headers)
        assert r.status_code == 200, r.text
        ids += [p["id"] for p in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return ids


# --- create -------------------------------------------------------------------------------


async def test_create_with_defaults(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.post(PROJECTS, json={"name": "Launch"}, headers=ann.headers)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["name"] == "Launch" and p["slug"] == "launch"
    assert p["owner_id"] == ann.id and p["organization_id"] is None
    assert (p["pack"], p["phase"], p["status"]) == ("general", "discover", "active")
    assert p["metadata"] == {} and p["description"] is None
    assert p["deleted_at"] is None and p["current_stage"] is None

    got = await get(api, ann, p["id"])
    assert got.status_code == 200, got.text
    assert got.json() == p


async def test_create_with_every_field(api: Api) -> None:
    ann = await api.signup()
    p = await api.project(
        ann,
        name="Full",
        description="All of it",
        pack="general",
        phase="deliver",
        status="completed",
        current_stage=3,
        metadata={"color": "red", "tags": ["a", "b"]},
    )
    got = (await get(api, ann, p["id"])).json()
    assert got["description"] == "All of it"
    assert (got["pack"], got["phase"], got["status"]) == ("general", "deliver", "completed")
    assert got["current_stage"] == 3
    assert got["metadata"] == {"color": "red", "tags": ["a", "b"]}


async def test_slug_is_unique_per_owner(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    first = await api.project(ann, name="My Plan")
    second = await api.project(ann, name="My Plan")
    third = await api.project(ann, name="my plan!")
    assert [first["slug"], second["slug"], third["slug"]] == ["my-plan", "my-plan-2", "my-plan-3"]
    assert (await api.project(bob, name="My Plan"))["slug"] == "my-plan"
    # A name that merely starts with the same words keeps its own slug.
    assert (await api.project(ann, name="My Planet"))["slug"] == "my-planet"


async def test_create_validation(api: Api) -> None:
    ann = await api.signup()
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"name": "x" * 201}, "body.name"),
        ({"name": "x", "pack": "nope"}, "body.pack"),
        ({"name": "x", "phase": "later"}, "body.phase"),
        ({"name": "x", "status": "ACTIVE"}, "body.status"),
        ({"name": "x", "current_stage": 0}, "body.current_stage"),
        ({"name": "x", "metadata": [1, 2]}, "body.metadata"),
        ({"name": "x", "owner_id": ann.id}, "body.owner_id"),
    ]
    for body, field in cases:
        r = await api.client.post(PROJECTS, json=body, headers=ann.headers)
        assert fields(r) == [field], body
    assert await listed(api, ann) == []


# --- read and update ----------------------------------------------------------------------


async def test_patch_fields_and_read_back(api: Api) -> None:
    ann = await api.signup()
    p = await api.project(ann, name="Before", metadata={"keep": False})
    r = await patch(
        api,
        ann,
        p["id"],
        name="After",
        description="Now described",
        phase="develop",
        status="archived",
        metadata={"keep": True},
    )
    assert r.status_code == 200, r.text
    got = (await get(api, ann, p["id"])).json()
    assert got["name"] == "After" and got["description"] == "Now described"
    assert got["phase"] == "develop" and got["status"] == "archived"
    assert got["metadata"] == {"keep": True}
    assert got["slug"] == p["slug"]  # renaming does not move the project
    assert got["updated_at"] >= p["updated_at"]

    # Only what is sent changes; description may be cleared.
    r = await patch(api, ann, p["id"], description=None)
    assert r.status_code == 200, r.text
    got = (await get(api, ann, p["id"])).json()
    assert got["description"] is None and got["name"] == "After" and got["phase"] == "develop"


@pytest.mark.parametrize("field", ["name", "phase", "status"])
async def test_patch_required_field_to_null_is_422(api: Api, field: str) -> None:
    ann = await api.signup()
    p = await api.project(ann, name="Keep")
    r = await patch(api, ann, p["id"], **{field: None})
    assert fields(r) == [f"body.{field}"]
    got = (await get(api, ann, p["id"])).json()
    assert got["name"] == "Keep" and got["phase"] == "discover" and got["status"] == "active"


async def test_patch_validation(api: Api) -> None:
    ann = await api.signup()
    p = await api.project(ann)
    for body, field in [
        ({"phase": "someday"}, "body.phase"),
        ({"status": "gone"}, "body.status"),
        ({"name": ""}, "body.name"),
        ({"pack": "strategy"}, "body.pack"),  # the pack is chosen at creation only
        ({"slug": "other"}, "body.slug"),
    ]:
        r = await patch(api, ann, p["id"], **body)
        assert fields(r) == [field], body
    assert (await get(api, ann, p["id"])).json() == p


async def test_unknown_or_malformed_id_is_404(api: Api) -> None:
    ann = await api.signup()
    r = await get(api, ann, str(uuid.uuid4()))
    assert r.status_code == 404 and error_code(r) == "project_not_found"
    r = await get(api, ann, "not-a-uuid")
    assert r.status_code == 404 and error_code(r) == "invalid_id"


async def test_requires_authentication(api: Api) -> None:
    assert (await api.client.get(PROJECTS)).status_code == 401
    assert (await api.client.post(PROJECTS, json={"name": "x"})).status_code == 401


# --- list ---------------------------------------------------------------------------------


async def test_list_filters(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    a = await api.project(ann, name="Launch PLAN", pack="strategy", phase="define")
    b = await api.project(ann, name="Roadmap", pack="strategy", status="completed")
    c = await api.project(ann, name="Side plan", pack="sdp", phase="define", status="archived")
    await api.project(bob, name="Bob's plan", pack="strategy")

    assert await listed(api, ann) == [c["id"], b["id"], a["id"]]
    assert await listed(api, ann, pack="strategy") == [b["id"], a["id"]]
    assert await listed(api, ann, status="completed") == [b["id"]]
    assert await listed(api, ann, status="active") == [a["id"]]
    assert await listed(api, ann, phase="define") == [c["id"], a["id"]]
    assert await listed(api, ann, pack="strategy", phase="define") == [a["id"]]
    assert await listed(api, ann, q="plan") == [c["id"], a["id"]]
    assert await listed(api, ann, q="ROAD") == [b["id"]]
    assert await listed(api, ann, q="nothing like it") == []
    assert await listed(api, ann, pack="general") == []

    r = await api.client.get(PROJECTS, params={"pack": "nope"}, headers=ann.headers)
    assert fields(r) == ["query.pack"]
    r = await api.client.get(PROJECTS, params={"phase": "nope"}, headers=ann.headers)
    assert fields(r) == ["query.phase"]


async def test_search_matches_wildcard_characters_literally(api: Api) -> None:
    ann = await api.signup()
    under = await api.project(ann, name="snake_case")
    await api.project(ann, name="snakeXcase")
    pct = await api.project(ann, name="100% done")
    await api.project(ann, name="1000 done")
    back = await api.project(ann, name="back\\slash")
    assert await listed(api, ann, q="e_c") == [under["id"]]
    assert await listed(api, ann, q="0%") == [pct["id"]]
    assert await listed(api, ann, q="k\\s") == [back["id"]]
    assert len(await listed(api, ann, q="%")) == 1


async def test_search_query_length_is_limited(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.get(PROJECTS, params={"q": "x" * 201}, headers=ann.headers)
    assert fields(r) == ["query.q"]


async def test_cursor_pagination(api: Api) -> None:
    ann = await api.signup()
    made = [(await api.project(ann, name=f"P{i}"))["id"] for i in range(5)]

    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await api.client.get(PROJECTS, params=params, headers=ann.headers)
        assert r.status_code == 200, r.text
        pages.append([p["id"] for p in r.json()["items"]])
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
        assert len(pages) < 10, "pagination does not end"

    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [i for page in pages for i in page]
    assert len(set(flat)) == 5
    assert flat == list(reversed(made))

    r = await api.client.get(PROJECTS, params={"cursor": "%%%"}, headers=ann.headers)
    assert fields(r) == ["query.cursor"]


# --- soft delete --------------------------------------------------------------------------


async def test_soft_delete_and_restore(api: Api) -> None:
    ann = await api.signup()
    keep = await api.project(ann, name="Keep")
    gone = await api.project(ann, name="Gone")

    r = await delete(api, ann, gone["id"])
    assert r.status_code == 204, r.text
    r = await get(api, ann, gone["id"])
    assert r.status_code == 404 and error_code(r) == "project_not_found"
    r = await patch(api, ann, gone["id"], name="Zombie")
    assert r.status_code == 404
    assert await listed(api, ann) == [keep["id"]]

    r = await api.client.get(PROJECTS, params={"deleted": "true"}, headers=ann.headers)
    assert r.status_code == 200, r.text
    trash = r.json()["items"]
    assert [p["id"] for p in trash] == [gone["id"]]
    assert trash[0]["deleted_at"] is not None
    # Deleting again: it is already gone.
    assert (await delete(api, ann, gone["id"])).status_code == 404

    r = await api.client.post(f"{PROJECTS}/{gone['id']}/restore", headers=ann.headers)
    assert r.status_code == 200, r.text
    assert r.json()["deleted_at"] is None and r.json()["name"] == "Gone"
    got = await get(api, ann, gone["id"])
    assert got.status_code == 200 and got.json()["deleted_at"] is None
    assert await listed(api, ann) == [gone["id"], keep["id"]]
    assert await listed(api, ann, deleted="true") == []


async def test_restore_of_a_live_project_is_409(api: Api) -> None:
    ann = await api.signup()
    p = await api.project(ann)
    r = await api.client.post(f"{PROJECTS}/{p['id']}/restore", headers=ann.headers)
    assert r.status_code == 409, r.text
    assert error_code(r) == "not_deleted"


async def test_other_users_cannot_see_delete_or_restore(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    p = await api.project(ann, name="Private")
    for r in [
        await get(api, bob, p["id"]),
        await patch(api, bob, p["id"], name="Mine"),
        await delete(api, bob, p["id"]),
    ]:
        assert r.status_code == 404, r.text
        assert error_code(r) == "project_not_found"
    assert await listed(api, bob) == []

    assert (await delete(api, ann, p["id"])).status_code == 204
    r = await api.client.post(f"{PROJECTS}/{p['id']}/restore", headers=bob.headers)
    assert r.status_code == 404, r.text
    assert await listed(api, bob, deleted="true") == []
    assert await listed(api, ann, deleted="true") == [p["id"]]


# --- organizations ------------------------------------------------------------------------


async def test_organization_roles_on_shared_projects(api: Api) -> None:
    owner = await api.signup("Owner")
    admin = await api.signup("Admin")
    member = await api.signup("Member")
    viewer = await api.signup("Viewer")
    outsider = await api.signup("Outsider")
    org = await api.organization(owner)
    for who, role in [(admin, "ADMIN"), (member, "MEMBER"), (viewer, "VIEWER")]:
        await api.add_member(owner, org["id"], who, role)

    p = await api.project(member, name="Shared", organization_id=org["id"])
    assert p["organization_id"] == org["id"] and p["owner_id"] == member.id
    other = await api.project(owner, name="Also shared", organization_id=org["id"])

    # Every member sees both; the outsider sees neither.
    for who in (owner, admin, member, viewer):
        assert set(await listed(api, who, organization_id=org["id"])) == {p["id"], other["id"]}
        assert (await get(api, who, other["id"])).status_code == 200
    assert await listed(api, outsider) == []
    for r in [
        await get(api, outsider, other["id"]),
        await patch(api, outsider, other["id"], name="Hijacked"),
        await delete(api, outsider, other["id"]),
    ]:
        assert r.status_code == 404, r.text
        assert error_code(r) == "project_not_found"

    # VIEWER: read only.
    r = await patch(api, viewer, other["id"], name="Viewer was here")
    assert r.status_code == 403, r.text
    assert error_code(r) == "forbidden"
    r = await api.client.post(
        f"{PROJECTS}/{other['id']}/artifacts",
        json={"type": "notes", "name": "VP", "input_data": {}},
        headers=viewer.headers,
    )
    assert r.status_code == 403, r.text
    assert (await delete(api, viewer, other["id"])).status_code == 403

    # MEMBER: may edit, may not delete someone else's project.
    r = await patch(api, member, other["id"], phase="define")
    assert r.status_code == 200, r.text
    r = await delete(api, member, other["id"])
    assert r.status_code == 403, r.text
    # ...nor move it out of the organization.
    r = await patch(api, member, other["id"], organization_id=None)
    assert r.status_code == 403, r.text

    got = (await get(api, owner, other["id"])).json()
    assert got["name"] == "Also shared" and got["phase"] == "define"
    assert got["organization_id"] == org["id"] and got["deleted_at"] is None

    # ADMIN: may delete and restore.
    r = await delete(api, admin, other["id"])
    assert r.status_code == 204, r.text
    assert (await get(api, owner, other["id"])).status_code == 404
    r = await api.client.post(f"{PROJECTS}/{other['id']}/restore", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert (await get(api, viewer, other["id"])).status_code == 200


async def test_creating_in_an_organization_needs_a_writing_role(api: Api) -> None:
    owner = await api.signup("Owner")
    viewer = await api.signup("Viewer")
    outsider = await api.signup("Outsider")
    org = await api.organization(owner)
    await api.add_member(owner, org["id"], viewer, "VIEWER")

    body = {"name": "Sneaky", "organization_id": org["id"]}
    r = await api.client.post(PROJECTS, json=body, headers=outsider.headers)
    assert fields(r) == ["body.organization_id"]
    r = await api.client.post(
        PROJECTS, json={**body, "organization_id": str(uuid.uuid4())}, headers=outsider.headers
    )
    assert fields(r) == ["body.organization_id"]
    r = await api.client.post(PROJECTS, json=body, headers=viewer.headers)
    assert r.status_code == 403, r.text
    assert error_code(r) == "forbidden"

    assert await listed(api, owner, organization_id=org["id"]) == []
    assert await listed(api, outsider) == [] and await listed(api, viewer) == []


async def test_owner_can_move_a_project_into_an_organization(api: Api) -> None:
    ann = await api.signup("Ann")
    bob = await api.signup("Bob")
    org = await api.organization(ann)
    await api.add_member(ann, org["id"], bob, "VIEWER")
    p = await api.project(ann, name="Solo")
    assert (await get(api, bob, p["id"])).status_code == 404

    r = await patch(api, ann, p["id"], organization_id=org["id"])
    assert r.status_code == 200, r.text
    assert (await get(api, bob, p["id"])).json()["organization_id"] == org["id"]

    r = await patch(api, ann, p["id"], organization_id=None)
    assert r.status_code == 200, r.text
    assert (await get(api, bob, p["id"])).status_code == 404

    foreign = await api.organization(bob)
    r = await patch(api, ann, p["id"], organization_id=foreign["id"])
    assert fields(r) == ["body.organization_id"]


async def test_a_pack_that_is_not_installed_is_refused(api: Api) -> None:
    """The pack is any installed pack's key (GET /packs), checked against the registry."""
    ann = await api.signup()
    r = await api.client.post(
        PROJECTS, json={"name": "X", "pack": "techledger"}, headers=ann.headers
    )
    assert r.status_code == 422
    assert fields(r) == ["body.pack"]
    assert "unknown pack 'techledger'" in r.json()["detail"][0]["message"]
    r = await api.client.get(PROJECTS, params={"pack": "techledger"}, headers=ann.headers)
    assert fields(r) == ["query.pack"]

    listed = (await api.client.get(f"{API}/packs", headers=ann.headers)).json()["items"]
    keys = [p["key"] for p in listed]
    assert {"general", "strategy", "sdp"} <= set(keys)
    sdp = next(p for p in listed if p["key"] == "sdp")
    assert [s["number"] for s in sdp["stages"]] == list(range(1, 10))
    assert next(p for p in listed if p["key"] == "general")["stages"] == []
    assert (await api.client.get(f"{API}/packs")).status_code == 401
