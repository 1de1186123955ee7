"""Paged lists on pages, as the API pages them (``?limit=N&cursor=…``): the page size an
address asks for, and the address of another page with the same filters."""

from __future__ import annotations

from urllib.parse import urlencode

# The API's largest page.
MAX_PAGE = 100


def page_size(raw: str, default: int) -> int:
    """``?limit=`` read leniently: an edited address shows a page, never an error."""
    if raw.isascii() and raw.isdigit():
        return min(max(int(raw), 1), MAX_PAGE)
    return default


def page_url(path: str, anchor: str = "", **params: str | int | None) -> str:
    """``path`` with the given query values; empty ones are left out, so that the first
    page of an unfiltered list is its plain address."""
    query = urlencode({name: value for name, value in params.items() if value not in (None, "")})
    return f"{path}?{query}{anchor}" if query else f"{path}{anchor}"
