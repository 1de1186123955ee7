"""Baseline for bench/crud.py: the artifact read with nothing of Atelier around it.

A bare Starlette app whose ``GET /artifacts/{id}`` does the same SQLite read as the
app's ``GET /api/v1/artifacts/{id}``, on the same database file: one ``SELECT`` of the
artifact row by primary key, through the same driver (aiosqlite, a pool of connections
as large as the app's) with the same per-connection pragmas, returned as JSON (the JSON
columns decoded, the rest as stored). No authentication, no access check, no ORM, no
validation: what is left is the cost of HTTP, the event loop and the read itself.

Served by uvicorn with the database path in ``BENCH_DB_PATH``::

    BENCH_DB_PATH=data/atelier.db uvicorn bare_app:create_app --factory --app-dir bench
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)
SELECT_ARTIFACT = "SELECT * FROM artifacts WHERE id = ?"
JSON_COLUMNS = ("input_data", "output_data")


def create_app() -> Starlette:
    db_path = os.environ["BENCH_DB_PATH"]
    pool_size = int(os.environ.get("BENCH_POOL_SIZE", "8"))
    pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        connections = []
        for _ in range(pool_size):
            conn = await aiosqlite.connect(db_path)
            for pragma in PRAGMAS:
                await conn.execute(pragma)
            conn.row_factory = aiosqlite.Row
            connections.append(conn)
            pool.put_nowait(conn)
        try:
            yield
        finally:
            for conn in connections:
                await conn.close()

    async def get_artifact(request: Request) -> JSONResponse:
        try:
            # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
            artifact_id = uuid.UUID(request.path_params["artifact_id"]).hex
        except ValueError:
            return JSONResponse({"error": "invalid_id"}, status_code=404)
        conn = await pool.get()
        try:
            async with conn.execute(SELECT_ARTIFACT, (artifact_id,)) as cursor:
                row = await cursor.fetchone()
        finally:
            pool.put_nowait(conn)
        if row is None:
            return JSONResponse({"error": "artifact_not_found"}, status_code=404)
        data = dict(row)
        for column in JSON_COLUMNS:
            if data[column] is not None:
                data[column] = json.loads(data[column])
        return JSONResponse(data)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/artifacts/{artifact_id}", get_artifact),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
