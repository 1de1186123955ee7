"""Upload kinds: which types a kind of file may be and how large.

The engine has two kinds of its own (``file``: any type it can process, ``image``);
each pack adds its own through ``PackSpec.upload_kinds`` (seed 003's ``screenshot``:
PNG or JPEG, at most 10 MB, 100 to 10,000 pixels each side). A setting may lower or
raise a kind's size limit: ``ATELIER_UPLOAD_KIND_MAX_BYTES='{"screenshot": 5000000}'``.
"""

from __future__ import annotations

from atelier.config import Settings
from atelier.core.errors import field_error
from atelier.core.packs import packs
from atelier.uploads import sniff
from atelier.uploads.kind_spec import UploadKind

DEFAULT_KIND = "file"


def engine_kinds(settings: Settings) -> tuple[UploadKind, ...]:
    return (
        UploadKind(
            key=DEFAULT_KIND,
            label="File",
            max_bytes=settings.upload_max_bytes,
            content_types=sniff.SUPPORTED,
        ),
        UploadKind(
            key="image",
            label="Image",
            max_bytes=settings.upload_max_bytes,
            content_types=tuple(sorted(sniff.IMAGE_TYPES)),
            min_side=1,
            max_side=settings.upload_max_image_side,
        ),
    )


def all_kinds(settings: Settings) -> dict[str, UploadKind]:
    """Every kind by key, the engine's first; a setting's size limit wins."""
    found: dict[str, UploadKind] = {}
    pack_kinds = tuple(kind for spec in packs.all() for kind in getattr(spec, "upload_kinds", ()))
    for kind in engine_kinds(settings) + pack_kinds:
        if kind.key in found:
            raise ValueError(f"two upload kinds named {kind.key!r}")
        found[kind.key] = kind
    overrides = settings.upload_kind_max_bytes
    return {
        key: kind.with_max_bytes(overrides[key]) if key in overrides else kind
        for key, kind in found.items()
    }


def resolve_kind(settings: Settings, key: str | None) -> UploadKind:
    kinds = all_kinds(settings)
    chosen = kinds.get(key or DEFAULT_KIND)
    if chosen is None:
        raise field_error("body.kind", f"unknown upload kind; one of: {', '.join(sorted(kinds))}")
    return chosen


def largest_limit(settings: Settings) -> int:
    """The largest any kind allows: what the request body limit lets through to the parser
    (which then applies the chosen kind's own limit)."""
    return max(kind.max_bytes for kind in all_kinds(settings).values())
