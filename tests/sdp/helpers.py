"""Shared steps of the software-design-pipeline API tests."""

from __future__ import annotations

from typing import Any

from tests.factories import Account, Api
from tests.sdp.examples import OUTPUTS

API = "/api/v1"
NAMES = ("product", "dataModel", "database", "api", "stack", "design", "sections",
         "infrastructure", "export")  # fmt: skip


def stage_url(project: dict[str, Any], number: int, tail: str = "") -> str:
    return f"{API}/projects/{project['id']}/stages/{number}{tail}"


async def sdp_project(api: Api, who: Account, **fields: Any) -> dict[str, Any]:
    return await api.project(who, name=fields.pop("name", "Tasklane"), pack="sdp", **fields)


async def write_stage(api: Api, who: Account, project: dict[str, Any], number: int) -> None:
    """Give stage ``number`` its example output: written by hand, or compiled for the
    database and export stages."""
    name = NAMES[number - 1]
    if name in ("database", "export"):
        r = await api.client.post(
            stage_url(project, number, "/generate"), json={"ai": False}, headers=who.headers
        )
    else:
        r = await api.client.patch(
            stage_url(project, number), json={"data": OUTPUTS[name]}, headers=who.headers
        )
    assert r.status_code == 200, r.text


async def complete(api: Api, who: Account, project: dict[str, Any], number: int) -> dict[str, Any]:
    r = await api.client.post(stage_url(project, number, "/complete"), headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def run_through(api: Api, who: Account, project: dict[str, Any], last: int) -> None:
    """Stages 1..last written and completed, in order."""
    for number in range(1, last + 1):
        await write_stage(api, who, project, number)
        await complete(api, who, project, number)


async def stages(api: Api, who: Account, project: dict[str, Any]) -> list[dict[str, Any]]:
    r = await api.client.get(f"{API}/projects/{project['id']}/stages", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
