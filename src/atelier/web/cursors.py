"""``?cursor=`` from a page's address, checked before a list is read with it."""

from __future__ import annotations

from atelier.core.errors import AtelierError
from atelier.core.pagination import decode_cursor


def cursor_or_none(cursor: str | None) -> str | None:
    """A cursor a page can use: a broken one (edited URL) starts from the first page."""
    if not cursor:
        return None
    try:
        decode_cursor(cursor)
    except AtelierError:
        return None
    return cursor
