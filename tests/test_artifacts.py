"""Artifacts: versions, activation, listing, lineage, duplication, deletion, roles."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from atelier.artifacts.models import ArtifactVersion, GeneratedBy
from tests.factories import Account, Api, error_code

pytestmark = pytest.mark.anyio

API = "/api/v1"


def field_names(r: Any) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation_error"
    return [e["field"] for e in r.json()["detail"]]


async def owner_project(api: Api) -> tuple[Account, dict[str, Any]]:
    who = await api.signup()
    return who, await api.project(who)


async def get(api: Api, who: Account, url: str) -> Any:
    r = await api.client.get(url, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def patch(api: Api, who: Account, art_id: str, body: dict[str, Any]) -> Any:
    r = await api.client.patch(f"{API}/artifacts/{art_id}", json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def versions_of(api: Api, who: Account, art_id: str) -> list[dict[str, Any]]:
    body = await get(api, who, f"{API}/artifacts/{art_id}/versions")
    assert body["next_cursor"] is None
    return list(body["items"])


# --- create -------------------------------------------------------------------------------


async def test_create_without_output_has_no_versions(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], input_data={"q": "why"})
    assert art["latest_version"] == 0
    assert art["active_version"] is None
    assert art["output_data"] is None
    assert art["input_data"] == {"q": "why"}
    assert (art["status"], art["derivation"], art["parent_id"]) == ("draft", "created", None)
    assert art["user_id"] == who.id and art["project_id"] == project["id"]
    assert await versions_of(api, who, art["id"]) == []
    fetched = await get(api, who, f"{API}/artifacts/{art['id']}")
    assert fetched["latest_version"] == 0 and fetched["active_version"] is None


async def test_create_with_output_makes_active_human_version_1(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"jobs": ["ship"]})
    assert (art["latest_version"], art["active_version"]) == (1, 1)
    assert art["output_data"] == {"jobs": ["ship"]}
    [v1] = await versions_of(api, who, art["id"])
    assert v1["version"] == 1 and v1["is_active"] is True
    assert (v1["format"], v1["generated_by"]) == ("json", "human")
    assert v1["created_by_id"] == who.id and v1["artifact_id"] == art["id"]
    assert orjson.loads(v1["content"]) == {"jobs": ["ship"]}


async def test_invalid_type_key_is_422_naming_body_type(api: Api) -> None:
    who, project = await owner_project(api)
    url = f"{API}/projects/{project['id']}/artifacts"
    for bad in ("Bad Type", "", "9lives", "x" * 65, "dash-ed"):
        r = await api.client.post(url, json={"type": bad, "name": "A"}, headers=who.headers)
        assert field_names(r) == ["body.type"], bad
    r = await api.client.post(url, json={"type": "lean_canvas2", "name": "A"}, headers=who.headers)
    assert r.status_code == 201, r.text


# --- edit and versions --------------------------------------------------------------------


async def test_patch_output_creates_new_active_human_version(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"v": 1})

    out = await patch(api, who, art["id"], {"output_data": {"v": 2}})
    assert (out["latest_version"], out["active_version"]) == (2, 2)
    assert out["output_data"] == {"v": 2}
    out = await patch(api, who, art["id"], {"output_data": {"v": 3}})
    assert (out["latest_version"], out["active_version"]) == (3, 3)

    items = await versions_of(api, who, art["id"])
    assert [(v["version"], v["is_active"]) for v in items] == [(3, True), (2, False), (1, False)]
    assert {v["generated_by"] for v in items} == {"human"}
    assert [orjson.loads(v["content"]) for v in items] == [{"v": 3}, {"v": 2}, {"v": 1}]
    fetched = await get(api, who, f"{API}/artifacts/{art['id']}")
    assert fetched["output_data"] == {"v": 3} and fetched["active_version"] == 3


async def test_first_output_on_an_empty_artifact_is_version_1(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"])
    out = await patch(api, who, art["id"], {"output_data": {"first": True}})
    assert (out["latest_version"], out["active_version"]) == (1, 1)
    assert [v["version"] for v in await versions_of(api, who, art["id"])] == [1]


async def test_patch_without_output_change_makes_no_version(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"same": True})
    out = await patch(api, who, art["id"], {"output_data": {"same": True}})
    assert (out["latest_version"], out["active_version"]) == (1, 1)
    out = await patch(api, who, art["id"], {"name": "Renamed"})
    assert (out["latest_version"], out["active_version"]) == (1, 1)
    assert out["output_data"] == {"same": True}
    out = await patch(api, who, art["id"], {})
    assert (out["latest_version"], out["active_version"]) == (1, 1)
    assert len(await versions_of(api, who, art["id"])) == 1


async def test_patch_name_status_input_are_persisted(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"o": 1})
    out = await patch(
        api,
        who,
        art["id"],
        {"name": "  Final  ", "status": "published", "input_data": {"q": "new"}},
    )
    assert (out["name"], out["status"], out["input_data"]) == ("Final", "published", {"q": "new"})
    fetched = await get(api, who, f"{API}/artifacts/{art['id']}")
    assert (fetched["name"], fetched["status"]) == ("Final", "published")
    assert fetched["input_data"] == {"q": "new"}
    assert fetched["output_data"] == {"o": 1} and fetched["latest_version"] == 1
    assert fetched["updated_at"] >= art["updated_at"]


async def test_patch_null_or_invalid_values_are_422(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], input_data={"keep": 1}, output_data={"o": 1})
    url = f"{API}/artifacts/{art['id']}"
    for body, field in (
        ({"input_data": None}, "body.input_data"),
        ({"name": None}, "body.name"),
        ({"status": None}, "body.status"),
        ({"status": "archived"}, "body.status"),
        ({"name": ""}, "body.name"),
    ):
        r = await api.client.patch(url, json=body, headers=who.headers)
        assert field_names(r) == [field], body
    fetched = await get(api, who, url)
    assert fetched["input_data"] == {"keep": 1}
    assert (fetched["name"], fetched["status"]) == (art["name"], "draft")


async def test_versions_newest_first_with_cursor_pagination(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"n": 1})
    for n in range(2, 6):
        await patch(api, who, art["id"], {"output_data": {"n": n}})

    pages: list[list[int]] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(
            f"{API}/artifacts/{art['id']}/versions", params=params, headers=who.headers
        )
        assert r.status_code == 200, r.text
        pages.append([v["version"] for v in r.json()["items"]])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10
    assert pages == [[5, 4], [3, 2], [1]]


async def test_get_one_version_and_missing_version(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"n": 1})
    await patch(api, who, art["id"], {"output_data": {"n": 2}})

    v1 = await get(api, who, f"{API}/artifacts/{art['id']}/versions/1")
    assert (v1["version"], v1["is_active"], v1["artifact_id"]) == (1, False, art["id"])
    assert orjson.loads(v1["content"]) == {"n": 1}
    v2 = await get(api, who, f"{API}/artifacts/{art['id']}/versions/2")
    assert v2["is_active"] is True and orjson.loads(v2["content"]) == {"n": 2}

    for n in (3, 99):
        r = await api.client.get(f"{API}/artifacts/{art['id']}/versions/{n}", headers=who.headers)
        assert r.status_code == 404 and error_code(r) == "version_not_found"
        r = await api.client.post(
            f"{API}/artifacts/{art['id']}/versions/{n}/activate", headers=who.headers
        )
        assert r.status_code == 404 and error_code(r) == "version_not_found"
    # Another artifact's version numbers are not this one's.
    empty = await api.artifact(who, project["id"])
    r = await api.client.get(f"{API}/artifacts/{empty['id']}/versions/1", headers=who.headers)
    assert r.status_code == 404 and error_code(r) == "version_not_found"


async def test_activate_old_version_restores_its_output(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"n": 1})
    await patch(api, who, art["id"], {"output_data": {"n": 2}})
    await patch(api, who, art["id"], {"output_data": {"n": 3}})

    r = await api.client.post(
        f"{API}/artifacts/{art['id']}/versions/1/activate", headers=who.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.json()["is_active"] is True

    fetched = await get(api, who, f"{API}/artifacts/{art['id']}")
    assert fetched["output_data"] == {"n": 1}
    assert (fetched["latest_version"], fetched["active_version"]) == (3, 1)
    items = await versions_of(api, who, art["id"])
    assert [v["version"] for v in items if v["is_active"]] == [1]
    assert len(items) == 3

    # Activating the active one again changes nothing; a new edit becomes version 4.
    r = await api.client.post(
        f"{API}/artifacts/{art['id']}/versions/1/activate", headers=who.headers
    )
    assert r.status_code == 200 and r.json()["is_active"] is True
    out = await patch(api, who, art["id"], {"output_data": {"n": 4}})
    assert (out["latest_version"], out["active_version"]) == (4, 4)
    items = await versions_of(api, who, art["id"])
    assert [v["version"] for v in items if v["is_active"]] == [4]

    # Going back to 1 and then editing to v1's own content is "no change".
    await api.client.post(f"{API}/artifacts/{art['id']}/versions/1/activate", headers=who.headers)
    out = await patch(api, who, art["id"], {"output_data": {"n": 1}})
    assert (out["latest_version"], out["active_version"]) == (4, 1)


# --- listing ------------------------------------------------------------------------------


async def test_list_filters_by_type_and_status_and_paginates(api: Api) -> None:
    who, project = await owner_project(api)
    pid = project["id"]
    made = []
    for i in range(5):
        made.append(await api.artifact(who, pid, type="lean_canvas", name=f"L{i}"))
    vp = await api.artifact(who, pid, type="notes", status="published")
    other_project = await api.project(who, name="Other")
    await api.artifact(who, other_project["id"], type="lean_canvas")
    url = f"{API}/projects/{pid}/artifacts"

    body = await get(api, who, url)
    assert [a["id"] for a in body["items"]] == [vp["id"]] + [a["id"] for a in reversed(made)]

    r = await api.client.get(url, params={"type": "notes"}, headers=who.headers)
    assert [a["id"] for a in r.json()["items"]] == [vp["id"]]
    r = await api.client.get(url, params={"status": "published"}, headers=who.headers)
    assert [a["id"] for a in r.json()["items"]] == [vp["id"]]
    r = await api.client.get(
        url, params={"type": "lean_canvas", "status": "published"}, headers=who.headers
    )
    assert r.json()["items"] == []
    r = await api.client.get(url, params={"status": "nonsense"}, headers=who.headers)
    assert field_names(r) == ["query.status"]

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"type": "lean_canvas", "limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(url, params=params, headers=who.headers)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) <= 2
        seen += [a["id"] for a in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [a["id"] for a in reversed(made)]


async def test_list_shows_active_version(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"n": 1})
    await patch(api, who, art["id"], {"output_data": {"n": 2}})
    await api.client.post(f"{API}/artifacts/{art['id']}/versions/1/activate", headers=who.headers)
    [item] = (await get(api, who, f"{API}/projects/{project['id']}/artifacts"))["items"]
    assert (item["latest_version"], item["active_version"]) == (2, 1)
    assert item["output_data"] == {"n": 1}


# --- lineage ------------------------------------------------------------------------------


async def test_create_with_parent_and_derivation(api: Api) -> None:
    who, project = await owner_project(api)
    parent = await api.artifact(who, project["id"], output_data={"p": 1})
    child = await api.artifact(
        who, project["id"], parent_id=parent["id"], derivation="continued", name="Next"
    )
    assert (child["parent_id"], child["derivation"]) == (parent["id"], "continued")
    fetched = await get(api, who, f"{API}/artifacts/{child['id']}")
    assert (fetched["parent_id"], fetched["derivation"]) == (parent["id"], "continued")


async def test_parent_and_derivation_must_come_together(api: Api) -> None:
    who, project = await owner_project(api)
    parent = await api.artifact(who, project["id"])
    url = f"{API}/projects/{project['id']}/artifacts"
    base = {"type": "notes", "name": "X"}

    r = await api.client.post(url, json={**base, "parent_id": parent["id"]}, headers=who.headers)
    assert field_names(r) == ["body.derivation"]
    r = await api.client.post(
        url,
        json={**base, "parent_id": parent["id"], "derivation": "created"},
        headers=who.headers,
    )
    assert field_names(r) == ["body.derivation"]
    r = await api.client.post(url, json={**base, "derivation": "continued"}, headers=who.headers)
    assert field_names(r) == ["body.parent_id"]
    r = await api.client.post(url, json={**base, "derivation": "bogus"}, headers=who.headers)
    assert field_names(r) == ["body.derivation"]
    r = await api.client.post(
        url,
        json={**base, "parent_id": str(uuid.uuid4()), "derivation": "continued"},
        headers=who.headers,
    )
    assert field_names(r) == ["body.parent_id"]
    r = await api.client.post(url, json={**base, "parent_id": "nope"}, headers=who.headers)
    assert r.status_code == 422 and "body.parent_id" in field_names(r)
    assert [a["id"] for a in (await get(api, who, url))["items"]] == [parent["id"]]


async def test_parent_from_another_project_or_deleted_is_refused(api: Api) -> None:
    who, project = await owner_project(api)
    elsewhere = await api.project(who, name="Elsewhere")
    foreign = await api.artifact(who, elsewhere["id"])
    url = f"{API}/projects/{project['id']}/artifacts"
    body = {"type": "notes", "name": "X", "derivation": "continued"}
    r = await api.client.post(url, json={**body, "parent_id": foreign["id"]}, headers=who.headers)
    assert field_names(r) == ["body.parent_id"]

    gone = await api.artifact(who, project["id"])
    r = await api.client.delete(f"{API}/artifacts/{gone['id']}", headers=who.headers)
    assert r.status_code == 204
    r = await api.client.post(url, json={**body, "parent_id": gone["id"]}, headers=who.headers)
    assert field_names(r) == ["body.parent_id"]


async def test_duplicate_copies_content_and_records_lineage(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(
        who,
        project["id"],
        name="Plan",
        input_data={"i": 1},
        output_data={"o": 1},
    )
    await patch(api, who, art["id"], {"output_data": {"o": 2}})
    await api.client.post(f"{API}/artifacts/{art['id']}/versions/1/activate", headers=who.headers)
    await patch(api, who, art["id"], {"status": "published"})  # a copy starts as a draft

    r = await api.client.post(f"{API}/artifacts/{art['id']}/duplicate", headers=who.headers)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["id"] != art["id"]
    assert copy["name"] == "Plan (copy)"
    assert (copy["parent_id"], copy["derivation"]) == (art["id"], "duplicated")
    assert copy["status"] == "draft" and copy["type"] == art["type"]
    assert copy["input_data"] == {"i": 1}
    # The copy takes the *active* output (version 1), as its own version 1.
    assert copy["output_data"] == {"o": 1}
    assert (copy["latest_version"], copy["active_version"]) == (1, 1)
    [v] = await versions_of(api, who, copy["id"])
    assert orjson.loads(v["content"]) == {"o": 1} and v["is_active"]

    r = await api.client.post(
        f"{API}/artifacts/{art['id']}/duplicate", json={"name": "Fork"}, headers=who.headers
    )
    assert r.status_code == 201 and r.json()["name"] == "Fork"
    r = await api.client.post(
        f"{API}/artifacts/{art['id']}/duplicate", json={"colour": "red"}, headers=who.headers
    )
    assert field_names(r) == ["body.colour"]

    # Editing the copy leaves the original alone.
    await patch(api, who, copy["id"], {"output_data": {"o": "copy"}, "input_data": {"i": 2}})
    original = await get(api, who, f"{API}/artifacts/{art['id']}")
    assert original["output_data"] == {"o": 1} and original["input_data"] == {"i": 1}
    assert (original["latest_version"], original["active_version"]) == (2, 1)


async def test_duplicate_of_empty_artifact_has_no_versions(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"])
    r = await api.client.post(f"{API}/artifacts/{art['id']}/duplicate", headers=who.headers)
    assert r.status_code == 201, r.text
    assert (r.json()["latest_version"], r.json()["active_version"]) == (0, None)
    assert r.json()["output_data"] is None


async def test_history_of_grandchild_is_oldest_first_with_versions(api: Api) -> None:
    who, project = await owner_project(api)
    root = await api.artifact(who, project["id"], output_data={"g": 0})
    await patch(api, who, root["id"], {"output_data": {"g": 1}})
    child = await api.artifact(
        who, project["id"], parent_id=root["id"], derivation="edited_inputs", output_data={"c": 1}
    )
    r = await api.client.post(f"{API}/artifacts/{child['id']}/duplicate", headers=who.headers)
    grandchild = r.json()
    await patch(api, who, grandchild["id"], {"output_data": {"gc": 2}})
    await patch(api, who, grandchild["id"], {"output_data": {"gc": 3}})

    chain = (await get(api, who, f"{API}/artifacts/{grandchild['id']}/history"))["items"]
    assert [n["id"] for n in chain] == [root["id"], child["id"], grandchild["id"]]
    assert [n["derivation"] for n in chain] == ["created", "edited_inputs", "duplicated"]
    assert [[v["version"] for v in n["versions"]] for n in chain] == [[1, 2], [1], [1, 2, 3]]
    assert [n["active_version"] for n in chain] == [2, 1, 3]
    assert [[v["is_active"] for v in n["versions"]] for n in chain][2] == [False, False, True]
    assert all(n["deleted_at"] is None for n in chain)

    assert [n["depth"] for n in chain] == [0, 1, 2]
    # The root's history is the same tree, seen from the root.
    tree = await get(api, who, f"{API}/artifacts/{root['id']}/history")
    assert [n["id"] for n in tree["items"]] == [root["id"], child["id"], grandchild["id"]]
    assert (tree["root_id"], tree["current_id"]) == (root["id"], root["id"])


async def test_history_is_the_whole_tree_not_only_the_chain(api: Api) -> None:
    """root ─┬─ a ── a1
    └─ b        (and a1's history shows b, its parent's sibling, too)"""
    who, project = await owner_project(api)
    pid = project["id"]
    root = await api.artifact(who, pid, output_data={"r": 1})
    a = await api.artifact(who, pid, parent_id=root["id"], derivation="continued")
    b = await api.artifact(who, pid, parent_id=root["id"], derivation="merged")
    a1 = await api.artifact(who, pid, parent_id=a["id"], derivation="edited_inputs")
    unrelated = await api.artifact(who, pid)
    await api.client.delete(f"{API}/artifacts/{b['id']}", headers=who.headers)

    tree = await get(api, who, f"{API}/models/{a1['id']}/history")
    assert (tree["root_id"], tree["current_id"]) == (root["id"], a1["id"])
    nodes = {n["id"]: n for n in tree["items"]}
    assert [n["id"] for n in tree["items"]] == [root["id"], a["id"], a1["id"], b["id"]]
    assert unrelated["id"] not in nodes
    assert nodes[root["id"]]["children"] == [a["id"], b["id"]]
    assert nodes[a["id"]]["children"] == [a1["id"]] and nodes[b["id"]]["children"] == []
    assert [nodes[k]["depth"] for k in (root["id"], a["id"], a1["id"], b["id"])] == [0, 1, 2, 1]
    assert [nodes[k]["derivation"] for k in (a["id"], b["id"], a1["id"])] == [
        "continued",
        "merged",
        "edited_inputs",
    ]
    assert nodes[b["id"]]["deleted_at"] is not None  # shown, so the tree stays whole
    assert nodes[root["id"]]["status"] == "draft"
    assert [v["version"] for v in nodes[root["id"]]["versions"]] == [1]


# --- delete -------------------------------------------------------------------------------


async def test_delete_hides_artifact(api: Api) -> None:
    who, project = await owner_project(api)
    keep = await api.artifact(who, project["id"], name="Keep")
    gone = await api.artifact(who, project["id"], name="Gone", output_data={"x": 1})
    r = await api.client.delete(f"{API}/artifacts/{gone['id']}", headers=who.headers)
    assert r.status_code == 204 and r.content == b""

    for method, suffix in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("GET", "/versions"),
        ("GET", "/versions/1"),
        ("POST", "/versions/1/activate"),
        ("POST", "/duplicate"),
        ("GET", "/history"),
    ):
        r = await api.client.request(
            method, f"{API}/artifacts/{gone['id']}{suffix}", json={}, headers=who.headers
        )
        assert r.status_code == 404, (method, suffix, r.text)
        assert error_code(r) == "artifact_not_found"
    items = (await get(api, who, f"{API}/projects/{project['id']}/artifacts"))["items"]
    assert [a["id"] for a in items] == [keep["id"]]


async def test_artifact_in_deleted_project_is_404(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"x": 1})
    r = await api.client.delete(f"{API}/projects/{project['id']}", headers=who.headers)
    assert r.status_code == 204
    for method, url in (
        ("GET", f"{API}/artifacts/{art['id']}"),
        ("PATCH", f"{API}/artifacts/{art['id']}"),
        ("GET", f"{API}/models/{art['id']}/versions"),
        ("GET", f"{API}/projects/{project['id']}/artifacts"),
        ("POST", f"{API}/projects/{project['id']}/artifacts"),
    ):
        body = {"type": "notes", "name": "x"} if method == "POST" else {}
        r = await api.client.request(method, url, json=body, headers=who.headers)
        assert r.status_code == 404, (method, url, r.text)

    r = await api.client.post(f"{API}/projects/{project['id']}/restore", headers=who.headers)
    assert r.status_code == 200, r.text
    fetched = await get(api, who, f"{API}/artifacts/{art['id']}")
    assert fetched["output_data"] == {"x": 1}


# --- the /models alias --------------------------------------------------------------------


async def test_every_artifact_route_has_a_models_twin(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    artifact_paths = {p: set(ops) for p, ops in paths.items() if p.startswith(f"{API}/artifacts")}
    assert len(artifact_paths) >= 5
    for path, methods in artifact_paths.items():
        twin = path.replace(f"{API}/artifacts", f"{API}/models", 1)
        assert twin in paths, twin
        assert set(paths[twin]) == methods, twin


async def test_models_alias_answers_the_same(api: Api) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"n": 1})
    a, m = f"{API}/artifacts/{art['id']}", f"{API}/models/{art['id']}"

    r = await api.client.patch(m, json={"output_data": {"n": 2}, "name": "M"}, headers=who.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["latest_version"], r.json()["name"]) == (2, "M")
    for suffix in ("", "/versions", "/versions/1", "/versions/2", "/history"):
        assert await get(api, who, a + suffix) == await get(api, who, m + suffix), suffix

    r = await api.client.post(f"{m}/versions/1/activate", headers=who.headers)
    assert r.status_code == 200 and r.json()["version"] == 1
    assert (await get(api, who, a))["output_data"] == {"n": 1}

    r = await api.client.post(f"{m}/duplicate", json={"name": "Via models"}, headers=who.headers)
    assert r.status_code == 201 and r.json()["parent_id"] == art["id"]
    copy_id = r.json()["id"]
    assert (await get(api, who, f"{API}/artifacts/{copy_id}"))["name"] == "Via models"

    r = await api.client.get(f"{m}/versions/9", headers=who.headers)
    assert r.status_code == 404 and error_code(r) == "version_not_found"
    r = await api.client.delete(m, headers=who.headers)
    assert r.status_code == 204
    for url in (a, m):
        r = await api.client.get(url, headers=who.headers)
        assert r.status_code == 404 and error_code(r) == "artifact_not_found"


# --- roles --------------------------------------------------------------------------------


async def test_org_viewer_reads_but_cannot_write_member_can(api: Api) -> None:
    owner = await api.signup("Owner")
    viewer = await api.signup("Viewer")
    member = await api.signup("Member")
    org = await api.organization(owner)
    await api.add_member(owner, org["id"], viewer, "VIEWER")
    await api.add_member(owner, org["id"], member, "MEMBER")
    project = await api.project(owner, organization_id=org["id"])
    art = await api.artifact(owner, project["id"], output_data={"n": 1})
    await patch(api, owner, art["id"], {"output_data": {"n": 2}})
    url = f"{API}/artifacts/{art['id']}"

    for suffix in ("", "/versions", "/versions/1", "/history"):
        await get(api, viewer, url + suffix)
    await get(api, viewer, f"{API}/projects/{project['id']}/artifacts")

    for method, target, body in (
        ("PATCH", url, {"output_data": {"n": "viewer"}}),
        ("PATCH", url, {"name": "viewer"}),
        ("DELETE", url, None),
        ("POST", f"{url}/duplicate", None),
        ("POST", f"{url}/versions/1/activate", None),
        ("POST", f"{API}/projects/{project['id']}/artifacts", {"type": "x", "name": "v"}),
    ):
        kwargs: dict[str, Any] = {"headers": viewer.headers}
        if body is not None:
            kwargs["json"] = body
        r = await api.client.request(method, target, **kwargs)
        assert r.status_code == 403, (method, target, r.text)
        assert error_code(r) == "forbidden"
    unchanged = await get(api, owner, url)
    assert unchanged["output_data"] == {"n": 2} and unchanged["name"] == art["name"]
    assert (unchanged["latest_version"], unchanged["active_version"]) == (2, 2)
    assert len((await get(api, owner, f"{API}/projects/{project['id']}/artifacts"))["items"]) == 1

    out = await patch(api, member, art["id"], {"output_data": {"n": "member"}})
    assert (out["latest_version"], out["active_version"]) == (3, 3)
    [v3, *_] = await versions_of(api, owner, art["id"])
    assert v3["created_by_id"] == member.id
    r = await api.client.post(f"{url}/versions/1/activate", headers=member.headers)
    assert r.status_code == 200, r.text
    r = await api.client.post(f"{url}/duplicate", headers=member.headers)
    assert r.status_code == 201, r.text
    assert r.json()["user_id"] == member.id
    await api.artifact(member, project["id"], name="By member")
    r = await api.client.delete(f"{API}/artifacts/{r.json()['id']}", headers=member.headers)
    assert r.status_code == 204


# --- database-level guarantees ------------------------------------------------------------


async def test_database_refuses_a_second_active_version(api: Api, app: FastAPI) -> None:
    who, project = await owner_project(api)
    art = await api.artifact(who, project["id"], output_data={"n": 1})
    art_id = uuid.UUID(art["id"])
    maker = app.state.sessionmaker

    def version(number: int, *, active: bool) -> ArtifactVersion:
        return ArtifactVersion(
            artifact_id=art_id,
            version=number,
            content="{}",
            generated_by=GeneratedBy.HUMAN,
            is_active=active,
        )

    async with maker() as session:
        session.add(version(2, active=True))
        with pytest.raises(IntegrityError):
            await session.commit()

    # The index is about *active* rows only: an inactive extra version is fine...
    async with maker() as session:
        session.add(version(7, active=False))
        await session.commit()
    # ...but a duplicate number is not.
    async with maker() as session:
        session.add(version(1, active=False))
        with pytest.raises(IntegrityError):
            await session.commit()

    async with maker() as session:
        rows = (
            await session.execute(
                select(ArtifactVersion.version, ArtifactVersion.is_active)
                .where(ArtifactVersion.artifact_id == art_id)
                .order_by(ArtifactVersion.version)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(1, True), (7, False)]
