"""Database: engine, sessions, declarative base and mixins."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Enum, MetaData, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from atelier.config import Settings
from atelier.core.ids import new_id
from atelier.core.sqlite_inline import make_creator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on every back end (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Enums stored as strings with a CHECK: portable, and a new value needs no type change."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSONType}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class CreatedMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=False)


class TimestampMixin(CreatedMixin):
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SoftDeleteMixin:
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def make_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    if url is None:
        url = settings.resolved_database_url
        if settings.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
    sa_url = make_url(url)
    kwargs: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        # orjson: JSON columns are on every artifact read and write.
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if sa_url.get_backend_name() == "sqlite":
        database = sa_url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ValueError("Atelier needs a SQLite database file, not an in-memory one")
        # See sqlite_inline: no thread hand-offs, and writers queue instead of sleeping.
        kwargs["async_creator"] = make_creator(database, pragmas=SQLITE_PRAGMAS)
        kwargs["max_overflow"] = settings.db_pool_size
    else:
        kwargs["max_overflow"] = settings.db_pool_size * 2
    return create_async_engine(sa_url, **kwargs)


def make_sessionmaker(engine: AsyncEngine, settings: Settings) -> async_sessionmaker[AsyncSession]:
    """Sessions that carry the settings in their ``info``: code deep in a transaction
    (the plan limits of accounts/limits.py) reads them from there."""
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, info={"settings": settings}
    )


@asynccontextmanager
async def session_scope(
    maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit if the block succeeds, roll back if it raises."""
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
