"""Full-text search over uploads' extracted text, the same on both back ends.

SQLite: the FTS5 table ``upload_texts_fts`` (kept in step by triggers, migration 0009).
PostgreSQL: the generated ``upload_texts.search`` tsvector (the 'simple' configuration:
lower case, no stemming, accents kept) with its GIN index. A query is cut into words
(letters and digits; everything else separates, as both tokenizers do) and an upload
matches when its text holds every word.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, TextClause, column, select, table, text

from atelier.core.errors import field_error

MAX_TERMS = 16
_WORD = re.compile(r"[^\W_]+")
_FTS = table("upload_texts_fts", column("upload_id"))
_TEXTS = table("upload_texts", column("upload_id"))


def search_terms(query: str) -> list[str]:
    terms = [word.lower() for word in _WORD.findall(query)]
    if not terms:
        raise field_error("query.q", "search for at least one word (letters or digits)")
    if len(terms) > MAX_TERMS:
        raise field_error("query.q", f"search for at most {MAX_TERMS} words")
    return terms


def matching_ids(dialect: str, query: str) -> Select[tuple[Any]]:
    """The ids of uploads whose text has every word of ``query``."""
    terms = search_terms(query)
    condition: TextClause
    if dialect == "postgresql":
        # Words hold letters and digits only: nothing in them is tsquery syntax.
        condition = text("upload_texts.search @@ to_tsquery('simple', :terms)").bindparams(
            terms=" & ".join(terms)
        )
        return select(_TEXTS.c.upload_id).where(condition)
    # FTS5: each word quoted (a phrase of one), space-separated words must all match.
    condition = text("upload_texts_fts MATCH :terms").bindparams(
        terms=" ".join(f'"{term}"' for term in terms)
    )
    return select(_FTS.c.upload_id).where(condition)
