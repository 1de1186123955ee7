"""API-wide conventions: documentation, body limits, validation, ids, errors, paging."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from httpx import Response

from tests.factories import BRIEF_INPUT, Account, Api, admin

pytestmark = pytest.mark.anyio

API = "/api/v1"
MIB = 1024 * 1024
PARAM = re.compile(r"\{([^}]+)\}")


def assert_error(r: Response, status: int, code: str) -> Any:
    """The one error shape: exactly {"error": CODE, "detail": ...}, served as JSON."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == code, body
    return body["detail"]


def fields(r: Response) -> list[str]:
    detail = assert_error(r, 422, "validation_error")
    assert isinstance(detail, list) and detail, detail
    for item in detail:
        assert {"field", "message"} <= set(item), item
    return [item["field"] for item in detail]


async def owner_with_artifact(api: Api) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    who = await api.signup()
    project = await api.project(who)
    artifact = await api.artifact(who, project["id"], output_data={"x": 1})
    return who, project, artifact


# --- documentation ------------------------------------------------------------------------


async def test_docs_and_openapi_are_served(api: Api) -> None:
    r = await api.client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in r.text

    r = await api.client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["info"]["title"] == "Atelier"
    assert f"{API}/projects/{{project_id}}/artifacts" in spec["paths"]
    assert f"{API}/models/{{artifact_id}}" in spec["paths"]


# --- body size ----------------------------------------------------------------------------


def big_project_body() -> bytes:
    return orjson.dumps({"name": "Big", "description": "x" * (MIB + 10)})


async def test_body_over_limit_with_content_length_is_413(api: Api) -> None:
    who = await api.signup()
    body = big_project_body()
    r = await api.client.post(
        f"{API}/projects",
        content=body,
        headers={**who.headers, "Content-Type": "application/json"},
    )
    assert r.request.headers["content-length"] == str(len(body))
    detail = assert_error(r, 413, "payload_too_large")
    assert str(MIB) in detail

    # Refused before authentication too: nobody gets to make the server read it.
    r = await api.client.post(
        f"{API}/projects", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(r, 413, "payload_too_large")

    r = await api.client.get(f"{API}/projects", headers=who.headers)
    assert r.json()["items"] == []


async def test_streamed_body_over_limit_without_content_length_is_413(api: Api) -> None:
    who = await api.signup()
    body = big_project_body()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    r = await api.client.post(
        f"{API}/projects",
        content=chunks(),
        headers={**who.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert_error(r, 413, "payload_too_large")
    r = await api.client.get(f"{API}/projects", headers=who.headers)
    assert r.json()["items"] == []


async def test_body_just_under_limit_is_accepted(api: Api) -> None:
    who = await api.signup()
    description = "x" * 9000
    r = await api.client.post(
        f"{API}/projects", json={"name": "Fine", "description": description}, headers=who.headers
    )
    assert r.status_code == 201, r.text

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "Streamed",'
        yield b' "description": "small"}'

    r = await api.client.post(
        f"{API}/projects",
        content=chunks(),
        headers={**who.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "small"


# --- validation ---------------------------------------------------------------------------


async def test_unknown_body_field_is_422_naming_it(api: Api) -> None:
    who, project, artifact = await owner_with_artifact(api)
    r = await api.client.post(
        f"{API}/projects", json={"name": "P", "colour": "red"}, headers=who.headers
    )
    assert fields(r) == ["body.colour"]

    r = await api.client.patch(
        f"{API}/artifacts/{artifact['id']}", json={"colour": "red"}, headers=who.headers
    )
    assert fields(r) == ["body.colour"]

    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={"type": "notes", "name": "A", "colour": "red"},
        headers=who.headers,
    )
    assert fields(r) == ["body.colour"]


async def test_wrong_type_is_422_naming_the_field(api: Api) -> None:
    who, project, artifact = await owner_with_artifact(api)
    r = await api.client.post(f"{API}/projects", json={"name": ["P"]}, headers=who.headers)
    assert fields(r) == ["body.name"]

    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={"type": "notes", "name": "A", "input_data": "not an object"},
        headers=who.headers,
    )
    assert fields(r) == ["body.input_data"]

    r = await api.client.patch(
        f"{API}/artifacts/{artifact['id']}", json={"output_data": [1, 2]}, headers=who.headers
    )
    assert fields(r) == ["body.output_data"]
    r = await api.client.get(f"{API}/artifacts/{artifact['id']}", headers=who.headers)
    assert r.json()["output_data"] == {"x": 1} and r.json()["latest_version"] == 1


async def test_missing_required_field_and_bad_json_are_422(api: Api) -> None:
    who = await api.signup()
    r = await api.client.post(f"{API}/projects", json={}, headers=who.headers)
    assert fields(r) == ["body.name"]

    r = await api.client.post(
        f"{API}/projects",
        content=b'{"name": "unterminated',
        headers={**who.headers, "Content-Type": "application/json"},
    )
    assert all(f.startswith("body") for f in fields(r))


# --- ids in paths -------------------------------------------------------------------------


MALFORMED = {
    "project_id": ["not-a-uuid", "123", "%20"],
    "artifact_id": ["not-a-uuid", "0"],
    "org_id": ["not-a-uuid", "00000000-0000-0000-0000-00000000000g"],
    "user_id": ["not-a-uuid"],
    "key_id": ["not-a-uuid"],
    "version": ["abc", "0", "-1", "1.5", str(2**31)],
    "provider_id": ["not-a-uuid"],
    "job_id": ["not-a-uuid", "1"],
    "number": ["abc", "0", "-1", "1.5"],
    "export_id": ["not-a-uuid"],
    "template_id": ["not-a-uuid"],
    "token_id": ["not-a-uuid"],
    "upload_id": ["not-a-uuid", "42"],
    "conversation_id": ["not-a-uuid", "7"],
}
# Path parameters that are names, not ids: a wrong one is simply not found.
NOT_IDS = {"tool_key"}


async def test_malformed_path_ids_are_404_invalid_id_on_every_route(api: Api, app: FastAPI) -> None:
    """Walks the OpenAPI document: for each route, each path parameter in turn gets a
    malformed value while the others name the caller's own, existing objects (so the
    malformed one is the only thing wrong with the request)."""
    who, project, artifact = await owner_with_artifact(api)
    org = await api.organization(who)
    provider = await api.provider(who)
    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "b", "input_data": BRIEF_INPUT, "generate": True},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["job"]["id"]
    r = await api.client.post(f"{API}/api-keys", json={"label": "k"}, headers=who.headers)
    good = {
        "project_id": project["id"],
        "artifact_id": artifact["id"],
        "org_id": org["id"],
        "user_id": who.id,
        "key_id": r.json()["id"],
        "version": "1",
        "provider_id": provider["id"],
        "job_id": job_id,
        "tool_key": "brief",
        "number": "1",
        # Well-formed ids of nothing: only the malformed parameter may be the problem.
        "export_id": str(uuid.uuid4()),
        "template_id": str(uuid.uuid4()),
        "token_id": str(uuid.uuid4()),
        "upload_id": str(uuid.uuid4()),
        "conversation_id": str(uuid.uuid4()),
    }
    # The admin console answers anyone but an administrator the 404 of an unknown path
    # (it is not advertised), so its routes are walked by one.
    boss = await admin(api, app)
    checked = 0
    for path, ops in app.openapi()["paths"].items():
        caller = boss if path.startswith(f"{API}/admin/") else who
        names = PARAM.findall(path)
        for bad_name in names:
            if bad_name in NOT_IDS:
                continue
            if bad_name not in MALFORMED or bad_name not in good:
                pytest.fail(f"{path}: add samples for {{{bad_name}}} to MALFORMED and good")
            for bad in MALFORMED[bad_name]:
                values = {**good, bad_name: bad}
                url = PARAM.sub(lambda m, v=values: v[m.group(1)], path)  # type: ignore[misc]
                for method in ops:
                    r = await api.client.request(
                        method.upper(), url, json={"name": "x"}, headers=caller.headers
                    )
                    detail = assert_error(r, 404, "invalid_id")
                    assert bad_name in detail, (method, url, detail)
                    checked += 1
    assert checked > 50
    # Nothing was touched on the way.
    r = await api.client.get(f"{API}/artifacts/{artifact['id']}", headers=who.headers)
    assert r.json()["name"] == artifact["name"] and r.json()["latest_version"] == 1
    r = await api.client.get(f"{API}/api-keys", headers=who.headers)
    assert r.json()["items"][0]["revoked_at"] is None
    r = await api.client.get(f"{API}/organizations/{org['id']}", headers=who.headers)
    assert r.status_code == 200


async def test_malformed_ids_for_the_main_objects(api: Api) -> None:
    who = await api.signup()
    for url in (
        f"{API}/projects/nope",
        f"{API}/artifacts/nope",
        f"{API}/models/nope",
        f"{API}/organizations/nope",
        f"{API}/artifacts/nope/versions/1",
    ):
        assert_error(await api.client.get(url, headers=who.headers), 404, "invalid_id")
    assert_error(
        await api.client.delete(f"{API}/projects/nope", headers=who.headers), 404, "invalid_id"
    )


async def test_well_formed_unknown_ids_are_plain_404(api: Api) -> None:
    who = await api.signup()
    missing = uuid.uuid4()
    r = await api.client.get(f"{API}/projects/{missing}", headers=who.headers)
    assert_error(r, 404, "project_not_found")
    r = await api.client.get(f"{API}/artifacts/{missing}", headers=who.headers)
    assert_error(r, 404, "artifact_not_found")
    r = await api.client.get(f"{API}/organizations/{missing}", headers=who.headers)
    assert_error(r, 404, "organization_not_found")


# --- routing and authentication -----------------------------------------------------------


async def test_unknown_route_is_json_404(api: Api) -> None:
    who = await api.signup()
    for url in ("/nope", f"{API}/nope", f"{API}/projects/{uuid.uuid4()}/nope"):
        assert_error(await api.client.get(url, headers=who.headers), 404, "not_found")
        assert_error(await api.client.get(url), 404, "not_found")


async def test_wrong_method_is_json_405(api: Api) -> None:
    who = await api.signup()
    r = await api.client.put(f"{API}/projects", json={"name": "x"}, headers=who.headers)
    assert_error(r, 405, "method_not_allowed")
    assert "POST" in r.headers["allow"]
    r = await api.client.delete(f"{API}/me", headers=who.headers)
    assert_error(r, 405, "method_not_allowed")
    r = await api.client.put(f"{API}/artifacts/{uuid.uuid4()}", json={}, headers=who.headers)
    assert_error(r, 405, "method_not_allowed")


async def test_missing_or_bad_credentials_are_json_401(api: Api, app: FastAPI) -> None:
    who = await api.signup()
    assert_error(await api.client.get(f"{API}/me"), 401, "unauthorized")
    assert_error(await api.client.get(f"{API}/projects"), 401, "unauthorized")
    r = await api.client.get(f"{API}/me", headers={"Authorization": f"Basic {who.token}"})
    assert_error(r, 401, "unauthorized")
    r = await api.client.get(f"{API}/me", headers={"Authorization": "Bearer ats_not-a-token"})
    assert_error(r, 401, "invalid_token")
    r = await api.client.get(f"{API}/me", headers={"Authorization": "Bearer atk_not-a-key"})
    assert_error(r, 401, "invalid_token")

    # Every route that is not sign-up or log-in wants credentials, even with a valid id.
    project = await api.project(who)
    for path, ops in app.openapi()["paths"].items():
        # The billing webhook's credential is its signature (tests/test_billing_webhook.py).
        if path in (f"{API}/auth/signup", f"{API}/auth/login", f"{API}/billing/webhook"):
            continue
        url = PARAM.sub(lambda m: "1" if m.group(1) == "version" else project["id"], path)
        for method in ops:
            r = await api.client.request(method.upper(), url, json={"name": "x"})
            assert_error(r, 401, "unauthorized")
    r = await api.client.get(f"{API}/projects/{project['id']}", headers=who.headers)
    assert r.status_code == 200 and r.json()["deleted_at"] is None


# --- pagination ---------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    "garbage",
    "é",
    b64(b"5"),
    b64(b"[1]"),
    b64(b'{"a": 1, "b": 2}'),
    b64(b'["2020-01-01T00:00:00", 5]'),
    b64(b'[null, "00000000-0000-0000-0000-000000000000"]'),
    b64(b'["2020-01-01T00:00:00", "nope"]'),
    # Valid dates that overflow once converted to UTC.
    b64(b'["9999-12-31T23:59:59-05:00", "00000000-0000-0000-0000-000000000000"]'),
    b64(b'["0001-01-01T00:00:00+05:00", "00000000-0000-0000-0000-000000000000"]'),
]


async def test_bad_cursor_is_422_naming_query_cursor(api: Api) -> None:
    who, project, artifact = await owner_with_artifact(api)
    await api.organization(who)
    for url in (
        f"{API}/projects",
        f"{API}/organizations",
        f"{API}/api-keys",
        f"{API}/projects/{project['id']}/artifacts",
    ):
        for cursor in BAD_CURSORS:
            r = await api.client.get(url, params={"cursor": cursor}, headers=who.headers)
            assert fields(r) == ["query.cursor"], (url, cursor)
    versions = f"{API}/artifacts/{artifact['id']}/versions"
    for cursor in ("garbage", "²", "-1", "1.5", "9" * 30, "9" * 5000, BAD_CURSORS[5]):
        r = await api.client.get(versions, params={"cursor": cursor}, headers=who.headers)
        assert fields(r) == ["query.cursor"], cursor


async def test_limit_out_of_range_is_422_naming_query_limit(api: Api) -> None:
    who, project, artifact = await owner_with_artifact(api)
    for url in (
        f"{API}/projects",
        f"{API}/projects/{project['id']}/artifacts",
        f"{API}/artifacts/{artifact['id']}/versions",
        f"{API}/organizations",
    ):
        for limit in ("0", "-1", "1001", "ten"):
            r = await api.client.get(url, params={"limit": limit}, headers=who.headers)
            assert fields(r) == ["query.limit"], (url, limit)
        r = await api.client.get(url, params={"limit": "1"}, headers=who.headers)
        assert r.status_code == 200, r.text


async def test_cursor_pages_through_projects_without_repeats(api: Api) -> None:
    who = await api.signup()
    made = [(await api.project(who, name=f"P{i}"))["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(f"{API}/projects", params=params, headers=who.headers)
        assert r.status_code == 200, r.text
        seen += [p["id"] for p in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
