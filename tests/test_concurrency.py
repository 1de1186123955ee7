"""Concurrent writes: version numbers stay unique and gapless, one version stays active.

The requests really overlap: they go through one client into the app on one event
loop, and each holds its own database connection while it waits on the others.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from tests.factories import Account, Api

pytestmark = pytest.mark.anyio

API = "/api/v1"
EDITS = 20


async def all_versions(api: Api, who: Account, art_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(
            f"{API}/artifacts/{art_id}/versions", params=params, headers=who.headers
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def test_concurrent_edits_get_unique_gapless_versions(api: Api) -> None:
    who = await api.signup()
    project = await api.project(who)
    art = await api.artifact(who, project["id"], output_data={"edit": 0})

    async def edit(i: int) -> Any:
        return await api.client.patch(
            f"{API}/artifacts/{art['id']}",
            json={"output_data": {"edit": i + 1}},
            headers=who.headers,
        )

    responses = await asyncio.gather(*(edit(i) for i in range(EDITS)))
    failures = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200]
    assert not failures, failures
    # Each edit was told the number it got, and no two got the same one.
    assert sorted(r.json()["latest_version"] for r in responses) == list(range(2, EDITS + 2))

    versions = await all_versions(api, who, art["id"])
    numbers = [v["version"] for v in versions]
    assert numbers == list(range(EDITS + 1, 0, -1))
    active = [v for v in versions if v["is_active"]]
    assert len(active) == 1

    r = await api.client.get(f"{API}/artifacts/{art['id']}", headers=who.headers)
    final = r.json()
    assert final["latest_version"] == EDITS + 1
    assert final["active_version"] == active[0]["version"]
    assert final["output_data"] == orjson.loads(active[0]["content"])
    # Every edit's content is kept, each in exactly one version.
    contents = sorted(orjson.loads(v["content"])["edit"] for v in versions)
    assert contents == list(range(EDITS + 1))


async def test_concurrent_edits_and_activations_keep_one_active(api: Api) -> None:
    who = await api.signup()
    project = await api.project(who)
    art = await api.artifact(who, project["id"], output_data={"edit": 0})
    url = f"{API}/artifacts/{art['id']}"

    async def edit(i: int) -> Any:
        return await api.client.patch(
            url, json={"output_data": {"edit": i + 1}}, headers=who.headers
        )

    async def activate_first() -> Any:
        return await api.client.post(f"{url}/versions/1/activate", headers=who.headers)

    jobs = [edit(i) if i % 2 == 0 else activate_first() for i in range(EDITS)]
    responses = await asyncio.gather(*jobs)
    failures = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200]
    assert not failures, failures
    for i, r in enumerate(responses):
        if i % 2 == 0:  # each edit answers with the version it made, active, and its output
            assert r.json()["output_data"] == {"edit": i + 1}
            assert r.json()["active_version"] == r.json()["latest_version"]
        else:
            assert (r.json()["version"], r.json()["is_active"]) == (1, True)

    versions = await all_versions(api, who, art["id"])
    assert [v["version"] for v in versions] == list(range(EDITS // 2 + 1, 0, -1))
    active = [v for v in versions if v["is_active"]]
    assert len(active) == 1
    final = (await api.client.get(url, headers=who.headers)).json()
    assert final["active_version"] == active[0]["version"]
    assert final["output_data"] == orjson.loads(active[0]["content"])


async def test_concurrent_creates_into_one_project(api: Api) -> None:
    who = await api.signup()
    project = await api.project(who)

    async def create(i: int) -> Any:
        return await api.client.post(
            f"{API}/projects/{project['id']}/artifacts",
            json={"type": "notes", "name": f"A{i}", "output_data": {"i": i}},
            headers=who.headers,
        )

    responses = await asyncio.gather(*(create(i) for i in range(EDITS)))
    failures = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 201]
    assert not failures, failures
    assert all(r.json()["latest_version"] == 1 for r in responses)

    r = await api.client.get(
        f"{API}/projects/{project['id']}/artifacts",
        params={"limit": "100"},
        headers=who.headers,
    )
    items = r.json()["items"]
    assert sorted(a["name"] for a in items) == sorted(f"A{i}" for i in range(EDITS))
    assert len({a["id"] for a in items}) == EDITS
    assert all(a["active_version"] == 1 for a in items)
    assert all(a["output_data"] == {"i": int(a["name"][1:])} for a in items)


async def test_concurrent_duplicates_of_one_artifact(api: Api) -> None:
    who = await api.signup()
    project = await api.project(who)
    art = await api.artifact(who, project["id"], output_data={"src": True})

    responses = await asyncio.gather(
        *(
            api.client.post(f"{API}/artifacts/{art['id']}/duplicate", headers=who.headers)
            for _ in range(10)
        )
    )
    failures = [(r.status_code, r.text[:300]) for r in responses if r.status_code != 201]
    assert not failures, failures
    assert len({r.json()["id"] for r in responses}) == 10
    assert all(r.json()["output_data"] == {"src": True} for r in responses)
