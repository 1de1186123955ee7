"""Where files the app keeps (uploads, export packages) live: one small interface.

Keys are relative, slash-separated paths ("exports/<project>/<id>.zip"), checked by
`check_key` before any implementation touches them. `LocalStorage` keeps them under a
folder; `atelier.core.storage_s3.S3Storage` keeps them in an S3-compatible bucket.
`make_storage` picks one from the settings.

Every method is synchronous and may block on disk or network: async callers run them in
a thread (`asyncio.to_thread`, or `iterate_in_threadpool` for `iter_chunks`). Files move
in chunks both ways, so an upload or a download never has to fit in memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from atelier.config import Settings

DEFAULT_CHUNK_SIZE = 1 << 20


class StorageError(Exception):
    """A key that is not safe, or a file that is not there."""


class NotInStorage(StorageError, FileNotFoundError):
    """No file under that key.

    Also a FileNotFoundError, so code that opened files before there was a storage
    interface (and catches that) still sees a missing file as one.
    """


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> int:
        """Store `data` under `key` (replacing it); the number of bytes stored."""
        ...

    def put_file(self, key: str, source: Path) -> int:
        """Store a local file under `key`, streamed; the number of bytes stored."""
        ...

    def get(self, key: str) -> bytes:
        """The whole file; NotInStorage if there is none."""
        ...

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """The file in chunks of at most `chunk_size` bytes.

        NotInStorage is raised by this call, not by the first `next()`: a caller can
        answer 404 before it starts a response.
        """
        ...

    def download(self, key: str, target: Path) -> None:
        """Copy the file to a local path, streamed; NotInStorage if there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> list[str]:
        """Keys under a folder-like prefix (not the prefix itself), sorted."""
        ...

    def delete(self, prefix: str) -> None:
        """Remove a key, or everything under a folder-like prefix; missing is no error."""
        ...


def check_key(key: str) -> PurePosixPath:
    """A safe relative key: no absolute paths, no "..", no empty or dot parts."""
    path = PurePosixPath(key)
    if (
        not key
        or path.is_absolute()
        or "\\" in key
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise StorageError(f"not a valid storage key: {key!r}")
    return path


def write_atomically(target: Path, chunks: Iterable[bytes]) -> int:
    """Write chunks to a temporary file beside `target`, then rename it into place.

    A reader never sees half a file and a crash leaves no partial one: the rename is
    atomic because the temporary file is in the same folder (same file system).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written


class ClosingChunks(Iterator[bytes]):
    """An iterator over an already opened source that releases it once exhausted.

    Not a generator: the source is opened (and a missing file reported) before this
    object exists, and `close()` releases the source even if iteration never started,
    which a generator's `close()` would not.
    """

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None] | None = None):
        self._chunks: Iterator[bytes] | None = chunks
        self._release = release

    def __iter__(self) -> ClosingChunks:
        return self

    def __next__(self) -> bytes:
        if self._chunks is None:
            raise StopIteration
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        chunks, self._chunks = self._chunks, None
        if chunks is not None and self._release is not None:
            self._release()


def _read_chunks(handle: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    return iter(lambda: handle.read(chunk_size), b"")


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).parts)

    def _open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            # A folder-like prefix is not a file, as in object storage.
            raise NotInStorage(f"no stored file {key!r}") from None

    def put(self, key: str, data: bytes) -> int:
        return write_atomically(self._path(key), (data,))

    def put_file(self, key: str, source: Path) -> int:
        target = self._path(key)
        with source.open("rb") as handle:
            return write_atomically(target, _read_chunks(handle, DEFAULT_CHUNK_SIZE))

    def get(self, key: str) -> bytes:
        with self._open(key) as handle:
            return handle.read()

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        handle = self._open(key)
        return ClosingChunks(_read_chunks(handle, chunk_size), handle.close)

    def download(self, key: str, target: Path) -> None:
        with self._open(key) as handle:
            write_atomically(target, _read_chunks(handle, DEFAULT_CHUNK_SIZE))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(
            f"{prefix}/{p.relative_to(base).as_posix()}" for p in base.rglob("*") if p.is_file()
        )

    def delete(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def make_storage(settings: Settings) -> Storage:
    """The folder under the data directory, or the bucket of `storage_url` when set."""
    if settings.storage_url is None:
        return LocalStorage(settings.resolved_storage_dir)
    # Imported here: an install that keeps files on disk never loads obstore.
    from atelier.core.storage_s3 import S3Storage

    return S3Storage.from_settings(settings)
