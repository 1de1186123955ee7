"""`atelier mcp`: the same server over stdio, spawned as a real process by the official
client SDK, on the test database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from typer.testing import CliRunner

from atelier.cli import app as cli
from atelier.config import Settings, get_settings
from tests.factories import Api
from tests.mcp.conftest import mcp_token, sdp_project, tokens_url
from tests.sdp.examples import DATA_MODEL

pytestmark = pytest.mark.anyio

ATELIER = str(Path(sys.executable).with_name("atelier"))


def environment(settings: Settings) -> dict[str, str]:
    """The test database, for a process that reads its settings from the environment."""
    return {
        "ATELIER_ENV": "test",
        "ATELIER_DATABASE_URL": settings.resolved_database_url,
        "ATELIER_DATA_DIR": str(settings.data_dir),
        "ATELIER_LOG_LEVEL": "WARNING",
    }


async def test_stdio_lists_tools_and_entities(api: Api, settings: Settings) -> None:
    ann = await api.signup()
    project = await sdp_project(api, ann, stages=2)
    token = await mcp_token(api, ann, project["id"])
    params = StdioServerParameters(
        command=ATELIER, args=["mcp", "--token", token["token"]], env=environment(settings)
    )
    with anyio.fail_after(30):
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            assert {"list_entities", "get_entity", "validate"} <= tools
            result = await session.call_tool("list_entities", {})
            assert isinstance(result, CallToolResult) and not result.is_error
            structured: dict[str, Any] = result.structured_content or {}
            names = [e["name"] for e in structured["entities"]]
            assert names == [e["name"] for e in DATA_MODEL["entities"]]

            # Revoked while the process runs: the next call is refused.
            r = await api.client.delete(
                f"{tokens_url(project['id'])}/{token['id']}", headers=ann.headers
            )
            assert r.status_code == 204
            with pytest.raises(MCPError, match="revoked"):
                await session.call_tool("list_entities", {})
    r = await api.client.get(tokens_url(project["id"]), headers=ann.headers)
    assert r.json()["items"][0]["last_used_at"] is not None


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """get_settings() of an in-process `atelier` command reads the test database."""
    for name, value in environment(settings).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# Plain sync tests: the command calls asyncio.run itself. A token that does not work
# stops the command before it reads stdin, so it runs in-process, without a spawn.
@pytest.mark.usefixtures("cli_env")
def test_a_token_that_does_not_work_exits_at_once_with_the_reason() -> None:
    result = CliRunner().invoke(cli, ["mcp"], env={"ATELIER_MCP_TOKEN": "atl_mcp_" + "x" * 43})
    assert result.exit_code == 1, result.output
    assert "unknown, revoked or expired" in result.output


@pytest.mark.usefixtures("cli_env")
def test_the_token_is_required() -> None:
    result = CliRunner().invoke(cli, ["mcp"], env={"ATELIER_MCP_TOKEN": ""})
    assert result.exit_code == 2
    assert "ATELIER_MCP_TOKEN" in result.output
