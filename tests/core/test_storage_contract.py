"""One contract for every storage implementation: the folder and an S3-compatible bucket.

The S3 half runs against moto's standalone server (tests/s3server.py), a fresh bucket
per test and a prefix inside it, so what is checked includes the prefix mapping. No
database: the storage interface needs none.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from atelier.config import Settings
from atelier.core.storage import (
    ClosingChunks,
    LocalStorage,
    NotInStorage,
    Storage,
    StorageError,
    make_storage,
)
from atelier.core.storage_s3 import PART_SIZE, S3Storage
from tests.s3server import make_bucket

MB = 1024 * 1024
PREFIX = "some/prefix"
SECRET = "s3cr3t-never-shown-anywhere"


def _fresh_bucket(endpoint: str) -> str:
    name = f"atelier-test-{uuid.uuid4().hex[:16]}"
    make_bucket(endpoint, name)
    return name


def _s3(endpoint: str, bucket: str, prefix: str | None = PREFIX) -> S3Storage:
    url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    return S3Storage(
        url,
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key=SECRET,
    )


@pytest.fixture
def s3_bucket(s3_server: str) -> tuple[str, str]:
    return s3_server, _fresh_bucket(s3_server)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    # Only the s3 half asks for the server: the local half runs without moto.
    endpoint, bucket = request.getfixturevalue("s3_bucket")
    return _s3(endpoint, bucket)


def _random_file(path: Path, size: int) -> str:
    """Write `size` random bytes; their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        left = size
        while left:
            block = os.urandom(min(left, MB))
            handle.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(MB), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the contract ---------------------------------------------------------------------


def test_put_then_get_round_trip(storage: Storage) -> None:
    assert storage.put("exports/p1/a.json", b'{"a": 1}') == 8
    assert storage.get("exports/p1/a.json") == b'{"a": 1}'
    assert storage.put("exports/p1/a.json", b"replaced") == 8
    assert storage.get("exports/p1/a.json") == b"replaced"
    assert storage.put("empty", b"") == 0
    assert storage.get("empty") == b""


def test_a_large_file_goes_in_streamed_and_comes_back_identical(
    storage: Storage, tmp_path: Path
) -> None:
    # Past one 5 MiB part: on S3 this is a multipart upload (checked below, S3 only).
    size = 12 * MB + 12345
    source = tmp_path / "big.bin"
    expected = _random_file(source, size)

    assert storage.put_file("uploads/u1/original", source) == size

    chunk_size = 1_000_000  # not a power of two, so no boundary lines up by chance
    digest, total, sizes = hashlib.sha256(), 0, []
    for chunk in storage.iter_chunks("uploads/u1/original", chunk_size):
        sizes.append(len(chunk))
        total += len(chunk)
        digest.update(chunk)
    assert total == size
    assert digest.hexdigest() == expected
    assert max(sizes) <= chunk_size
    assert all(s > 0 for s in sizes)

    target = tmp_path / "out" / "copy.bin"
    storage.download("uploads/u1/original", target)
    assert target.stat().st_size == size
    assert _sha256_file(target) == expected
    assert [p.name for p in target.parent.iterdir()] == ["copy.bin"]  # no temporary left


def test_iter_chunks_of_a_small_file_and_its_end(storage: Storage) -> None:
    storage.put("k", b"0123456789")
    chunks = storage.iter_chunks("k", 4)
    assert list(chunks) == [b"0123", b"4567", b"89"]
    with pytest.raises(StopIteration):
        next(chunks)
    storage.put("empty", b"")
    assert list(storage.iter_chunks("empty")) == []


def test_exists(storage: Storage) -> None:
    storage.put("folder/file.txt", b"x")
    assert storage.exists("folder/file.txt")
    assert not storage.exists("folder/other.txt")
    assert not storage.exists("folder")  # a folder-like prefix is not a file
    assert not storage.exists("nowhere/at/all")


def test_list_under_a_prefix(storage: Storage) -> None:
    for key in ("docs/b.txt", "docs/a.txt", "docs/sub/c.txt", "docs2/d.txt", "doc", "z/e"):
        storage.put(key, key.encode())

    assert storage.list("docs") == ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt"]
    assert storage.list("docs/sub") == ["docs/sub/c.txt"]
    assert storage.list("docs/a.txt") == []  # a file, not a folder
    assert storage.list("nothing") == []
    # What list returns is what get takes.
    assert [storage.get(k) for k in storage.list("docs/sub")] == [b"docs/sub/c.txt"]


def test_delete_a_key_and_a_prefix(storage: Storage) -> None:
    for key in ("e/1/a", "e/1/sub/b", "e/2/c", "e/1x/d"):
        storage.put(key, b"x")

    storage.delete("e/2/c")
    assert not storage.exists("e/2/c")
    assert storage.list("e/2") == []

    storage.delete("e/1")
    assert storage.list("e/1") == []
    assert not storage.exists("e/1/a")
    assert storage.list("e") == ["e/1x/d"]  # a sibling sharing the name's start stays

    storage.delete("e/1")  # again: nothing there is no error
    storage.delete("never/was")


def test_a_missing_key(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(NotInStorage):
        storage.get("missing/file")
    with pytest.raises(NotInStorage):
        # Raised by the call itself, before any next(): a caller can still answer 404.
        storage.iter_chunks("missing/file")
    target = tmp_path / "target"
    with pytest.raises(NotInStorage):
        storage.download("missing/file", target)
    assert not target.exists()
    assert issubclass(NotInStorage, StorageError)


UNSAFE_KEYS = ["../x", "a/../../x", "/abs", "", "a//b", "a\\b", "./a", "a/", "a/./b"]


def _every_method(storage: Storage, tmp_path: Path) -> dict[str, Callable[[str], object]]:
    source = tmp_path / "source"
    source.write_bytes(b"data")
    return {
        "put": lambda key: storage.put(key, b"data"),
        "put_file": lambda key: storage.put_file(key, source),
        "get": storage.get,
        "iter_chunks": storage.iter_chunks,
        "download": lambda key: storage.download(key, tmp_path / "target"),
        "exists": storage.exists,
        "list": storage.list,
        "delete": storage.delete,
    }


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused_by_every_method(
    storage: Storage, tmp_path: Path, key: str
) -> None:
    for name, method in _every_method(storage, tmp_path).items():
        with pytest.raises(StorageError):
            method(key)
            pytest.fail(f"{name}({key!r}) was accepted")
    assert not (tmp_path / "target").exists()


# -- local only -----------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_local_iter_chunks_closes_its_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("f", b"abc")
    stored = str(tmp_path / "f")

    def open_on_it() -> int:
        fds = Path("/proc/self/fd").iterdir()
        return sum(1 for fd in fds if os.path.realpath(fd) == stored)

    chunks = storage.iter_chunks("f")
    assert open_on_it() == 1
    assert list(chunks) == [b"abc"]
    assert open_on_it() == 0

    unread = storage.iter_chunks("f")
    assert open_on_it() == 1
    assert isinstance(unread, ClosingChunks)
    unread.close()
    assert open_on_it() == 0


def test_local_put_leaves_no_temporary_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    source = tmp_path / "in.bin"
    source.write_bytes(b"x" * 3 * MB)
    storage.put_file("dir/f", source)
    storage.put("dir/g", b"y")
    assert sorted(p.name for p in (tmp_path / "dir").iterdir()) == ["f", "g"]


# -- S3 only ----------------------------------------------------------------------------


def test_s3_keys_live_under_the_prefix(s3_bucket: tuple[str, str]) -> None:
    endpoint, bucket = s3_bucket
    storage = _s3(endpoint, bucket)
    storage.put("a/b.txt", b"b")

    whole_bucket = _s3(endpoint, bucket, prefix=None)
    assert whole_bucket.list("some") == [f"{PREFIX}/a/b.txt"]
    assert whole_bucket.get(f"{PREFIX}/a/b.txt") == b"b"
    # Another instance on the same bucket under another prefix sees none of it.
    neighbour = _s3(endpoint, bucket, prefix="other/instance")
    assert neighbour.list("a") == []
    assert not neighbour.exists("a/b.txt")


def test_s3_put_file_is_a_multipart_upload(s3_bucket: tuple[str, str], tmp_path: Path) -> None:
    endpoint, bucket = s3_bucket
    source = tmp_path / "big.bin"
    _random_file(source, 12 * MB)
    _s3(endpoint, bucket).put_file("big", source)

    head = httpx.head(f"{endpoint}/{bucket}/{PREFIX}/big", timeout=10.0)
    head.raise_for_status()
    # A multipart object's ETag is "<md5 of the parts' md5s>-<number of parts>".
    parts = -(-12 * MB // PART_SIZE)
    assert head.headers["etag"].strip('"').endswith(f"-{parts}")


def _reset_peak_rss() -> int | None:
    """Reset this process's peak RSS to its current RSS (Linux); that RSS in kB."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return None
    return _status_kb("VmRSS")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def test_s3_upload_memory_stays_bounded(s3_bucket: tuple[str, str], tmp_path: Path) -> None:
    """Peak RSS, not tracemalloc: obstore's buffers are Rust allocations, which
    tracemalloc never sees. The file is larger than the allowance, so reading it whole
    (or sending every part at once) would fail the test."""
    endpoint, bucket = s3_bucket
    storage = _s3(endpoint, bucket)
    size = 64 * MB
    source = tmp_path / "huge.bin"
    _random_file(source, size)
    storage.put("warm-up", b"x")  # the client's own one-time allocations

    before_kb = _reset_peak_rss()
    if before_kb is None:
        pytest.skip("cannot reset the peak RSS here (/proc/self/clear_refs)")
    try:
        assert storage.put_file("huge", source) == size
        grew_mb = (_status_kb("VmHWM") - before_kb) / 1024
    finally:
        storage.delete("huge")  # moto keeps objects in its memory
    assert grew_mb < 40, f"uploading {size // MB} MB raised the peak RSS by {grew_mb:.0f} MB"


# -- choosing the implementation ------------------------------------------------------


def test_make_storage_is_the_folder_by_default(tmp_path: Path) -> None:
    # Explicit Nones: an ATELIER_STORAGE_* variable in the environment must not decide.
    settings = Settings(env="test", data_dir=tmp_path, storage_dir=None, storage_url=None)
    storage = make_storage(settings)
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "storage"

    elsewhere = Settings(
        env="test", data_dir=tmp_path, storage_dir=tmp_path / "files", storage_url=None
    )
    chosen = make_storage(elsewhere)
    assert isinstance(chosen, LocalStorage)
    assert chosen.root == tmp_path / "files"


def test_make_storage_is_s3_when_a_storage_url_is_set(tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        storage_url="s3://my-bucket/atelier/files",
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_region="eu-west-3",
        s3_access_key_id="AKIDEXAMPLE",
        s3_secret_access_key=SecretStr(SECRET),
    )
    storage = make_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("my-bucket", "atelier/files")
    assert storage.region == "eu-west-3"
    assert SECRET not in repr(storage)
    assert SECRET not in str(storage)
    assert "my-bucket" in repr(storage)


def test_make_storage_s3_round_trip_through_settings(s3_server: str, tmp_path: Path) -> None:
    bucket = _fresh_bucket(s3_server)
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        storage_url=f"s3://{bucket}",
        s3_endpoint_url=s3_server,
        s3_access_key_id="testing",
        s3_secret_access_key=SecretStr(SECRET),
    )
    storage = make_storage(settings)
    storage.put("k", b"v")
    assert storage.get("k") == b"v"


@pytest.mark.parametrize(
    "url",
    [
        "https://bucket/x",
        "s3://",
        "s3:///prefix",
        "s3://b/../x",
        "s3://b/x?y=1",
        f"s3://AKID:{SECRET}@bucket/x",
    ],
)
def test_s3_storage_refuses_a_bad_url(url: str) -> None:
    with pytest.raises(StorageError) as refused:
        S3Storage(url)
    assert SECRET not in str(refused.value)
