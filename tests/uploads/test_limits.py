"""Size limits, quotas and the streamed body: the file is cut at its limit while it
arrives, and nothing of a refused upload is kept."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from PIL import Image

from atelier.app import create_app
from atelier.config import Settings
from tests.factories import Api, error_code
from tests.uploads.helpers import API, png, send, upload

pytestmark = pytest.mark.anyio

LIMIT = 20_000
QUOTA = 25_000


@pytest.fixture(scope="module")
async def small_app(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    small = settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("small-limits"),
            "storage_dir": None,
            "upload_max_bytes": LIMIT,
            "upload_quota_bytes": QUOTA,
            "upload_kind_max_bytes": {"image": 4_000},
        }
    )
    application = create_app(small)
    yield application
    await application.state.ai.providers.aclose()
    await application.state.engine.dispose()


@pytest.fixture
async def small(small_app: Any) -> AsyncIterator[Api]:
    transport = ASGITransport(app=small_app)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield Api(http)


def temp_files(app: Any) -> list[Path]:
    folder: Path = app.state.settings.data_dir / "tmp"
    return list(folder.iterdir()) if folder.exists() else []


async def test_a_file_over_the_limit_is_refused_with_the_limit(small: Api, small_app: Any) -> None:
    me = await small.signup()
    r = await send(small, me, "big.txt", b"a" * (LIMIT + 1))
    assert r.status_code == 413 and error_code(r) == "file_too_large"
    assert r.json()["detail"]["limit_bytes"] == LIMIT
    r = await send(small, me, "fits.txt", b"a" * LIMIT)
    assert r.status_code == 201, r.text
    assert temp_files(small_app) == []


async def test_a_kind_has_its_own_limit(small: Api) -> None:
    me = await small.signup()
    r = await send(small, me, "small.png", png(60, 60, "#123456"), kind="image")
    assert r.status_code == 201, r.text
    r = await send(small, me, "blob.txt", b"b" * 5_000, kind="image")
    assert r.status_code == 413 and r.json()["detail"]["limit_bytes"] == 4_000


async def test_the_quota_counts_every_upload_until_one_is_deleted(small: Api) -> None:
    me = await small.signup()
    first = await upload(small, me, "one.txt", b"1" * 9_000)
    await upload(small, me, "two.txt", b"2" * 9_000)
    r = await send(small, me, "three.txt", b"3" * 9_000)
    assert r.status_code == 413 and error_code(r) == "storage_quota_exceeded"
    r = await small.client.delete(f"{API}/{first['id']}", headers=me.headers)
    assert r.status_code == 204
    r = await send(small, me, "three.txt", b"3" * 9_000)
    assert r.status_code == 201, r.text
    # Another user has a quota of their own.
    other = await small.signup()
    await upload(small, other, "theirs.txt", b"4" * 9_000)


async def test_the_body_is_cut_while_it_streams(small: Api, small_app: Any) -> None:
    """A body far over the limit is read only until the file passes it: the client's
    generator is not drained (a 2 GB body is never read, let alone held)."""
    me = await small.signup()
    boundary = "streamtestboundary"
    sent = {"chunks": 0}
    chunk = b"x" * 1_000
    total_chunks = 10_000  # 10 MB offered

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="huge.txt"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        for _ in range(total_chunks):
            sent["chunks"] += 1
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await small.client.post(
        API,
        content=body(),
        headers={**me.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413 and error_code(r) == "file_too_large"
    assert sent["chunks"] <= LIMIT // len(chunk) + 2
    assert temp_files(small_app) == []
    r = await small.client.get(API, headers=me.headers)
    assert r.json()["items"] == []


async def test_a_declared_length_over_the_limit_is_refused_before_reading(small: Api) -> None:
    me = await small.signup()
    r = await small.client.post(
        API,
        content=b"",
        headers={
            **me.headers,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(2 * 1024**3),
        },
    )
    assert r.status_code == 413


def bilevel_png(width: int, height: int) -> bytes:
    """A huge blank picture in a few kilobytes: what a decompression bomb looks like."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


async def test_image_dimensions_and_bombs(small: Api) -> None:
    me = await small.signup()
    r = await send(small, me, "wide.png", png(25_000, 1, "#000000"))
    assert r.status_code == 422 and error_code(r) == "image_dimensions"
    bomb = bilevel_png(12_000, 12_000)  # 144 million pixels, over the 100 million allowed
    assert len(bomb) < LIMIT
    r = await send(small, me, "bomb.png", bomb)
    assert r.status_code == 422 and error_code(r) == "image_too_large"
