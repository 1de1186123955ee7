"""Templates: the built-ins, projects made from them, saving your own, isolation."""

from __future__ import annotations

import pytest

from atelier.packs.sdp.templates import BUILT_IN_TEMPLATES
from tests.factories import Api, error_code
from tests.sdp.helpers import API, sdp_project, stage_url, stages

pytestmark = pytest.mark.anyio


async def test_the_built_in_templates_are_listed(api: Api) -> None:
    me = await api.signup()
    r = await api.client.get(f"{API}/templates", headers=me.headers)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [t["name"] for t in items[:6]] == [
        "SaaS Dashboard", "REST API", "Landing page", "Mobile app", "CLI tool", "Full-stack app",
    ]  # fmt: skip
    assert [t["category"] for t in items[:6]] == [
        "saas", "api", "landing", "mobile", "cli", "fullstack",
    ]  # fmt: skip
    assert all(t["is_built_in"] and t["icon"] and t["description"] for t in items[:6])
    r = await api.client.get(f"{API}/templates", params={"category": "cli"}, headers=me.headers)
    assert [t["name"] for t in r.json()["items"]] == ["CLI tool"]
    r = await api.client.get(f"{API}/templates", params={"category": "toys"}, headers=me.headers)
    assert r.status_code == 422


async def test_a_project_from_a_template_starts_with_its_defaults(api: Api) -> None:
    me = await api.signup()
    r = await api.client.get(f"{API}/templates", headers=me.headers)
    saas = next(t for t in r.json()["items"] if t["name"] == "SaaS Dashboard")
    project = await api.project(me, name="Metrics", template_id=saas["id"])
    assert project["pack"] == "sdp" and project["template_id"] == saas["id"]
    spec = next(t for t in BUILT_IN_TEMPLATES if t.name == "SaaS Dashboard")
    items = await stages(api, me, project)
    for stage in items[:8]:
        assert stage["user_input"] == spec.stage_defaults[stage["name"]]["userInput"]
    assert items[8]["user_input"] is None


async def test_an_unknown_template_is_a_field_error(api: Api) -> None:
    me = await api.signup()
    r = await api.client.post(
        f"{API}/projects",
        json={"name": "x", "template_id": "00000000-0000-0000-0000-000000000001"},
        headers=me.headers,
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["detail"]] == ["body.template_id"]


async def test_save_as_template_is_private_to_its_owner(api: Api) -> None:
    owner, other = await api.signup(), await api.signup()
    project = await sdp_project(api, owner)
    await api.client.patch(
        stage_url(project, 2), json={"user_input": "Orders and invoices"}, headers=owner.headers
    )
    r = await api.client.post(
        f"{API}/projects/{project['id']}/save-as-template",
        json={"name": "My shop", "category": "fullstack", "icon": "store"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["is_built_in"] is False
    assert mine["stage_defaults"] == {"dataModel": {"userInput": "Orders and invoices"}}
    r = await api.client.get(f"{API}/templates", headers=owner.headers)
    assert mine["id"] in [t["id"] for t in r.json()["items"]]

    # The other user neither lists, reads, uses nor deletes it.
    r = await api.client.get(f"{API}/templates", headers=other.headers)
    assert mine["id"] not in [t["id"] for t in r.json()["items"]]
    r = await api.client.get(f"{API}/templates/{mine['id']}", headers=other.headers)
    assert r.status_code == 404 and error_code(r) == "template_not_found"
    r = await api.client.delete(f"{API}/templates/{mine['id']}", headers=other.headers)
    assert r.status_code == 404
    r = await api.client.post(
        f"{API}/projects", json={"name": "x", "template_id": mine["id"]}, headers=other.headers
    )
    assert r.status_code == 422
    r = await api.client.post(
        f"{API}/projects/{project['id']}/save-as-template",
        json={"name": "Stolen"},
        headers=other.headers,
    )
    assert r.status_code == 404

    # Its owner starts a project from it, then deletes it.
    r = await api.client.post(
        f"{API}/projects", json={"name": "Shop 2", "template_id": mine["id"]}, headers=owner.headers
    )
    assert r.status_code == 201
    assert (await stages(api, owner, r.json()))[1]["user_input"] == "Orders and invoices"
    r = await api.client.delete(f"{API}/templates/{mine['id']}", headers=owner.headers)
    assert r.status_code == 204
    r = await api.client.get(f"{API}/templates/{mine['id']}", headers=owner.headers)
    assert r.status_code == 404


async def test_built_in_templates_cannot_be_deleted(api: Api) -> None:
    me = await api.signup()
    r = await api.client.get(f"{API}/templates", headers=me.headers)
    first = r.json()["items"][0]
    r = await api.client.delete(f"{API}/templates/{first['id']}", headers=me.headers)
    assert r.status_code == 409 and error_code(r) == "template_built_in"


async def test_only_pipeline_projects_become_templates(api: Api) -> None:
    me = await api.signup()
    project = await api.project(me)
    r = await api.client.post(
        f"{API}/projects/{project['id']}/save-as-template", json={"name": "x"}, headers=me.headers
    )
    assert r.status_code == 409 and error_code(r) == "no_stages"
