"""Uploading through the real API, and the small files the API tests send."""

from __future__ import annotations

import io
from typing import Any

from httpx import Response
from PIL import Image

from tests.factories import Account, Api

API = "/api/v1/uploads"


async def send(
    api: Api,
    who: Account,
    name: str,
    data: bytes,
    *,
    content_type: str = "application/octet-stream",
    **fields: str,
) -> Response:
    return await api.client.post(
        API, files={"file": (name, data, content_type)}, data=fields, headers=who.headers
    )


async def upload(api: Api, who: Account, name: str, data: bytes, **fields: str) -> dict[str, Any]:
    r = await send(api, who, name, data, **fields)
    assert r.status_code == 201, r.text
    return dict(r.json())


def png(width: int = 200, height: int = 120, color: str = "#3366cc") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()
