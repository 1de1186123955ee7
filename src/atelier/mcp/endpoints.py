"""/projects/{id}/mcp-tokens: tokens that let an MCP client (a coding agent) read one
software design project over the MCP server (/mcp, or `atelier mcp` on stdio)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Response, status
from pydantic import Field, StringConstraints

from atelier.accounts.scopes import Scope, require_scope
from atelier.core.db import utcnow
from atelier.core.deps import DB, Paging
from atelier.core.errors import Conflict, field_error
from atelier.core.openapi import error_responses
from atelier.core.packs import packs
from atelier.core.pagination import Page
from atelier.core.schemas import InputModel, OutputModel
from atelier.mcp import tokens
from atelier.mcp.models import MCPToken
from atelier.projects.access import ProjectAccess, ProjectRead, ProjectWrite
from atelier.projects.catalog import label_of
from atelier.stages import pipeline

router = APIRouter(prefix="/projects/{project_id}/mcp-tokens", tags=["mcp"])

MAX_DAYS = 3650


class MCPTokenCreate(InputModel):
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    expires_at: dt.datetime | None = Field(
        default=None, description="when the token stops working (UTC if no offset is given)"
    )
    expires_in_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = Field(
        default=None, description="or: how many days from now it stops working"
    )


class MCPTokenOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID
    label: str
    prefix: str = Field(description="the token's first characters, to recognise it")
    status: Literal["active", "expired", "revoked"]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, row: MCPToken) -> MCPTokenOut:
        return cls(
            id=row.id,
            project_id=row.project_id,
            user_id=row.user_id,
            label=row.label,
            prefix=row.prefix,
            status=_status(row, utcnow()),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


class MCPTokenCreated(MCPTokenOut):
    token: str = Field(description="The raw token. Shown once: store it now.")


def _status(row: MCPToken, now: dt.datetime) -> Literal["active", "expired", "revoked"]:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def _require_pipeline(access: ProjectAccess) -> None:
    """MCP tokens serve what the project's pack offers over MCP (``PackSpec.mcp``)."""
    spec = packs.get(access.project.pack)
    if pipeline.pipeline_of(access.project) is None or not getattr(spec, "mcp", None):
        serving = [s.label for s in packs.all() if getattr(s, "mcp", None)]
        raise Conflict(
            f"MCP tokens serve what a project's pack offers over MCP, and a "
            f"{label_of(access.project.pack)} project has nothing to serve; projects of "
            f"these packs do: {', '.join(serving) or 'none installed'}",
            code="no_stages",
        )


def _expiry(body: MCPTokenCreate, now: dt.datetime) -> dt.datetime | None:
    if body.expires_at is not None and body.expires_in_days is not None:
        raise field_error("body.expires_in_days", "give expires_at or expires_in_days, not both")
    if body.expires_in_days is not None:
        return now + dt.timedelta(days=body.expires_in_days)
    if body.expires_at is None:
        return None
    when = body.expires_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when <= now:
        raise field_error("body.expires_at", "must be in the future")
    return when.astimezone(dt.UTC)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MCPTokenCreated,
    responses=error_responses(409),
)
async def create_mcp_token(
    body: MCPTokenCreate, access: ProjectWrite, session: DB
) -> MCPTokenCreated:
    """A token for MCP clients to read this project. The raw ``token`` is in this answer
    only; send it as ``Authorization: Bearer <token>`` to ``/mcp``. Needs a session or
    an API key with the ``keys`` scope."""
    require_scope(access.user, Scope.KEYS)
    _require_pipeline(access)
    row, raw = await tokens.create_token(
        session,
        project=access.project,
        user=access.user,
        label=body.label,
        expires_at=_expiry(body, utcnow()),
    )
    return MCPTokenCreated(**MCPTokenOut.of(row).model_dump(), token=raw)


@router.get("", response_model=Page[MCPTokenOut], responses=error_responses(409))
async def list_mcp_tokens(access: ProjectRead, session: DB, page: Paging) -> Page[MCPTokenOut]:
    """The project's MCP tokens, newest first, revoked and expired ones included."""
    _require_pipeline(access)
    rows, cursor = await tokens.list_tokens(
        session, project=access.project, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[MCPTokenOut.of(r) for r in rows], next_cursor=cursor)


@router.delete(
    "/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(409)
)
async def revoke_mcp_token(token_id: uuid.UUID, access: ProjectWrite, session: DB) -> Response:
    """Revoke a token: it stops working at once, over HTTP and stdio alike."""
    require_scope(access.user, Scope.KEYS)
    _require_pipeline(access)
    await tokens.revoke_token(session, project=access.project, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
