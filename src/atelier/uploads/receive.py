"""Read a multipart upload from the request as it arrives, into a temporary file.

The body is never held in memory: each chunk is hashed, counted and written, and the
read stops as soon as the file passes its limit (the chosen kind's size limit, or what
is left of the user's quota). Small form fields (``project_id``, ``kind``) are capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from atelier.core.errors import AtelierError, field_error

FIELD_MAX_BYTES = 1024
FILE_FIELD = "file"


class PayloadTooLarge(AtelierError):
    status_code = 413
    code = "file_too_large"


@dataclass
class Received:
    """What the form held: the file (in ``path``) and the small fields."""

    path: Path | None = None
    original_name: str = ""
    size: int = 0
    sha256: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


class _Limit(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    buffer: bytearray = field(default_factory=bytearray)


def boundary_of(content_type: str | None) -> bytes:
    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise field_error("body", "send the file as multipart/form-data with a 'file' field")
    return boundary


async def receive_upload(
    chunks: AsyncIterator[bytes],
    *,
    content_type: str | None,
    temp_dir: Path,
    limit_for: Callable[[dict[str, str]], tuple[int, str]],
) -> Received:
    """Parse the form; the file goes to a new file in ``temp_dir``.

    ``limit_for(fields_so_far)`` gives the file's byte limit and the error code to
    answer with past it (the fields before the file may choose a kind with its own
    limit). On any error the partial file is removed."""
    boundary = boundary_of(content_type)
    await asyncio.to_thread(temp_dir.mkdir, parents=True, exist_ok=True)
    received = Received()
    part = _Part()
    header_field = bytearray()
    header_value = bytearray()
    state: dict[str, Any] = {"handle": None, "hash": None, "limit": 0, "code": "", "files": 0}

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        # Latin-1 keeps the raw bytes: names and filenames are UTF-8 inside them, decoded
        # once they are parsed out (parse_options_header works on Latin-1 text).
        name = header_field.decode("latin-1").lower()
        part.headers[name] = header_value.decode("latin-1")
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, params = parse_options_header(part.headers.get("content-disposition", ""))
        part.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        part.filename = filename.decode("utf-8", "replace") if filename is not None else None
        if part.name == FILE_FIELD and part.filename is not None:
            state["files"] += 1
            if state["files"] > 1:
                raise field_error("body.file", "send one file per request")
            fd, name = tempfile.mkstemp(dir=temp_dir, prefix="upload-")
            received.path = Path(name)
            received.original_name = part.filename
            state["handle"] = os.fdopen(fd, "wb")
            state["hash"] = hashlib.sha256()
            state["limit"], state["code"] = limit_for(received.fields)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        handle = state["handle"]
        if handle is not None:
            received.size += len(chunk)
            if received.size > state["limit"]:
                raise _Limit(state["limit"])
            state["hash"].update(chunk)
            handle.write(chunk)
            return
        part.buffer.extend(chunk)
        if len(part.buffer) > FIELD_MAX_BYTES:
            raise field_error(f"body.{part.name}", f"over {FIELD_MAX_BYTES} bytes")

    def on_part_end() -> None:
        handle = state["handle"]
        if handle is not None:
            handle.close()
            state["handle"] = None
            received.sha256 = state["hash"].hexdigest()
        elif part.name:
            received.fields[part.name] = part.buffer.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except _Limit as exceeded:
        received.discard()
        raise PayloadTooLarge(
            {"limit_bytes": exceeded.limit, "message": f"the file is over {exceeded.limit} bytes"},
            code=state["code"],
        ) from None
    except MultipartParseError:
        received.discard()
        raise field_error("body", "not a well-formed multipart/form-data body") from None
    except BaseException:
        received.discard()
        raise
    finally:
        handle = state["handle"]
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
    if received.path is not None and state["handle"] is None and not received.sha256:
        # The body ended inside the file part.
        received.discard()
        raise field_error("body.file", "the upload ended before the file did")
    return received
