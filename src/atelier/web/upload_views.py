"""How the uploads pages show a file: sizes in human units, type names, status badges,
the facts of its metadata, and what the upload zone's script needs to know.

The script (static/js/uploads.js) words the API's errors with the same type names and
size units, so both are handed to it from here rather than written twice."""

from __future__ import annotations

from typing import Any

from atelier.config import Settings
from atelier.uploads import sniff
from atelier.uploads.kinds import DEFAULT_KIND, all_kinds
from atelier.uploads.models import Upload, UploadStatus

# Types as people name them; the API speaks MIME types.
TYPE_NAMES: dict[str, str] = {
    sniff.PDF: "PDF",
    sniff.DOCX: "Word",
    sniff.XLSX: "Excel",
    sniff.CSV: "CSV",
    sniff.MARKDOWN: "Markdown",
    sniff.TEXT: "Text",
    sniff.PNG: "PNG image",
    sniff.JPEG: "JPEG image",
    sniff.WEBP: "WebP image",
}

# Status → (words, badge class of app.css): the existing badge colours, not new ones.
STATUSES: dict[str, tuple[str, str]] = {
    UploadStatus.PENDING.value: ("Waiting", "badge-queued"),
    UploadStatus.PROCESSING.value: ("Processing", "badge-running"),
    UploadStatus.COMPLETED.value: ("Completed", "badge-ok"),
    UploadStatus.FAILED.value: ("Failed", "badge-failed"),
    UploadStatus.DELETED.value: ("Deleted", "badge-cancelled"),
}

# The filter offers what a list can hold; deleted files are records without content.
STATUS_FILTERS: tuple[tuple[str, str], ...] = (
    ("", "Any status"),
    *((s.value, STATUSES[s.value][0]) for s in UploadStatus if s != UploadStatus.DELETED),
)

# The languages atelier.uploads.language tells apart.
LANGUAGES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}

_UNITS = ("KB", "MB", "GB", "TB")


def human_size(size: int | None) -> str:
    """Bytes as people read them: "812 bytes", "3.4 KB", "50 MB" (binary units, as the
    limits are set). uploads.js has the same function for the errors it words."""
    if size is None:
        return "—"
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = float(size)
    index = 0
    value /= 1024
    while value >= 1024 and index < len(_UNITS) - 1:
        value /= 1024
        index += 1
    unit = _UNITS[index]
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{text.removesuffix('.0')} {unit}"


def type_name(mime: str) -> str:
    return TYPE_NAMES.get(mime, mime)


def status_words(status: UploadStatus) -> str:
    return STATUSES[status.value][0]


def status_badge(status: UploadStatus) -> str:
    return STATUSES[status.value][1]


def is_image(upload: Upload) -> bool:
    return upload.mime_type in sniff.IMAGE_TYPES


def _count(value: Any, one: str, many: str) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return f"{value:,} {one if value == 1 else many}"


def facts(upload: Upload) -> list[tuple[str, str]]:
    """What the record says about the file, for the preview page (metadata the
    processing did not write is left out, not shown as blanks)."""
    meta = upload.meta or {}
    rows = [("Type", type_name(upload.mime_type)), ("Size", human_size(upload.size))]
    pages = _count(meta.get("pages"), "page", "pages")
    if pages:
        rows.append(("Pages", pages))
    words = _count(meta.get("words"), "word", "words")
    if words:
        rows.append(("Words", words))
    language = meta.get("language")
    if isinstance(language, str) and language:
        rows.append(("Language", LANGUAGES.get(language, language)))
    width, height = meta.get("width"), meta.get("height")
    if isinstance(width, int) and isinstance(height, int):
        rows.append(("Dimensions", f"{width:,} \u00d7 {height:,} pixels"))
    charset = meta.get("charset")
    if isinstance(charset, str) and charset:
        rows.append(("Character set", charset))
    return rows


def zone_config(settings: Settings, project_id: str | None) -> dict[str, Any]:
    """What uploads.js needs: where to send files, the limit it checks before sending
    (the API checks it again), and the names of types for its messages."""
    kind = all_kinds(settings)[DEFAULT_KIND]
    return {
        "url": "/api/v1/uploads",
        "projectId": project_id,
        "maxBytes": kind.max_bytes,
        "typeNames": TYPE_NAMES,
    }


def accepted_names(settings: Settings) -> list[str]:
    """The types the upload zone accepts, as its hint lists them."""
    kind = all_kinds(settings)[DEFAULT_KIND]
    return [type_name(mime) for mime in kind.content_types]


def max_size(settings: Settings) -> str:
    return human_size(all_kinds(settings)[DEFAULT_KIND].max_bytes)


HELPERS = {
    "human_size": human_size,
    "type_name": type_name,
    "status_words": status_words,
    "status_badge": status_badge,
    "is_image": is_image,
}
