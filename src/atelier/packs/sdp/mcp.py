"""What the software design pack serves over MCP (``PackSpec.mcp``): one project's
Software Design Package, read by a coding agent.

The package (``build_package``) is served as resources, ``sdp://package/<path>``, and a
few read-only tools answer the questions an agent asks while it builds the product: the
stages, an entity, the endpoints, a text search, the cross-reference report. Each call
renders the package afresh from the database (``atelier.mcp.server`` looks the token up
for every call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, unquote

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.mcpserver.tools import ToolManager
from mcp_types import Resource as MCPResource
from mcp_types import ToolAnnotations

from atelier.mcp.server import ProjectServer
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
from atelier.stages import pipeline

URI_PREFIX = "sdp://package/"
MAX_MATCHES = 200
MAX_LINE = 300  # characters of a matching line shown by search_spec

TITLE = "Atelier software design package"
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


def mime_type(path: str) -> str:
    suffix = path[path.rfind(".") :] if "." in path else ""
    return MIME_TYPES.get(suffix, "text/plain")


def uri_of(path: str) -> str:
    return URI_PREFIX + quote(path, safe="/-._~")


def path_of(uri: str) -> str | None:
    return unquote(uri[len(URI_PREFIX) :]) if uri.startswith(URI_PREFIX) else None


async def snapshot(server: ProjectServer) -> ProjectSnapshot:
    async with server.project() as (session, project):
        return await sdp.snapshot(session, project)


async def package(server: ProjectServer) -> Package:
    snap = await snapshot(server)
    # Rendering is pure CPU work (OpenAPI, Markdown): off the event loop.
    return await asyncio.to_thread(build_package, snap)


# ---------------------------------------------------------------------------- resources
def _stage_of_path(path: str) -> StageSpec | None:
    folder = path.split("/", 1)[0]
    return next((s for s in STAGES if s.folder == folder), None)


def _resource(path: str, content: bytes, built: Package) -> MCPResource:
    spec = _stage_of_path(path)
    if spec is not None:
        description = f"Stage {spec.number}, {spec.label}: {spec.summary}"
    elif path == "manifest.json":
        description = "Every stage with its status and files, and each file's SHA-256"
    else:
        description = f"Index of {built.manifest['project']['name']}: stages and validation"
    return MCPResource(
        uri=uri_of(path),
        name=path,
        title=path.rsplit("/", 1)[-1],
        description=description,
        mime_type=mime_type(path),
        size=len(content),
    )


# -------------------------------------------------------------------------------- tools
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


def _add_tools(server: ProjectServer, tools: ToolManager) -> None:
    def tool(fn: Callable[..., Any]) -> None:
        tools.add_tool(fn, annotations=READ_ONLY)

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
        snap = await snapshot(server)
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
        model = _data_model(await snapshot(server))
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
        snap = await snapshot(server)
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
        api = _api(await snapshot(server))
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
        built = await package(server)
        return _search(built.files, needle, max(1, min(limit, MAX_MATCHES)))

    async def validate() -> dict[str, Any]:
        """The package's cross-reference validation: entities vs. tables, API vs. data
        model, sections vs. API, missing stages. Status valid, warnings or errors, and each
        message with its rule, file and item."""
        built = await package(server)
        report: dict[str, Any] = built.report.to_json()
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


class SdpMCP:
    """The software design pack's ``atelier.mcp.server.PackMCP``."""

    title = TITLE
    instructions = INSTRUCTIONS

    def add_tools(self, server: ProjectServer, tools: ToolManager) -> None:
        _add_tools(server, tools)

    async def list_resources(self, server: ProjectServer) -> list[MCPResource]:
        built = await package(server)
        return [_resource(path, content, built) for path, content in built.files.items()]

    async def read_resource(
        self, server: ProjectServer, uri: str
    ) -> Iterable[ReadResourceContents]:
        path = path_of(uri)
        if path is None:
            raise ResourceNotFoundError(f"not a package file: URIs start with {URI_PREFIX}")
        built = await package(server)
        content = built.files.get(path)
        if content is None:
            raise ResourceNotFoundError(f"the package has no file {path!r}; list the resources")
        return [ReadResourceContents(content=content.decode(), mime_type=mime_type(path))]


MCP = SdpMCP()
