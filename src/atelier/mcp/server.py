"""The MCP server: one software design project, read by a coding agent.

A token names one project. Its Software Design Package (``build_package``) is served as
resources, ``sdp://package/<path>``, and a few read-only tools answer the questions an
agent asks while it builds the product: the stages, an entity, the endpoints, a text
search, the cross-reference report.

Nothing is cached between calls: each one looks the token up again and renders the
package from the database, so a revoked token stops at once and a new stage output is
seen by the next call.

Transports: streamable HTTP inside the web app at ``/mcp`` (``mount`` and ``running``,
bearer-token auth through the SDK's ``token_verifier``), and stdio for one token
(``serve_stdio``, the ``atelier mcp`` command).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from fastapi import FastAPI
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST, InputRequiredResult, ToolAnnotations
from mcp_types import Resource as MCPResource
from pydantic import AnyUrl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from atelier import __version__
from atelier.config import Settings
from atelier.core.db import make_engine, make_sessionmaker, session_scope
from atelier.mcp import tokens
from atelier.packs.sdp import service as sdp
from atelier.packs.sdp.api_spec import ApiDesign, ApiEndpoint
from atelier.packs.sdp.datamodel import DataModel, Entity, Relationship, column_name, table_name
from atelier.packs.sdp.package import (
    Package,
    ProjectSnapshot,
    StageSnapshot,
    build_package,
    snapshot_files,
    stored,
)
from atelier.packs.sdp.stages import STAGES, StageSpec
from atelier.projects import pipeline
from atelier.projects.models import Project

NAME = "atelier"
PATH = "/mcp"
URI_PREFIX = "sdp://package/"
MAX_MATCHES = 200
MAX_LINE = 300  # characters of a matching line shown by search_spec

INSTRUCTIONS = (
    "Atelier serves one software design project: its Software Design Package (product, "
    "data model, database schema, API, stack, design system, sections, infrastructure). "
    "Read the files as resources (sdp://package/<path>; README.md and manifest.json list "
    "them) or ask the tools: list_stages, get_stage_output, list_entities, get_entity, "
    "list_endpoints, search_spec, validate. Everything is read-only and always current."
)

# Every tool only reads, and reading twice gives the same answer.
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)

MIME_TYPES = {
    ".md": "text/markdown",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".sql": "application/sql",
}

TokenSource = Callable[[], str | None]


def mime_type(path: str) -> str:
    suffix = path[path.rfind(".") :] if "." in path else ""
    return MIME_TYPES.get(suffix, "text/plain")


def uri_of(path: str) -> str:
    return URI_PREFIX + quote(path, safe="/-._~")


def path_of(uri: str) -> str | None:
    return unquote(uri[len(URI_PREFIX) :]) if uri.startswith(URI_PREFIX) else None


def token_rejected() -> MCPError:
    return MCPError(
        code=INVALID_REQUEST,
        message="the MCP token is unknown, revoked or expired, or its project is gone: "
        "create a new token in Atelier",
    )


# ------------------------------------------------------------------------------ the server
class PackageServer(MCPServer[Any]):
    """An MCPServer whose resources are the files of the caller's project package, which
    differ per token and change with every new stage output: they are listed and read
    from the database on each request instead of being registered up front."""

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        token_source: TokenSource,
        **options: Any,
    ) -> None:
        super().__init__(
            NAME,
            title="Atelier software design package",
            instructions=INSTRUCTIONS,
            version=__version__,
            **options,
        )
        self._maker = maker
        self._token_source = token_source

    @asynccontextmanager
    async def project(self) -> AsyncIterator[tuple[AsyncSession, Project]]:
        """The caller's project, looked up afresh from its token, with the session."""
        raw = self._token_source()
        if raw is None:
            raise token_rejected()
        async with session_scope(self._maker) as session:
            found = await tokens.verify(session, raw)
            if found is None:
                raise token_rejected()
            row, project = found
            await tokens.touch(session, row)
            yield session, project

    async def snapshot(self) -> ProjectSnapshot:
        async with self.project() as (session, project):
            return await sdp.snapshot(session, project)

    async def package(self) -> Package:
        snap = await self.snapshot()
        # Rendering is pure CPU work (OpenAPI, Markdown): off the event loop.
        return await asyncio.to_thread(build_package, snap)

    async def list_resources(self) -> list[MCPResource]:
        package = await self.package()
        return [_resource(path, content, package) for path, content in package.files.items()]

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        path = path_of(str(uri))
        if path is None:
            raise ResourceNotFoundError(f"not a package file: URIs start with {URI_PREFIX}")
        package = await self.package()
        content = package.files.get(path)
        if content is None:
            raise ResourceNotFoundError(f"the package has no file {path!r}; list the resources")
        return [ReadResourceContents(content=content.decode(), mime_type=mime_type(path))]


def _stage_of_path(path: str) -> StageSpec | None:
    folder = path.split("/", 1)[0]
    return next((s for s in STAGES if s.folder == folder), None)


def _resource(path: str, content: bytes, package: Package) -> MCPResource:
    spec = _stage_of_path(path)
    if spec is not None:
        description = f"Stage {spec.number}, {spec.label}: {spec.summary}"
    elif path == "manifest.json":
        description = "Every stage with its status and files, and each file's SHA-256"
    else:
        description = f"Index of {package.manifest['project']['name']}: stages and validation"
    return MCPResource(
        uri=uri_of(path),
        name=path,
        title=path.rsplit("/", 1)[-1],
        description=description,
        mime_type=mime_type(path),
        size=len(content),
    )


# ------------------------------------------------------------------------------- the tools
def _find_stage(snap: ProjectSnapshot, stage: int | str) -> StageSnapshot:
    """A stage by number (1-9, also as text), seed name (dataModel) or label (Data Model)."""
    key = stage.strip() if isinstance(stage, str) else stage
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    for snap_stage in snap.stages:
        if key in (snap_stage.number, snap_stage.name) or (
            isinstance(key, str)
            and key.casefold() in (snap_stage.name.casefold(), snap_stage.label.casefold())
        ):
            return snap_stage
    known = ", ".join(f"{s.number} {s.name}" for s in snap.stages)
    raise ToolError(f"no stage {stage!r}; the stages are: {known}")


def _data_model(snap: ProjectSnapshot) -> DataModel:
    data = next((s.data for s in snap.stages if s.name == "dataModel"), None)
    model = stored("dataModel", data)
    if not isinstance(model, DataModel):
        raise ToolError("the data model (stage 2) has no valid output yet")
    return model


def _api(snap: ProjectSnapshot) -> ApiDesign | None:
    data = next((s.data for s in snap.stages if s.name == "api"), None)
    model = stored("api", data)
    return model if isinstance(model, ApiDesign) else None


def _find_entity(model: DataModel, name: str) -> Entity:
    wanted = name.strip().casefold()
    for entity in model.entities:
        if wanted in (entity.name.casefold(), table_name(entity.name)):
            return entity
    known = ", ".join(e.name for e in model.entities)
    raise ToolError(f"no entity {name!r}; the entities are: {known}")


def _relationship_json(rel: Relationship) -> dict[str, Any]:
    return rel.model_dump(mode="json", by_alias=True)


def _endpoint_json(endpoint: ApiEndpoint, base_path: str) -> dict[str, Any]:
    return {
        "key": endpoint.key,
        "url": base_path + endpoint.path,
        **endpoint.model_dump(mode="json"),
    }


def _stage_json(state: pipeline.StageState, version: int | None) -> dict[str, Any]:
    stage = state.stage
    return {
        "number": stage.stage_number,
        "name": stage.stage_name,
        "label": stage.stage_label,
        "status": state.status,
        "needs_review": stage.needs_review,
        "version": version,
    }


def _search(files: dict[str, bytes], query: str, limit: int) -> dict[str, Any]:
    needle = query.casefold()
    matches: list[dict[str, Any]] = []
    truncated = False
    for path, content in files.items():
        for number, line in enumerate(content.decode().splitlines(), start=1):
            if needle not in line.casefold():
                continue
            if len(matches) == limit:
                truncated = True
                break
            matches.append({"path": path, "line": number, "text": line.strip()[:MAX_LINE]})
        if truncated:
            break
    return {"query": query, "matches": matches, "truncated": truncated}


def _add_tools(server: PackageServer) -> None:
    def tool(fn: Callable[..., Any]) -> None:
        server.add_tool(fn, annotations=READ_ONLY)

    async def list_stages() -> dict[str, Any]:
        """The project's nine pipeline stages, in order: number, name, label, status
        (locked, active, generating, review, complete), whether it needs review after an
        earlier stage changed, and its active output's version (null: no output yet)."""
        async with server.project() as (session, project):
            states = await pipeline.list_stages(session, project)
            versions = await sdp.active_version_info(session, [s.artifact.id for s in states])
            return {
                "project": {"name": project.name, "description": project.description},
                "current_stage": project.current_stage,
                "stages": [
                    _stage_json(s, info[0] if (info := versions.get(s.artifact.id)) else None)
                    for s in states
                ],
            }

    async def get_stage_output(stage: int | str, with_content: bool = True) -> dict[str, Any]:
        """One stage's active output: its data (the JSON the stage stores) and the package
        files it renders to, with their content unless with_content is false. `stage` is a
        number (1-9), a name (product, dataModel, database, api, stack, design, sections,
        infrastructure, export) or a label ("Data Model")."""
        snap = await server.snapshot()
        found = _find_stage(snap, stage)
        number = found.number
        files = await asyncio.to_thread(snapshot_files, snap, number)
        return {
            "number": number,
            "name": found.name,
            "label": found.label,
            "status": found.status,
            "version": found.version,
            "data": found.data,
            "files": [
                {
                    "path": path,
                    "uri": uri_of(path),
                    "mime_type": mime_type(path),
                    **({"content": text} if with_content else {}),
                }
                for path, text in sorted(files.items())
            ],
        }

    async def list_entities() -> dict[str, Any]:
        """The data model's entities: name, description, SQL table, field names, and the
        number of relationships each takes part in."""
        model = _data_model(await server.snapshot())
        return {
            "entities": [
                {
                    "name": e.name,
                    "description": e.description,
                    "table": table_name(e.name),
                    "fields": [f.name for f in e.fields],
                    "relationships": sum(
                        1 for r in model.relationships if e.name in (r.from_, r.to)
                    ),
                }
                for e in model.entities
            ]
        }

    async def get_entity(name: str) -> dict[str, Any]:
        """One entity of the data model (by name, any case, or by table name): its fields
        with their types and SQL columns, the relationships it takes part in, and the API
        endpoints that serve it."""
        snap = await server.snapshot()
        model = _data_model(snap)
        entity = _find_entity(model, name)
        api = _api(snap)
        return {
            "name": entity.name,
            "description": entity.description,
            "table": table_name(entity.name),
            "fields": [
                {**f.model_dump(mode="json", by_alias=True), "column": column_name(f.name)}
                for f in entity.fields
            ],
            "relationships": [
                _relationship_json(r) for r in model.relationships if entity.name in (r.from_, r.to)
            ],
            "endpoints": [e.key for e in api.endpoints if e.entity == entity.name] if api else [],
        }

    async def list_endpoints(entity: str | None = None) -> dict[str, Any]:
        """The API's endpoints (method, path, summary, entity, auth, request and response
        fields), optionally only those serving one entity (any case)."""
        api = _api(await server.snapshot())
        if api is None:
            raise ToolError("the API design (stage 4) has no valid output yet")
        wanted = entity.strip().casefold() if entity else None
        chosen = [e for e in api.endpoints if wanted is None or e.entity.casefold() == wanted]
        return {
            "base_path": api.base_path,
            "entity": entity,
            "endpoints": [_endpoint_json(e, api.base_path) for e in chosen],
        }

    async def search_spec(query: str, limit: int = 50) -> dict[str, Any]:
        """Case-insensitive text search over every file of the package: each matching
        line with its file path and line number (at most `limit`, up to 200)."""
        needle = query.strip()
        if not needle:
            raise ToolError("give some text to search for")
        package = await server.package()
        return _search(package.files, needle, max(1, min(limit, MAX_MATCHES)))

    async def validate() -> dict[str, Any]:
        """The package's cross-reference validation: entities vs. tables, API vs. data
        model, sections vs. API, missing stages. Status valid, warnings or errors, and each
        message with its rule, file and item."""
        package = await server.package()
        report: dict[str, Any] = package.report.to_json()
        return report

    for fn in (
        list_stages,
        get_stage_output,
        list_entities,
        get_entity,
        list_endpoints,
        search_spec,
        validate,
    ):
        tool(fn)


def build_server(
    maker: async_sessionmaker[AsyncSession],
    token_source: TokenSource,
    **options: Any,
) -> PackageServer:
    server = PackageServer(maker, token_source, **options)
    _add_tools(server)
    return server


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
            claims={"project_id": str(project.id)},
        )


def bearer_token() -> str | None:
    """The raw token of the HTTP request being served (set by the SDK's auth middleware)."""
    access = get_access_token()
    return access.token if access is not None else None


@dataclass
class HTTPEndpoint:
    """``/mcp`` in the web app. The SDK's session manager runs only once, so each run of
    the app's lifespan builds a new one (``running``); outside it (an app driven without
    its lifespan) the endpoint answers 503 instead of failing."""

    server: PackageServer
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
        bearer_token,
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
    maker = make_sessionmaker(engine)
    try:
        async with session_scope(maker) as session:
            found = await tokens.verify(session, raw_token)
        if found is None:
            print(
                "error: the MCP token is unknown, revoked or expired, or its project is gone",
                file=sys.stderr,
            )
            return 1
        server = build_server(maker, lambda: raw_token)
        await server.run_stdio_async()
        return 0
    finally:
        await engine.dispose()


def _log_to_stderr(settings: Settings) -> None:
    from atelier.core.logging import configure_logging

    # Logs go to stdout by default, which is the protocol's channel here.
    configure_logging(settings.log_level, stream="stderr")
