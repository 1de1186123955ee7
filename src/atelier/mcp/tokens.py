"""MCP tokens: bearer tokens that let one MCP client read one project's design package.

The raw token is returned once, at creation; the database keeps only its SHA-256, so a
leaked database holds no usable token and a lookup is one indexed equality. A token
works while it is neither revoked nor expired, its project is not deleted, and the user
who made it can still read that project (leaving an organization ends their tokens).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from atelier.accounts.models import User
from atelier.accounts.principal import Principal
from atelier.core.db import utcnow
from atelier.core.errors import NotFound
from atelier.core.pagination import next_cursor, paginate_query
from atelier.core.security import token_digest
from atelier.mcp.models import MCPToken
from atelier.projects.access import access_level
from atelier.projects.models import Project

TOKEN_PREFIX = "atl_mcp_"
# Enough of the raw token to tell tokens apart in a list ("atl_mcp_" + 6 characters),
# far too little to guess the rest.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
# An MCP client makes many calls in a burst; one "last used" write per token per
# interval is plenty and keeps most calls read-only.
TOUCH_INTERVAL = dt.timedelta(seconds=30)


def new_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def looks_like_token(raw: str) -> bool:
    """Cheap check before any database work: other bearer tokens (sessions, API keys)
    and garbage are turned away without a query."""
    return raw.startswith(TOKEN_PREFIX) and len(raw) < 200


async def create_token(
    session: AsyncSession,
    *,
    project: Project,
    user: Principal,
    label: str,
    expires_at: dt.datetime | None,
) -> tuple[MCPToken, str]:
    """A new token for ``project``; returns the row and the raw token (shown once)."""
    raw = new_raw_token()
    row = MCPToken(
        user_id=user.id,
        project_id=project.id,
        token_hash=token_digest(raw),
        prefix=raw[:SHOWN_PREFIX_LENGTH],
        label=label,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, raw


async def list_tokens(
    session: AsyncSession, *, project: Project, cursor: str | None, limit: int
) -> tuple[list[MCPToken], str | None]:
    """The project's tokens, newest first (revoked and expired ones included)."""
    query = paginate_query(
        select(MCPToken).where(MCPToken.project_id == project.id),
        created_col=MCPToken.created_at,
        id_col=MCPToken.id,
        cursor=cursor,
        limit=limit,
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


async def get_token(session: AsyncSession, *, project: Project, token_id: uuid.UUID) -> MCPToken:
    # Looked up within the project: a token id of another project is simply not found.
    row = await session.scalar(
        select(MCPToken).where(MCPToken.id == token_id, MCPToken.project_id == project.id)
    )
    if row is None:
        raise NotFound("no such MCP token", code="mcp_token_not_found")
    return row


async def revoke_token(session: AsyncSession, *, project: Project, token_id: uuid.UUID) -> MCPToken:
    """Revoke a token of the project; revoking it again changes nothing."""
    row = await get_token(session, project=project, token_id=token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    return row


def is_usable(row: MCPToken, now: dt.datetime) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


async def verify(
    session: AsyncSession, raw: str, *, now: dt.datetime | None = None
) -> tuple[MCPToken, Project] | None:
    """The token and its project, or None when the token is unknown, revoked or expired,
    its project deleted, or its user no longer active or allowed to read the project."""
    if not looks_like_token(raw):
        return None
    found = (
        await session.execute(
            select(MCPToken, Project, User)
            .join(Project, Project.id == MCPToken.project_id)
            .join(User, User.id == MCPToken.user_id)
            .where(MCPToken.token_hash == token_digest(raw))
        )
    ).first()
    if found is None:
        return None
    row, project, user = found
    if not is_usable(row, now or utcnow()) or project.deleted_at is not None:
        return None
    if not user.is_active:
        return None
    level = await access_level(
        session,
        Principal.of(user),
        owner_id=project.owner_id,
        organization_id=project.organization_id,
    )
    if level is None:
        return None
    return row, project


async def touch(session: AsyncSession, row: MCPToken, *, now: dt.datetime | None = None) -> bool:
    """Record that the token was used, at most once per TOUCH_INTERVAL. Returns whether
    it wrote. The UPDATE repeats the condition so that concurrent calls write once."""
    now = now or utcnow()
    if row.last_used_at is not None and now - row.last_used_at < TOUCH_INTERVAL:
        return False
    result = await session.execute(
        update(MCPToken)
        .where(
            MCPToken.id == row.id,
            or_(MCPToken.last_used_at.is_(None), MCPToken.last_used_at <= now - TOUCH_INTERVAL),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    # Kept in step without marking the row dirty, which would write it a second time.
    set_committed_value(row, "last_used_at", now)
    return bool(result.rowcount)  # type: ignore[attr-defined]
