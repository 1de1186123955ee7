"""``UploadKind``: a kind of file, its accepted types and limits (packs declare theirs in
``PackSpec.upload_kinds``; the engine's own are in ``uploads.kinds``)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadKind:
    """A kind of file a pack accepts, and its limits (atelier.uploads.kinds).

    ``content_types`` are MIME types sniffed from the bytes (atelier.uploads.sniff);
    ``min_side``/``max_side`` bound an image's width and height in pixels."""

    key: str
    label: str
    max_bytes: int
    content_types: tuple[str, ...]
    min_side: int | None = None
    max_side: int | None = None

    def with_max_bytes(self, max_bytes: int) -> UploadKind:
        return replace(self, max_bytes=max_bytes)
