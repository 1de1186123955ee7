"""Safe stored names for files whose names come from a client."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 200  # well under every file system's 255, room for a suffix
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_SPACES = re.compile(r"\s+")
# Names Windows refuses whatever the extension ("con.txt" included).
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10))} | {
    f"lpt{i}" for i in range(1, 10)
}


def safe_filename(name: str, *, fallback: str = "file") -> str:
    """The client's name without path parts, control characters or characters file
    systems refuse; Unicode NFC; at most ``MAX_NAME_BYTES`` bytes of UTF-8 with the
    extension kept; never empty, never hidden, never a reserved device name."""
    name = unicodedata.normalize("NFC", name)
    # Both separators: a name from Windows arrives as "C:\\Users\\me\\report.pdf".
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.lower() in _RESERVED:
        stem = f"{stem}_"
    if not stem.strip("_ "):
        stem = fallback
    ext = ext[:16]
    suffix = f".{ext}" if ext else ""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    encoded = stem.encode()
    if len(encoded) > budget:
        # Cut on a character boundary.
        stem = encoded[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    return f"{stem}{suffix}"
