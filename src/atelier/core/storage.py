"""Where files the app produces (export packages) are kept: one small interface.

Keys are relative, slash-separated paths ("exports/<project>/<id>.zip"); the local
implementation keeps them under a folder. An S3-compatible store would implement the same
four methods.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Protocol


class StorageError(Exception):
    """A key that is not safe, or a file that is not there."""


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> int: ...
    def get(self, key: str) -> bytes: ...
    def list(self, prefix: str) -> list[str]: ...
    def delete(self, prefix: str) -> None: ...


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


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).parts)

    def put(self, key: str, data: bytes) -> int:
        """Write atomically: a reader never sees half a file, a crash leaves no partial one."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return len(data)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"no stored file {key!r}") from None

    def list(self, prefix: str) -> list[str]:
        """Keys under a folder-like prefix, sorted."""
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
