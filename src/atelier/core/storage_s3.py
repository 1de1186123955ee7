"""The storage interface on an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, Garage...).

Built on obstore, the Python binding of the Rust `object_store` crate (the one behind
DataFusion and Delta Lake), rather than boto3 or aioboto3:

- it is async-capable, with the same calls in sync form: the synchronous interface
  here, run in threads, can later become async without changing library;
- it streams both ways: a GET is a stream of chunks, and a PUT takes a file path or an
  iterator, so neither an upload nor a download has to fit in memory;
- it splits large PUTs into multipart uploads by itself, parts sent concurrently;
- it is one compiled wheel with no Python dependencies (boto3 brings botocore, s3transfer
  and jmespath, and its async variant pins aiohttp and a botocore version).

How keys map: `storage_url` is "s3://<bucket>[/<prefix>]". The object of key "a/b.txt"
is "<prefix>/a/b.txt" in that bucket (or "a/b.txt" without a prefix). obstore applies
the prefix itself and strips it from what it lists, so `list` returns keys exactly as
`LocalStorage.list` does. Several instances can share a bucket under different prefixes.

Credentials: the settings' access key and secret when given; otherwise obstore looks
where AWS tools do (AWS_* environment variables, container or instance credentials).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import obstore
from obstore.store import S3Store

from atelier.core.storage import (
    DEFAULT_CHUNK_SIZE,
    ClosingChunks,
    NotInStorage,
    StorageError,
    check_key,
    write_atomically,
)

if TYPE_CHECKING:
    from obstore import GetResult
    from obstore.store import ClientConfig, S3Config

    from atelier.config import Settings

# S3's smallest part (except the last) is 5 MiB; files larger than one part go up as
# multipart uploads. At most PART_CONCURRENCY parts are in memory at once: an upload
# takes about 20-30 MB whatever the file's size (the contract tests measure it), where
# obstore's default of 12 parts would take about 60 MB per upload.
PART_SIZE = 5 * 1024 * 1024
PART_CONCURRENCY = 4
# A GET's body is read as slowly as the client downloading it reads: the overall request
# timeout (30 s by default) would cut a download to a slow client short.
REQUEST_TIMEOUT = "1h"
CONNECT_TIMEOUT = "10s"


def parse_storage_url(url: str) -> tuple[str, str | None]:
    """("bucket", "the/prefix" or None) from "s3://bucket[/the/prefix]"."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # Not echoed: what precedes the "@" would be a key. Keys go in their own settings.
        raise StorageError("the storage URL must not hold credentials: s3://bucket[/prefix]")
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise StorageError(f"not an s3://bucket[/prefix] URL: {url!r}")
    prefix = parts.path.strip("/")
    if prefix:
        check_key(prefix)
    return parts.netloc, prefix or None


def _bounded_chunks(pieces: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    """Chunks of exactly `chunk_size` bytes (the last one shorter).

    obstore's stream gives chunks of *at least* its minimum size, each as large as the
    network delivered it; the interface promises at most `chunk_size`.
    """
    pending = bytearray()
    for piece in pieces:
        pending += piece
        while len(pending) >= chunk_size:
            yield bytes(pending[:chunk_size])
            # Deleting from the front of a bytearray moves a start offset, not the data.
            del pending[:chunk_size]
    if pending:
        yield bytes(pending)


class S3Storage:
    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.url = url
        self.bucket, self.prefix = parse_storage_url(url)
        self.endpoint_url = endpoint_url
        self.region = region
        config: S3Config = {"region": region}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        if access_key_id is not None:
            config["access_key_id"] = access_key_id
        if secret_access_key is not None:
            config["secret_access_key"] = secret_access_key
        client: ClientConfig = {
            "timeout": REQUEST_TIMEOUT,
            "connect_timeout": CONNECT_TIMEOUT,
            # A local MinIO or a test server speaks plain HTTP; obstore refuses it unless told.
            "allow_http": bool(endpoint_url and endpoint_url.startswith("http://")),
        }
        # The secret lives only inside the store object, never as an attribute of ours.
        self._store = S3Store(self.bucket, prefix=self.prefix, config=config, client_options=client)

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        if settings.storage_url is None:
            raise StorageError("storage_url is not set")
        secret = settings.s3_secret_access_key
        return cls(
            settings.storage_url,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
        )

    def __repr__(self) -> str:
        endpoint = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3Storage({self.url!r}{endpoint}, region={self.region!r})"

    def _get(self, key: str) -> GetResult:
        check_key(key)
        try:
            return obstore.get(self._store, key)
        except FileNotFoundError:
            raise NotInStorage(f"no stored file {key!r}") from None

    def put(self, key: str, data: bytes) -> int:
        check_key(key)
        obstore.put(self._store, key, data, chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY)
        return len(data)

    def put_file(self, key: str, source: Path) -> int:
        check_key(key)
        size = source.stat().st_size
        # Given a path, obstore reads the file part by part (in Rust) as parts go out.
        obstore.put(
            self._store, key, source, chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY
        )
        return size

    def get(self, key: str) -> bytes:
        return self._get(key).bytes().to_bytes()

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        # The GET is sent (and a missing key reported) here; the body follows as read.
        stream = self._get(key).stream(min_chunk_size=chunk_size)
        return ClosingChunks(_bounded_chunks(stream, chunk_size))

    def download(self, key: str, target: Path) -> None:
        stream = self._get(key).stream(min_chunk_size=DEFAULT_CHUNK_SIZE)
        write_atomically(target, _bounded_chunks(stream, DEFAULT_CHUNK_SIZE))

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            obstore.head(self._store, key)
        except FileNotFoundError:
            return False
        return True

    def _keys_under(self, prefix: str) -> Iterator[str]:
        # obstore lists by whole path segments ("a/b" matches "a/b/c", not "a/bc" nor
        # "a/b" itself), relative to the store's prefix: the local semantics.
        for batch in obstore.list(self._store, prefix, chunk_size=1000):
            for meta in batch:
                yield meta["path"]

    def list(self, prefix: str) -> builtins.list[str]:
        check_key(prefix)
        return sorted(self._keys_under(prefix))

    def delete(self, prefix: str) -> None:
        check_key(prefix)
        # S3 deletes are idempotent; obstore sends them 1000 keys per request.
        keys: Sequence[str] = [prefix, *self._keys_under(prefix)]
        obstore.delete(self._store, keys)
