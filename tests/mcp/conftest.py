"""MCP test harness: software design projects with every stage filled in, MCP tokens, and
a real server for the MCP clients to talk to.

The streamable HTTP transport needs the SDK's session manager running, which happens in
the app's lifespan, and streams its answers: the in-process ASGI transport of the other
tests can do neither. So a second app on the same test database is served by uvicorn on
a free port, in a thread with its own event loop, lifespan included, once per back end.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
import uvicorn
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import update

from atelier.app import create_app
from atelier.config import Settings
from atelier.core.db import session_scope
from atelier.mcp.models import MCPToken
from atelier.packs.sdp.package import Package, build_package
from atelier.packs.sdp.service import snapshot
from atelier.packs.sdp.stages import STAGES
from atelier.projects.models import Project
from tests.factories import Account, Api
from tests.sdp.examples import OUTPUTS, PROJECT_DESCRIPTION

API = "/api/v1"


def tokens_url(project_id: str) -> str:
    return f"{API}/projects/{project_id}/mcp-tokens"


async def sdp_project(
    api: Api,
    who: Account,
    *,
    name: str = "Tasklane",
    stages: int = 8,
    outputs: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An sdp project whose first ``stages`` stages are written and completed in order:
    the examples' outputs (or ``outputs``), the database stage compiled from the data
    model."""
    data = {**OUTPUTS, **(outputs or {})}
    project = await api.project(who, name=name, pack="sdp", description=PROJECT_DESCRIPTION)
    for spec in STAGES[:stages]:
        base = f"{API}/projects/{project['id']}/stages/{spec.number}"
        if spec.name == "database":
            r = await api.client.post(f"{base}/generate", json={"ai": False}, headers=who.headers)
        else:
            r = await api.client.patch(base, json={"data": data[spec.name]}, headers=who.headers)
        assert r.status_code == 200, f"stage {spec.number}: {r.text}"
        r = await api.client.post(f"{base}/complete", headers=who.headers)
        assert r.status_code == 200, f"stage {spec.number} complete: {r.text}"
    return project


async def mcp_token(api: Api, who: Account, project_id: str, **body: Any) -> dict[str, Any]:
    """A new MCP token of the project: its fields and the raw ``token``."""
    r = await api.client.post(
        tokens_url(project_id), json={"label": "agent", **body}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def set_token(app: Any, token_id: str, **values: Any) -> None:
    """Change a token row behind the API's back (e.g. expire it now)."""
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(MCPToken).where(MCPToken.id == uuid.UUID(token_id)).values(**values)
        )


async def package_of(app: Any, project_id: str) -> Package:
    """The project's package as the exporter builds it, straight from the database."""
    async with session_scope(app.state.sessionmaker) as session:
        project = await session.get(Project, uuid.UUID(project_id))
        assert project is not None
        return build_package(await snapshot(session, project))


# ----------------------------------------------------------------------------- the server
def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.fixture(scope="session")
def mcp_url(settings: Settings) -> Iterator[str]:
    """``http://127.0.0.1:PORT/mcp`` of a live server on the test database."""
    application = create_app(settings.model_copy(update={"run_jobs_in_process": False}))
    config = uvicorn.Config(application, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    sock = _free_socket()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    threshold = gc.get_threshold()
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    # The lifespan tunes the garbage collector for serving, process-wide: undo that for
    # the rest of the test session.
    gc.unfreeze()
    gc.set_threshold(*threshold)
    host, port = sock.getsockname()
    try:
        yield f"http://{host}:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@asynccontextmanager
async def mcp_session(url: str, token: str | None) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session (the official SDK) over streamable HTTP."""
    async with (
        httpx2.AsyncClient(headers=bearer(token), timeout=httpx2.Timeout(30.0)) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session
