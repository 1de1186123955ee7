"""Versions: numbered per artifact without gaps, exactly one active at a time."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from atelier.artifacts.models import (
    Artifact,
    ArtifactStatus,
    ArtifactVersion,
    GeneratedBy,
    VersionFormat,
)
from atelier.core.db import utcnow
from atelier.core.errors import Conflict, NotFound, field_error
from atelier.projects import stage_status


def published_error() -> Conflict:
    return Conflict(
        "the artifact is published: its versions and inputs are read-only until it is "
        "moved back to draft (PATCH status=draft)",
        code="artifact_published",
    )


def ensure_draft(artifact: Artifact) -> None:
    if artifact.status == ArtifactStatus.PUBLISHED:
        raise published_error()


def json_content(data: object) -> str:
    return orjson.dumps(data).decode()


async def _lock_artifact(session: AsyncSession, artifact: Artifact, *, bump: bool) -> int:
    """Take the artifact's write lock first (row lock on PostgreSQL, the database write
    lock on SQLite, before any version row is read) and optionally hand out a number.

    The row as it is under the lock replaces what the request read before taking it:
    a concurrent edit may have committed since, and the ORM writes output_data only if
    it differs from the value it believes is stored."""
    values: dict[str, object] = {"updated_at": utcnow()}
    if bump:
        values["latest_version"] = Artifact.latest_version + 1
    row = (
        await session.execute(
            update(Artifact)
            .where(Artifact.id == artifact.id)
            .values(**values)
            .returning(Artifact.latest_version, Artifact.output_data, Artifact.updated_at)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        raise NotFound("no such artifact", code="artifact_not_found")
    number, output_data, updated_at = row
    set_committed_value(artifact, "latest_version", number)
    set_committed_value(artifact, "output_data", output_data)
    set_committed_value(artifact, "updated_at", updated_at)
    return int(number)


async def lock_artifact(session: AsyncSession, artifact: Artifact) -> None:
    """Serialise with other writers of this artifact and refresh its version state."""
    await _lock_artifact(session, artifact, bump=False)


async def _deactivate_all(session: AsyncSession, artifact_id: uuid.UUID) -> None:
    await session.execute(
        update(ArtifactVersion)
        .where(ArtifactVersion.artifact_id == artifact_id, ArtifactVersion.is_active.is_(True))
        .values(is_active=False)
        .execution_options(synchronize_session=False)
    )


async def _insert_active(
    session: AsyncSession,
    artifact: Artifact,
    *,
    number: int,
    format: VersionFormat,
    content: str,
    generated_by: GeneratedBy,
    created_by_id: uuid.UUID | None,
    ai_generation_id: uuid.UUID | None,
    quality: dict[str, Any] | None = None,
) -> ArtifactVersion:
    version = ArtifactVersion(
        artifact_id=artifact.id,
        version=number,
        format=format,
        content=content,
        generated_by=generated_by,
        created_by_id=created_by_id,
        ai_generation_id=ai_generation_id,
        is_active=True,
        quality=quality,
    )
    session.add(version)
    await session.flush()
    return version


async def add_first_version(
    session: AsyncSession,
    *,
    artifact: Artifact,
    content: str,
    format: VersionFormat = VersionFormat.JSON,
    generated_by: GeneratedBy,
    created_by_id: uuid.UUID | None,
    ai_generation_id: uuid.UUID | None = None,
) -> ArtifactVersion:
    """Insert a new artifact together with its version 1: nobody else can see the
    artifact yet, so there is nothing to lock and nothing to deactivate."""
    artifact.latest_version = 1
    if format == VersionFormat.JSON:
        artifact.output_data = orjson.loads(content)
    session.add(artifact)
    await session.flush()
    return await _insert_active(
        session,
        artifact,
        number=1,
        format=format,
        content=content,
        generated_by=generated_by,
        created_by_id=created_by_id,
        ai_generation_id=ai_generation_id,
    )


async def add_version(
    session: AsyncSession,
    *,
    artifact: Artifact,
    content: str,
    format: VersionFormat = VersionFormat.JSON,
    generated_by: GeneratedBy,
    created_by_id: uuid.UUID | None,
    ai_generation_id: uuid.UUID | None = None,
    quality: dict[str, Any] | None = None,
) -> ArtifactVersion:
    """A new active version; ``quality`` is the checks' report on an AI answer."""
    ensure_draft(artifact)
    number = await _lock_artifact(session, artifact, bump=True)
    await _deactivate_all(session, artifact.id)
    version = await _insert_active(
        session,
        artifact,
        number=number,
        format=format,
        content=content,
        generated_by=generated_by,
        created_by_id=created_by_id,
        ai_generation_id=ai_generation_id,
        quality=quality,
    )
    if format == VersionFormat.JSON:
        artifact.output_data = orjson.loads(content)
    await _stage_follows(session, artifact)
    return version


async def _stage_follows(session: AsyncSession, artifact: Artifact) -> None:
    """A stage's artifact: its stage goes to review (or refuses, e.g. when locked)."""
    if artifact.stage_id is not None:
        await stage_status.output_changed(session, artifact.stage_id)


async def activate_version(
    session: AsyncSession, *, artifact: Artifact, number: int
) -> ArtifactVersion:
    ensure_draft(artifact)
    await _lock_artifact(session, artifact, bump=False)
    version = await session.scalar(
        select(ArtifactVersion).where(
            ArtifactVersion.artifact_id == artifact.id, ArtifactVersion.version == number
        )
    )
    if version is None:
        raise NotFound(f"artifact has no version {number}", code="version_not_found")
    if not version.is_active:
        await _deactivate_all(session, artifact.id)
        version.is_active = True
        await session.flush()
    if version.format == VersionFormat.JSON:
        artifact.output_data = orjson.loads(version.content)
    await session.flush()
    await _stage_follows(session, artifact)
    return version


async def get_version(session: AsyncSession, *, artifact: Artifact, number: int) -> ArtifactVersion:
    version = await session.scalar(
        select(ArtifactVersion).where(
            ArtifactVersion.artifact_id == artifact.id, ArtifactVersion.version == number
        )
    )
    if version is None:
        raise NotFound(f"artifact has no version {number}", code="version_not_found")
    return version


async def list_versions(
    session: AsyncSession, *, artifact: Artifact, cursor: str | None, limit: int
) -> tuple[list[ArtifactVersion], str | None]:
    """Newest first; the cursor is the last version number seen."""
    query = select(ArtifactVersion).where(ArtifactVersion.artifact_id == artifact.id)
    if cursor:
        # ASCII digits only (str.isdigit also accepts "²", which int() refuses), and short
        # enough to bind as an integer on every back end.
        if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 10):
            raise field_error("query.cursor", "not a cursor returned by this API")
        query = query.where(ArtifactVersion.version < int(cursor))
    query = query.order_by(ArtifactVersion.version.desc()).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].version) if more and rows else None)


async def active_version_info(
    session: AsyncSession, artifact_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, str]]:
    """(number, generated_by) of each artifact's active version, in one query."""
    rows = await session.execute(
        select(
            ArtifactVersion.artifact_id, ArtifactVersion.version, ArtifactVersion.generated_by
        ).where(ArtifactVersion.artifact_id.in_(artifact_ids), ArtifactVersion.is_active.is_(True))
    )
    return {a: (v, str(g.value if hasattr(g, "value") else g)) for a, v, g in rows}
