"""The MCP server: one project per token, served as the project's pack declares.

A token names one project. What an agent gets for it is the pack's: its ``PackSpec.mcp``
names a ``PackMCP`` object (``"module:attribute"``) with the resources, listed and read
per request, and the tools, registered once per pack; a caller sees only those of its
project's pack. Every pack's tools reach the caller's project through
``ProjectServer.project()``.

Nothing is cached between calls: each one looks the token up again, so a revoked token
stops at once and a new stage output is seen by the next call.

Transports: streamable HTTP inside the web app at ``/mcp`` (``mount`` and ``running``,
bearer-token auth through the SDK's ``token_verifier``), and stdio for one token
(``serve_stdio``, the ``atelier mcp`` command).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import FastAPI
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.mcpserver.tools import ToolManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST, CallToolResult, InputRequiredResult
from mcp_types import Resource as MCPResource
from mcp_types import Tool as MCPTool
from pydantic import AnyUrl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from atelier import __version__
from atelier.config import Settings
from atelier.core.db import make_engine, make_sessionmaker, session_scope
from atelier.core.packs import packs, resolve
from atelier.mcp import tokens
from atelier.projects.models import Project

NAME = "atelier"
PATH = "/mcp"


def token_rejected() -> MCPError:
    return MCPError(
        code=INVALID_REQUEST,
        message="the MCP token is unknown, revoked or expired, or its project is gone: "
        "create a new token in Atelier",
    )


# ------------------------------------------------------------------------ what packs serve
class PackMCP(Protocol):
    """What a pack serves over MCP for each of its projects (``PackSpec.mcp`` names one).
    Each method gets the server, whose ``project()`` is the caller's project."""

    @property
    def title(self) -> str: ...

    @property
    def instructions(self) -> str: ...

    def add_tools(self, server: ProjectServer, tools: ToolManager) -> None:
        """Register the pack's tools (``tools.add_tool``): once, at start-up."""
        ...

    async def list_resources(self, server: ProjectServer) -> list[MCPResource]: ...

    async def read_resource(
        self, server: ProjectServer, uri: str
    ) -> Iterable[ReadResourceContents]:
        """The resource's contents; ResourceNotFoundError when the project has none."""
        ...


def served_packs() -> dict[str, PackMCP]:
    """Every installed pack that serves something over MCP, by key."""
    return {spec.key: resolve(spec.mcp) for spec in packs.all() if getattr(spec, "mcp", None)}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the raw MCP token, and the pack of its project."""

    token: str
    pack: str


CallerSource = Callable[[], Caller | None]


def _describe(served: Mapping[str, PackMCP]) -> tuple[str, str]:
    """The server's title and instructions: one pack's own, or all of them."""
    if len(served) == 1:
        [only] = served.values()
        return only.title, only.instructions
    parts = [f"{pack.title}: {pack.instructions}" for pack in served.values()]
    intro = "Atelier serves one project per token; what it offers depends on its kind."
    return "Atelier", "\n\n".join([intro, *parts])


# ------------------------------------------------------------------------------ the server
class ProjectServer(MCPServer[Any]):
    """An MCPServer for the caller's project. Its resources differ per token and change
    with the project, so they are listed and read from the database on each request
    (by the project's pack); its tools are those of the caller's project's pack."""

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        caller_source: CallerSource,
        served: Mapping[str, PackMCP],
        **options: Any,
    ) -> None:
        title, instructions = _describe(served)
        super().__init__(
            NAME, title=title, instructions=instructions, version=__version__, **options
        )
        self._maker = maker
        self._caller_source = caller_source
        self._served = dict(served)
        self._pack_tools: dict[str, ToolManager] = {}
        for key, pack in self._served.items():
            self._pack_tools[key] = ToolManager()
            pack.add_tools(self, self._pack_tools[key])

    def _caller(self) -> Caller:
        caller = self._caller_source()
        if caller is None:
            raise token_rejected()
        return caller

    def _pack(self) -> tuple[PackMCP | None, ToolManager]:
        """The caller's pack and its tools (None and none: its pack serves nothing)."""
        key = self._caller().pack
        return self._served.get(key), self._pack_tools.get(key) or ToolManager()

    @asynccontextmanager
    async def project(self) -> AsyncIterator[tuple[AsyncSession, Project]]:
        """The caller's project, looked up afresh from its token, with the session."""
        raw = self._caller().token
        async with session_scope(self._maker) as session:
            found = await tokens.verify(session, raw)
            if found is None:
                raise token_rejected()
            row, project = found
            await tokens.touch(session, row)
            yield session, project

    async def list_tools(self) -> list[MCPTool]:
        _, tools = self._pack()
        return [
            MCPTool(
                name=info.name,
                title=info.title,
                description=info.description,
                input_schema=info.parameters,
                output_schema=info.output_schema,
                annotations=info.annotations,
                icons=info.icons,
                _meta=info.meta,
            )
            for info in tools.list_tools()
        ]

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        caller = self._caller_source()
        managers = (
            [self._pack_tools[caller.pack]]
            if caller is not None and caller.pack in self._pack_tools
            else list(self._pack_tools.values())
        )
        for manager in managers:
            tool = manager.get_tool(name)
            if tool is not None:
                return tool.parameters
        return None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        _, tools = self._pack()
        if tools.get_tool(name) is None:
            raise ToolError(f"Unknown tool: {name}")
        if context is None:
            context = Context(mcp_server=self, subscriptions=self._subscriptions)
        result: CallToolResult | InputRequiredResult = await tools.call_tool(
            name, arguments, context, convert_result=True
        )
        return result

    async def list_resources(self) -> list[MCPResource]:
        pack, _ = self._pack()
        return await pack.list_resources(self) if pack is not None else []

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        pack, _ = self._pack()
        if pack is None:
            raise ResourceNotFoundError("this project has no resources")
        return await pack.read_resource(self, str(uri))


def build_server(
    maker: async_sessionmaker[AsyncSession],
    caller_source: CallerSource,
    **options: Any,
) -> ProjectServer:
    return ProjectServer(maker, caller_source, served_packs(), **options)


# ------------------------------------------------------------------------ streamable HTTP
class TokenVerifier:
    """The SDK's token verifier: a bearer MCP token → its access info, or None (401)."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = maker

    async def verify_token(self, token: str) -> AccessToken | None:
        if not tokens.looks_like_token(token):
            return None
        async with session_scope(self._maker) as session:
            found = await tokens.verify(session, token)
            if found is None:
                return None
            row, project = found
            await tokens.touch(session, row)
        return AccessToken(
            token=token,
            # The principal the SDK binds sessions and request state to: one per token,
            # so another token (even of the same user and project) cannot reuse them.
            client_id=f"mcp-token:{row.id}",
            subject=str(row.user_id),
            scopes=[],
            expires_at=int(row.expires_at.timestamp()) if row.expires_at else None,
            claims={"project_id": str(project.id), "pack": project.pack},
        )


def bearer_caller() -> Caller | None:
    """The caller of the HTTP request being served (set by the SDK's auth middleware)."""
    access = get_access_token()
    if access is None:
        return None
    return Caller(access.token, str((access.claims or {}).get("pack", "")))


@dataclass
class HTTPEndpoint:
    """``/mcp`` in the web app. The SDK's session manager runs only once, so each run of
    the app's lifespan builds a new one (``running``); outside it (an app driven without
    its lifespan) the endpoint answers 503 instead of failing."""

    server: ProjectServer
    app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            response = JSONResponse(
                {"error": "mcp_unavailable", "detail": "the MCP server is not running"},
                status_code=503,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        app = self.server.streamable_http_app(
            streamable_http_path=PATH,
            # Every request carries a bearer token that a page in another origin cannot
            # have, so DNS rebinding gains nothing; a Host allow-list would only break
            # deployments behind their own domain.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            # No state between requests: the server never calls the client back, and
            # with `atelier serve --workers N` consecutive requests may reach different
            # processes, which would not know each other's sessions.
            stateless_http=True,
        )
        async with self.server.session_manager.run():
            self.app = app
            try:
                yield
            finally:
                self.app = None


def mount(app: FastAPI) -> None:
    """Serve MCP at /mcp in ``app``; run ``running(app)`` in its lifespan."""
    settings: Settings = app.state.settings
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    server = build_server(
        maker,
        bearer_caller,
        token_verifier=TokenVerifier(maker),
        # Resource-server mode without OAuth: tokens come from Atelier itself, so there is
        # no authorization server to advertise; the issuer is required but unused.
        auth=AuthSettings(
            issuer_url=f"http://{settings.host}:{settings.port}",
            resource_server_url=None,
        ),
    )
    endpoint = HTTPEndpoint(server)
    app.state.mcp = endpoint
    # A route, not a mount: a mount would answer only /mcp/ and redirect /mcp to it.
    app.router.routes.append(Route(PATH, endpoint=endpoint, include_in_schema=False))


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    endpoint: HTTPEndpoint = app.state.mcp
    async with endpoint.running():
        yield


# ----------------------------------------------------------------------------------- stdio
async def serve_stdio(settings: Settings, raw_token: str) -> int:
    """Serve the token's project over stdin/stdout until the client closes; 1 when the
    token does not work (said on stderr: stdout carries only the protocol)."""
    _log_to_stderr(settings)
    engine = make_engine(settings)
    maker = make_sessionmaker(engine, settings)
    try:
        async with session_scope(maker) as session:
            found = await tokens.verify(session, raw_token)
            pack = found[1].pack if found is not None else ""
        if found is None:
            print(
                "error: the MCP token is unknown, revoked or expired, or its project is gone",
                file=sys.stderr,
            )
            return 1
        server = build_server(maker, lambda: Caller(raw_token, pack))
        await server.run_stdio_async()
        return 0
    finally:
        await engine.dispose()


def _log_to_stderr(settings: Settings) -> None:
    from atelier.core.logging import configure_logging

    # Logs go to stdout by default, which is the protocol's channel here.
    configure_logging(settings.log_level, stream="stderr")
