"""The MCP server over streamable HTTP, driven by the official client SDK against a live
server: tools, resources, one project per token, and bearer-token auth."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextResourceContents
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from atelier.packs.sdp.datamodel import table_name
from tests.factories import Account, Api
from tests.mcp.conftest import (
    mcp_session,
    mcp_token,
    package_of,
    sdp_project,
    set_token,
    tokens_url,
)
from tests.sdp.examples import API as API_EXAMPLE
from tests.sdp.examples import DATA_MODEL

pytestmark = pytest.mark.anyio

TOOLS = {
    "list_stages",
    "get_stage_output",
    "list_entities",
    "get_entity",
    "list_endpoints",
    "search_spec",
    "validate",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


async def call(session: ClientSession, name: str, /, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(name, arguments)
    assert isinstance(result, CallToolResult)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def call_error(session: ClientSession, name: str, /, **arguments: Any) -> str:
    result = await session.call_tool(name, arguments)
    assert isinstance(result, CallToolResult) and result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


async def read_text(session: ClientSession, uri: str) -> TextResourceContents:
    result = await session.read_resource(uri)
    [content] = result.contents
    assert isinstance(content, TextResourceContents)
    return content


async def post_initialize(url: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            url,
            json=INITIALIZE,
            headers={"Accept": "application/json, text/event-stream", **headers},
        )


@dataclass
class Tasklane:
    owner: Account
    project: dict[str, Any]
    token: dict[str, Any]  # the API's answer: the token's fields and the raw "token"


async def make_tasklane(api: Api, stages: int) -> Tasklane:
    """Ann's Tasklane project with its first ``stages`` stages done, and an MCP token."""
    ann = await api.signup("Ann")
    project = await sdp_project(api, ann, stages=stages)
    return Tasklane(ann, project, await mcp_token(api, ann, project["id"], label="Claude Code"))


@pytest.fixture
async def tasklane(api: Api) -> Tasklane:
    """Stages 1-8 done: everything the tools read."""
    return await make_tasklane(api, 8)


@pytest.fixture
async def small_tasklane(api: Api) -> Tasklane:
    """Stages 1-2 done: enough where the content does not matter (and quicker)."""
    return await make_tasklane(api, 2)


async def test_tools_and_resources(api: Api, app: Any, mcp_url: str, tasklane: Tasklane) -> None:
    project, token = tasklane.project, tasklane.token
    package = await package_of(app, project["id"])
    async with mcp_session(mcp_url, token["token"]) as session:
        listed = await session.list_tools()
        assert {t.name for t in listed.tools} == TOOLS
        assert all(t.annotations and t.annotations.read_only_hint for t in listed.tools)

        resources = (await session.list_resources()).resources
        assert {str(r.uri) for r in resources} == {f"sdp://package/{p}" for p in package.files}
        by_uri = {str(r.uri): r for r in resources}
        assert by_uri["sdp://package/02-data-model/data-model.json"].mime_type == (
            "application/json"
        )
        assert by_uri["sdp://package/04-api/openapi.yaml"].mime_type == "application/yaml"
        assert by_uri["sdp://package/README.md"].mime_type == "text/markdown"

        for path in ("02-data-model/data-model.json", "03-database/schema.postgresql.sql"):
            content = await read_text(session, f"sdp://package/{path}")
            assert content.text.encode() == package.files[path]
            assert content.mime_type == by_uri[f"sdp://package/{path}"].mime_type
        data_model = await read_text(session, "sdp://package/02-data-model/data-model.json")
        assert json.loads(data_model.text) == DATA_MODEL
        with pytest.raises(MCPError):
            await session.read_resource("sdp://package/nope.md")

        await _check_tools(session, package)


async def _check_tools(session: ClientSession, package: Any) -> None:
    stages = await call(session, "list_stages")
    assert stages["project"]["name"] == "Tasklane"
    assert [(s["number"], s["name"], s["status"]) for s in stages["stages"]][:2] == [
        (1, "product", "complete"),
        (2, "dataModel", "complete"),
    ]
    assert stages["stages"][8]["status"] == "active"
    assert all(s["version"] == 1 for s in stages["stages"][:8])
    assert set(stages["stages"][0]) == {
        "number",
        "name",
        "label",
        "status",
        "needs_review",
        "version",
    }

    for key in (2, "2", "dataModel", "data model"):
        output = await call(session, "get_stage_output", stage=key)
        assert output["number"] == 2 and output["data"] == DATA_MODEL
    paths = {f["path"]: f for f in output["files"]}
    assert set(paths) == {"02-data-model/data-model.json", "02-data-model/data-model.md"}
    assert (
        paths["02-data-model/data-model.md"]["content"].encode()
        == (package.files["02-data-model/data-model.md"])
    )
    bare = await call(session, "get_stage_output", stage="api", with_content=False)
    assert bare["files"] and all("content" not in f for f in bare["files"])
    assert "no stage" in await call_error(session, "get_stage_output", stage="nonsense")

    entities = await call(session, "list_entities")
    names = [e["name"] for e in entities["entities"]]
    assert names == [e["name"] for e in DATA_MODEL["entities"]]
    task = next(e for e in entities["entities"] if e["name"] == "Task")
    assert task["table"] == table_name("Task") and "id" in task["fields"]

    entity = await call(session, "get_entity", name="task")
    assert entity["name"] == "Task"
    assert [f["name"] for f in entity["fields"]] == [
        f["name"] for e in DATA_MODEL["entities"] if e["name"] == "Task" for f in e["fields"]
    ]
    expected = [r for r in DATA_MODEL["relationships"] if "Task" in (r["from"], r["to"])]
    assert entity["relationships"] == expected and expected
    assert entity["endpoints"] == [
        f"{e['method']} {e['path']}" for e in API_EXAMPLE["endpoints"] if e["entity"] == "Task"
    ]
    assert "no entity" in await call_error(session, "get_entity", name="Unicorn")

    everything = await call(session, "list_endpoints")
    assert len(everything["endpoints"]) == len(API_EXAMPLE["endpoints"])
    tasks = await call(session, "list_endpoints", entity="Task")
    assert tasks["endpoints"] and {e["entity"] for e in tasks["endpoints"]} == {"Task"}

    found = await call(session, "search_spec", query="WORKSPACEMEMBER")
    assert found["matches"] and not found["truncated"]
    for match in found["matches"]:
        lines = package.files[match["path"]].decode().splitlines()
        assert "workspacemember" in lines[match["line"] - 1].casefold()
    assert {m["path"] for m in found["matches"]} >= {"02-data-model/data-model.json"}
    few = await call(session, "search_spec", query="id", limit=3)
    assert len(few["matches"]) == 3 and few["truncated"]

    report = await call(session, "validate")
    assert report == package.report.to_json()


async def test_a_token_sees_only_its_own_project(
    api: Api, mcp_url: str, small_tasklane: Tasklane
) -> None:
    bob = await api.signup("Bob")
    other = await sdp_project(api, bob, name="Bob's notes", stages=1)
    other_token = await mcp_token(api, bob, other["id"])
    async with mcp_session(mcp_url, other_token["token"]) as session:
        stages = await call(session, "list_stages")
        assert stages["project"]["name"] == "Bob's notes"
        assert [s["version"] for s in stages["stages"]][:2] == [1, None]
        uris = {str(r.uri) for r in (await session.list_resources()).resources}
        assert "sdp://package/01-product/product.json" in uris
        assert "sdp://package/02-data-model/data-model.json" not in uris
        readme = await read_text(session, "sdp://package/README.md")
        assert "Bob's notes" in readme.text and "Tasklane" not in readme.text
        assert "no valid output" in await call_error(session, "list_entities")
        found = await call(session, "search_spec", query="WorkspaceMember")
        assert found["matches"] == []

    # The same server, the other token: Tasklane.
    async with mcp_session(mcp_url, small_tasklane.token["token"]) as session:
        stages = await call(session, "list_stages")
        assert stages["project"]["name"] == "Tasklane"


async def test_revoked_expired_and_missing_tokens_get_401(
    api: Api, app: Any, mcp_url: str, small_tasklane: Tasklane
) -> None:
    ann, project, token = small_tasklane.owner, small_tasklane.project, small_tasklane.token
    r = await post_initialize(mcp_url, {})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    for bad in ("nonsense", "atl_mcp_" + "x" * 43, ann.token):
        r = await post_initialize(mcp_url, {"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
    r = await post_initialize(mcp_url, {"Authorization": f"Bearer {token['token']}"})
    assert r.status_code == 200, r.text

    expiring = await mcp_token(api, ann, project["id"], expires_in_days=1)
    await set_token(
        app, expiring["id"], expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    r = await post_initialize(mcp_url, {"Authorization": f"Bearer {expiring['token']}"})
    assert r.status_code == 401

    # Revocation takes effect at once, in an open session too.
    async with mcp_session(mcp_url, token["token"]) as session:
        await call(session, "list_stages")
        r = await api.client.delete(
            f"{tokens_url(project['id'])}/{token['id']}", headers=ann.headers
        )
        assert r.status_code == 204
        # The SDK turns the HTTP 401 into an error of the call.
        with pytest.raises(MCPError):
            await session.call_tool("list_stages", {})
    r = await post_initialize(mcp_url, {"Authorization": f"Bearer {token['token']}"})
    assert r.status_code == 401


async def test_new_outputs_show_at_once_and_last_used_at_updates(
    api: Api, mcp_url: str, small_tasklane: Tasklane
) -> None:
    ann, project, token = small_tasklane.owner, small_tasklane.project, small_tasklane.token
    r = await api.client.get(tokens_url(project["id"]), headers=ann.headers)
    assert r.json()["items"][0]["last_used_at"] is None
    async with mcp_session(mcp_url, token["token"]) as session:
        before = await call(session, "get_stage_output", stage="product")
        assert before["version"] == 1
        changed = {**before["data"], "tagline": "Now with MCP."}
        r = await api.client.patch(
            f"/api/v1/projects/{project['id']}/stages/1",
            json={"data": changed},
            headers=ann.headers,
        )
        assert r.status_code == 200, r.text
        after = await call(session, "get_stage_output", stage=1)
        assert after["version"] == 2 and after["data"]["tagline"] == "Now with MCP."
        stages = await call(session, "list_stages")
        assert stages["stages"][0]["status"] == "review"
        assert stages["stages"][1]["needs_review"] is True
    r = await api.client.get(tokens_url(project["id"]), headers=ann.headers)
    assert r.json()["items"][0]["last_used_at"] is not None


async def test_without_its_lifespan_the_app_answers_503(api: Api, small_tasklane: Tasklane) -> None:
    token = small_tasklane.token
    r = await api.client.post(
        "/mcp", json=INITIALIZE, headers={"Authorization": f"Bearer {token['token']}"}
    )
    assert r.status_code == 503 and r.json()["error"] == "mcp_unavailable"


async def test_the_newer_protocol_negotiated_by_client_works_too(
    mcp_url: str, small_tasklane: Tasklane
) -> None:
    """`Client` probes for the 2026 protocol (one request per exchange, no session)."""
    headers = {"Authorization": f"Bearer {small_tasklane.token['token']}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0)) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        assert client.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS
        result = await client.call_tool("list_stages", {})
        assert not result.is_error and result.structured_content
        assert result.structured_content["project"]["name"] == "Tasklane"
        resources = await client.list_resources()
        assert "sdp://package/README.md" in {str(r.uri) for r in resources.resources}
