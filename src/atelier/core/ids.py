"""Identifiers and slugs."""

from __future__ import annotations

import re
import unicodedata
import uuid

from atelier.core.errors import NotFound


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def parse_id(raw: str, *, what: str = "object") -> uuid.UUID:
    """Parse an id from a URL; a malformed one is simply an object that does not exist."""
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(f"{what} {raw!r} is not a valid id", code="invalid_id") from None


_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_length: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "project"
