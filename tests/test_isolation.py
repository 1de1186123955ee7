"""Tenant isolation: a stranger walks every route of the API with someone else's ids.

User A makes one of everything; user B (signed up separately, in none of A's
organizations) then calls every route in the OpenAPI document, for every method,
with A's ids in the path. Every such call must answer 404: never 2xx (a leak or a
write) and never 403 (which would confirm that the object exists). Routes are found
from `app.openapi()`, so a new route is walked without touching this file, and a new
path parameter name fails the walk until the substitution table below learns it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from tests.factories import BRIEF_INPUT, Account, Api

pytestmark = pytest.mark.anyio

API = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
PARAM = re.compile(r"\{([^}]+)\}")
# Routes that take no object id of another user: B acts on themself or on a collection.
NO_FOREIGN_ID = re.compile(rf"^{API}/(auth/.*|me)$")
# The admin console: to B, who is no administrator, every one of its routes is the 404 of
# an unknown path (the walk below checks those taking ids; tests/admin all of them).
ADMIN_ONLY = re.compile(rf"^{API}/admin/")
SECRET = "only-A-may-read-this"
A_OUTPUT = {"secret": SECRET, "n": 2}

# Bodies for the writes a stranger would most like to pull off. Anything not listed is
# built from the OpenAPI schema's required fields, so new routes need no entry here.
ATTACK_BODIES: dict[tuple[str, str], Any] = {
    # B tries to make themself an owner of A's organization.
    ("post", "/organizations/{org_id}/members"): lambda w: {"email": w.b.email, "role": "OWNER"},
    ("patch", "/projects/{project_id}"): {"name": "taken over", "organization_id": None},
    ("post", "/projects/{project_id}/artifacts"): {
        "type": "notes",
        "name": "planted",
        "output_data": {"planted": True},
    },
    ("patch", "/artifacts/{artifact_id}"): {"name": "defaced", "output_data": {"defaced": True}},
    ("patch", "/models/{artifact_id}"): {"name": "defaced", "output_data": {"defaced": True}},
    ("post", "/artifacts/{artifact_id}/duplicate"): {"name": "stolen copy"},
    ("post", "/models/{artifact_id}/duplicate"): {"name": "stolen copy"},
    ("patch", "/organizations/{org_id}"): {"name": "Taken over"},
    ("patch", "/organizations/{org_id}/members/{user_id}"): {"role": "VIEWER"},
    ("patch", "/ai-providers/{provider_id}"): {"label": "pwned", "api_key": "sk-evil-000000"},
    ("patch", "/conversations/{conversation_id}"): {"title": "taken over", "is_active": False},
    ("post", "/conversations/{conversation_id}/messages"): {"content": "planted"},
}
# Path parameters that name shared, public things (not tenant data).
PUBLIC_PARAMS = {"tool_key"}


@dataclass
class World:
    a: Account
    b: Account
    org: dict[str, Any]
    project: dict[str, Any]
    artifact: dict[str, Any]
    copy: dict[str, Any]
    key_id: str
    api_key: str
    provider_id: str
    job_id: str
    brief_id: str
    export_id: str = ""
    template_id: str = ""
    token_id: str = ""
    upload_id: str = ""
    conversation_id: str = ""

    @property
    def a_ids(self) -> list[str]:
        return [
            self.org["id"],
            self.project["id"],
            self.artifact["id"],
            self.copy["id"],
            self.key_id,
            self.provider_id,
            self.job_id,
            self.export_id,
            self.template_id,
            *([self.token_id] if self.token_id else []),
            self.upload_id,
            self.conversation_id,
        ]


async def build_world(api: Api) -> World:
    a = await api.signup("Alice")
    b = await api.signup("Bob")
    org = await api.organization(a, "Alice Inc")
    project = await api.project(a, name="Alice private plan")
    artifact = await api.artifact(a, project["id"], output_data={"secret": "v1"})
    r = await api.client.patch(
        f"{API}/artifacts/{artifact['id']}", json={"output_data": A_OUTPUT}, headers=a.headers
    )
    assert r.status_code == 200, r.text
    artifact = r.json()
    assert artifact["latest_version"] == 2 and artifact["active_version"] == 2
    r = await api.client.post(f"{API}/artifacts/{artifact['id']}/duplicate", headers=a.headers)
    assert r.status_code == 201, r.text
    copy = r.json()
    provider = await api.provider(a, label="Alice's key", api_key="sk-alice-" + SECRET)
    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "B", "input_data": BRIEF_INPUT, "generate": True},
        headers=a.headers,
    )
    assert r.status_code == 201, r.text
    job_id, brief_id = r.json()["job"]["id"], r.json()["id"]
    sdp = await _sdp_objects(api, a)
    r = await api.client.post(
        f"{API}/uploads",
        files={"file": ("secret.txt", SECRET.encode(), "text/plain")},
        data={"project_id": project["id"]},
        headers=a.headers,
    )
    assert r.status_code == 201, r.text
    upload_id = r.json()["id"]
    r = await api.client.post(
        f"{API}/conversations",
        json={"title": "Alice's chat", "project_id": project["id"], "system_prompt": SECRET},
        headers=a.headers,
    )
    assert r.status_code == 201, r.text
    conversation_id = r.json()["id"]
    r = await api.client.post(f"{API}/api-keys", json={"label": "ci"}, headers=a.headers)
    assert r.status_code == 201, r.text
    return World(
        upload_id=upload_id,
        conversation_id=conversation_id,
        **sdp,
        a=a,
        b=b,
        org=org,
        project=project,
        artifact=artifact,
        copy=copy,
        key_id=r.json()["id"],
        api_key=r.json()["key"],
        provider_id=provider["id"],
        job_id=job_id,
        brief_id=brief_id,
    )


async def _sdp_objects(api: Api, a: Account) -> dict[str, str]:
    """A's software design project's export, a template saved from it, an MCP token."""
    sdp = await api.project(a, name="Alice design", pack="sdp")
    r = await api.client.patch(
        f"{API}/projects/{sdp['id']}/stages/1",
        json={"user_input": "Alice's secret product"},
        headers=a.headers,
    )
    assert r.status_code == 200, r.text
    r = await api.client.post(f"{API}/projects/{sdp['id']}/exports", headers=a.headers)
    assert r.status_code == 201, r.text
    export_id = r.json()["id"]
    r = await api.client.post(
        f"{API}/projects/{sdp['id']}/save-as-template", json={"name": "Alice's"}, headers=a.headers
    )
    assert r.status_code == 201, r.text
    template_id = r.json()["id"]
    r = await api.client.post(
        f"{API}/projects/{sdp['id']}/mcp-tokens", json={"label": "agent"}, headers=a.headers
    )
    token_id = r.json()["id"] if r.status_code == 201 else ""
    return {"export_id": export_id, "template_id": template_id, "token_id": token_id}


# --- request bodies from the OpenAPI document -------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _string(schema: dict[str, Any], name: str, world: World) -> str:
    fmt = schema.get("format")
    if fmt == "email":
        return world.b.email  # e.g. B trying to add themself to A's organization
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return "2099-01-01T00:00:00Z"
    pattern = schema.get("pattern")
    candidates = ["walker", "walker-1", "walker_1", name.lower(), "abc"]
    for candidate in candidates:
        if pattern is None or re.fullmatch(pattern, candidate):
            return candidate
    pytest.fail(f"no sample string for field {name!r} matching {pattern!r}: add one")


def sample(spec: dict[str, Any], schema: dict[str, Any], name: str, world: World) -> Any:
    """A minimal valid value: required fields only, first enum member, first non-null
    alternative."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [_resolve(spec, s) for s in schema[key]]
            options = [s for s in options if s.get("type") != "null"] or options
            return sample(spec, options[0], name, world)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: sample(spec, props[k], k, world) for k in schema.get("required", [])}
    if kind == "string":
        return _string(schema, name, world)
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind is None:
        return {}
    pytest.fail(f"cannot build a sample for {name!r} of type {kind!r}")


def request_body(
    spec: dict[str, Any], method: str, template: str, op: dict[str, Any], world: World
) -> Any:
    if "requestBody" not in op:
        return None
    key = (method, template.removeprefix(API))
    if key in ATTACK_BODIES:
        body = ATTACK_BODIES[key]
        return body(world) if callable(body) else body
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    return sample(spec, schema, "body", world)


# --- the walk -------------------------------------------------------------------------------


def substitutions(world: World, artifact_id: str, version: int) -> dict[str, str]:
    return {
        "project_id": world.project["id"],
        "artifact_id": artifact_id,
        "org_id": world.org["id"],
        "user_id": world.a.id,
        "key_id": world.key_id,
        "version": str(version),
        "provider_id": world.provider_id,
        "job_id": world.job_id,
        "tool_key": "brief",
        "number": "1",
        "export_id": world.export_id,
        "template_id": world.template_id,
        "token_id": world.token_id or str(uuid.uuid4()),
        "upload_id": world.upload_id,
        "conversation_id": world.conversation_id,
    }


def fill(template: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            pytest.fail(
                f"route {template} has path parameter {{{name}}} that the isolation walker "
                f"does not know: add it to substitutions() in {__name__}"
            )
        return values[name]

    return PARAM.sub(one, template)


def takes_foreign_id(path: str) -> bool:
    return bool(set(PARAM.findall(path)) - PUBLIC_PARAMS)


def routes(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in app.openapi()["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


async def walk(api: Api, app: FastAPI, world: World, values: dict[str, str]) -> int:
    spec = app.openapi()
    walked = 0
    failures: list[str] = []
    for method, template, op in routes(app):
        if not takes_foreign_id(template):
            continue  # collections, public things, the caller's own account: see below
        url = fill(template, values)
        body = request_body(spec, method, template, op, world)
        kwargs: dict[str, Any] = {"headers": world.b.headers}
        if body is not None:
            kwargs["json"] = body
        r = await api.client.request(method.upper(), url, **kwargs)
        walked += 1
        if r.status_code != 404:
            failures.append(f"{method.upper()} {url} -> {r.status_code} {r.text[:200]}")
            continue
        payload = r.json()
        if set(payload) != {"error", "detail"} or payload["error"] == "invalid_id":
            failures.append(f"{method.upper()} {url} -> 404 with odd body {payload}")
        if SECRET in r.text or world.a.email in r.text:
            failures.append(f"{method.upper()} {url} -> 404 that leaks A's data: {r.text}")
    assert not failures, "B reached A's objects:\n" + "\n".join(failures)
    return walked


async def test_stranger_gets_404_on_every_route_with_another_users_ids(
    api: Api, app: FastAPI
) -> None:
    world = await build_world(api)
    id_routes = [(m, p) for m, p, _ in routes(app) if takes_foreign_id(p)]
    # The walker must actually be walking the API, not an empty list.
    assert len(id_routes) >= 20, id_routes

    walked = 0
    for artifact_id, version in (
        (world.artifact["id"], 1),
        (world.artifact["id"], 2),
        (world.copy["id"], 1),
    ):
        walked += await walk(api, app, world, substitutions(world, artifact_id, version))
    assert walked == 3 * len(id_routes)

    await assert_untouched(api, world)


async def assert_untouched(api: Api, world: World) -> None:
    a = world.a.headers
    r = await api.client.get(f"{API}/artifacts/{world.artifact['id']}", headers=a)
    assert r.status_code == 200, r.text
    art = r.json()
    assert art["output_data"] == A_OUTPUT
    assert art["name"] == world.artifact["name"]
    assert (art["latest_version"], art["active_version"]) == (2, 2)
    r = await api.client.get(f"{API}/artifacts/{world.artifact['id']}/versions", headers=a)
    assert [(v["version"], v["is_active"]) for v in r.json()["items"]] == [(2, True), (1, False)]

    r = await api.client.get(f"{API}/artifacts/{world.copy['id']}", headers=a)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == world.copy["name"] and r.json()["latest_version"] == 1

    r = await api.client.get(f"{API}/uploads/{world.upload_id}/content", headers=a)
    assert r.status_code == 200 and r.text == SECRET

    r = await api.client.get(f"{API}/conversations/{world.conversation_id}", headers=a)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Alice's chat" and r.json()["is_active"] is True

    r = await api.client.get(f"{API}/projects/{world.project['id']}/artifacts", headers=a)
    assert sorted(x["id"] for x in r.json()["items"]) == sorted(
        [world.artifact["id"], world.copy["id"], world.brief_id]
    )

    r = await api.client.get(f"{API}/projects/{world.project['id']}", headers=a)
    assert r.status_code == 200, r.text
    assert r.json()["deleted_at"] is None
    assert r.json()["name"] == world.project["name"]
    assert r.json()["organization_id"] is None

    r = await api.client.get(f"{API}/organizations/{world.org['id']}", headers=a)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == world.org["name"] and r.json()["role"] == "OWNER"
    r = await api.client.get(f"{API}/organizations/{world.org['id']}/members", headers=a)
    assert [(m["user_id"], m["role"]) for m in r.json()["items"]] == [(world.a.id, "OWNER")]

    r = await api.client.get(f"{API}/ai-providers/{world.provider_id}", headers=a)
    assert r.status_code == 200 and r.json()["label"] == "Alice's key"
    r = await api.client.get(f"{API}/jobs/{world.job_id}", headers=a)
    assert r.status_code == 200 and r.json()["cancel_requested"] is False

    r = await api.client.get(f"{API}/me", headers={"Authorization": f"Bearer {world.api_key}"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == world.a.id

    # B's own session survived the walk (the walk proves nothing if B was logged out).
    r = await api.client.get(f"{API}/me", headers=world.b.headers)
    assert r.status_code == 200 and r.json()["id"] == world.b.id


async def test_collection_listings_show_a_stranger_nothing_of_another_user(
    api: Api, app: FastAPI
) -> None:
    world = await build_world(api)
    # B owns things too, so an empty listing is not what makes this pass.
    b_project = await api.project(world.b, name="Bob plan")
    b_org = await api.organization(world.b, "Bob Inc")

    listings = [
        p
        for m, p, _ in routes(app)
        if m == "get"
        and not PARAM.search(p)
        and not NO_FOREIGN_ID.match(p)
        and not ADMIN_ONLY.match(p)
    ]
    assert {f"{API}/projects", f"{API}/organizations", f"{API}/api-keys"} <= set(listings)
    extra_queries = {
        f"{API}/projects": [
            {"organization_id": world.org["id"]},
            {"deleted": "true"},
            {"q": "Alice"},
        ],
    }
    for path in listings:
        for params in [{}, *extra_queries.get(path, [])]:
            r = await api.client.get(path, params=params, headers=world.b.headers)
            assert r.status_code == 200, (path, params, r.text)
            for a_id in world.a_ids:
                assert a_id not in r.text, f"GET {path} {params} shows B the id {a_id}"
            assert SECRET not in r.text

    # The same listings do show A's objects to A, and B's to B.
    r = await api.client.get(f"{API}/projects", headers=world.a.headers)
    assert world.project["id"] in r.text
    r = await api.client.get(f"{API}/organizations", headers=world.a.headers)
    assert world.org["id"] in r.text
    r = await api.client.get(f"{API}/api-keys", headers=world.a.headers)
    assert world.key_id in r.text
    r = await api.client.get(f"{API}/projects", headers=world.b.headers)
    assert [p["id"] for p in r.json()["items"]] == [b_project["id"]]
    r = await api.client.get(f"{API}/organizations", headers=world.b.headers)
    assert [o["id"] for o in r.json()["items"]] == [b_org["id"]]


async def test_ids_in_request_bodies_cannot_reach_another_users_objects(api: Api) -> None:
    """Ids that travel in bodies are checked too: no filing into A's organization,
    no deriving from A's artifact."""
    world = await build_world(api)
    b = world.b.headers

    r = await api.client.post(
        f"{API}/projects", json={"name": "Sneak", "organization_id": world.org["id"]}, headers=b
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "body.organization_id"

    b_project = await api.project(world.b, name="Bob plan")
    r = await api.client.patch(
        f"{API}/projects/{b_project['id']}", json={"organization_id": world.org["id"]}, headers=b
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "body.organization_id"

    r = await api.client.post(
        f"{API}/projects/{b_project['id']}/artifacts",
        json={
            "type": "notes",
            "name": "Derived",
            "parent_id": world.artifact["id"],
            "derivation": "continued",
        },
        headers=b,
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "body.parent_id"
    assert SECRET not in r.text

    r = await api.client.get(
        f"{API}/organizations/{world.org['id']}/members", headers=world.a.headers
    )
    assert [m["user_id"] for m in r.json()["items"]] == [world.a.id]
    r = await api.client.get(f"{API}/projects", headers=world.a.headers)
    assert world.project["id"] in [p["id"] for p in r.json()["items"]]
    assert len(r.json()["items"]) == 2  # the plan and the design project: nothing planted


async def test_walker_refuses_an_unknown_path_parameter(api: Api) -> None:
    world = await build_world(api)
    with pytest.raises(pytest.fail.Exception, match="widget_id"):
        fill("/api/v1/widgets/{widget_id}", substitutions(world, world.artifact["id"], 1))
