"""What a file is, from its bytes: the client's Content-Type and extension are not trusted.

Binary formats are recognised by their signatures (puremagic, a maintained pure-Python
table of magic numbers); zip containers are told apart by the members they hold (a
DOCX has ``word/document.xml``, an XLSX ``xl/workbook.xml``); text has no signature, so
a file is text when its bytes decode in a known character set and hold no control bytes.
Only then does the name's extension choose between plain text, Markdown and CSV: an
extension can make a text file a CSV, never a binary file anything.
"""

from __future__ import annotations

import codecs
import contextlib
import zipfile
from pathlib import Path

import puremagic
from charset_normalizer import from_bytes

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
CSV = "text/csv"
MARKDOWN = "text/markdown"
TEXT = "text/plain"

IMAGE_TYPES = frozenset({PNG, JPEG, WEBP})
TEXT_TYPES = frozenset({CSV, MARKDOWN, TEXT})
# Every type the engine can process; a kind accepts these or fewer.
SUPPORTED = (PDF, DOCX, XLSX, CSV, MARKDOWN, TEXT, PNG, JPEG, WEBP)

# How much of the file's start the sniffers read.
HEAD_BYTES = 64 * 1024

_SIGNATURE_TYPES = {
    "application/pdf": PDF,
    "image/png": PNG,
    "image/jpeg": JPEG,
    "image/webp": WEBP,
}
_TEXT_EXTENSIONS = {".csv": CSV, ".tsv": CSV, ".md": MARKDOWN, ".markdown": MARKDOWN}
_ALLOWED_CONTROLS = set(b"\t\n\r\x0c")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_WESTERN = ("cp1252", "latin_1", "iso8859_15")


def sniff(path: Path, original_name: str) -> str | None:
    """The MIME type of the file at ``path``, or None when it is none we know."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        return None
    if head.startswith(b"PK\x03\x04"):
        return _office_type(path)
    found = _signature_type(head)
    if found is not None:
        return found
    if _looks_like_text(head):
        suffix = Path(original_name).suffix.lower()
        return _TEXT_EXTENSIONS.get(suffix, TEXT)
    return None


def _signature_type(head: bytes) -> str | None:
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        mime = _SIGNATURE_TYPES.get(match.mime_type)
        if mime is not None:
            return mime
    return None


def _office_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith(_UTF16_BOMS):
        # Spreadsheet programs save "Unicode text" as UTF-16: zero bytes are expected.
        try:
            head[2 : len(head) - len(head) % 2].decode("utf-16")
            return True
        except UnicodeDecodeError:
            return False
    if any(byte < 0x20 and byte not in _ALLOWED_CONTROLS for byte in head):
        return False
    with contextlib.suppress(UnicodeDecodeError):
        # final=False: a character cut at the end of the sample is not a reason to refuse.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    best = from_bytes(head).best()
    return best is not None and best.encoding is not None


def decode_text(data: bytes) -> tuple[str, str]:
    """Text and the character set it was read in (UTF-8 first, then charset detection)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace"), "utf-16"
    with contextlib.suppress(UnicodeDecodeError):
        return data.decode("utf-8"), "utf-8"
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return data.decode("utf-8", errors="replace"), "utf-8"
    # Short Western text decodes without a flaw in several code pages (cp1250 turns "è"
    # into "č"); among the equally good, the one Western software writes wins.
    for match in matches:
        if match.encoding in _WESTERN and match.chaos <= best.chaos:
            return str(match), match.encoding
    return str(best), best.encoding
