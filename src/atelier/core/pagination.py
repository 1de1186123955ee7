"""Keyset (cursor) pagination, newest first, stable under concurrent inserts."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from atelier.core.errors import field_error

T = TypeVar("T")
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(created_at: dt.datetime, row_id: uuid.UUID) -> str:
    raw = orjson.dumps([created_at.isoformat(), str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(created, str) or not isinstance(row_id, str):
            raise TypeError("cursor parts must be strings")
        when = dt.datetime.fromisoformat(created)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        # Normalised here so that a date at the edge of the calendar cannot overflow later,
        # when the database driver converts it.
        return when.astimezone(dt.UTC), uuid.UUID(row_id)
    except (ValueError, TypeError, OverflowError, orjson.JSONDecodeError):
        raise field_error("query.cursor", "not a cursor returned by this API") from None


def paginate_query(
    query: Q,
    *,
    created_col: InstrumentedAttribute[dt.datetime],
    id_col: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
) -> Q:
    """Order newest first and fetch one extra row to know whether a next page exists."""
    if cursor:
        created, row_id = decode_cursor(cursor)
        query = query.where(
            or_(created_col < created, and_(created_col == created, id_col < row_id))
        )
    return query.order_by(created_col.desc(), id_col.desc()).limit(limit + 1)


def next_cursor(rows: Sequence[Any], limit: int) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(last.created_at, last.id)
