"""Baseline for bench/crud.py: the artifact read with nothing of Atelier around it.

A bare Starlette app whose ``GET /artifacts/{id}`` does the same SQLite read as the
app's ``GET /api/v1/artifacts/{id}``, on the same database file: one ``SELECT`` of the
artifact row by primary key with the standard ``sqlite3`` module called inline on the
event loop (as Atelier's own SQLite driver does, see atelier.core.sqlite_inline), the
same pragmas, returned as JSON (the JSON columns decoded, the rest as stored). No
authentication, no access check, no ORM, no validation: what is left is the cost of
HTTP, the event loop and the read itself.

Served by uvicorn with the database path in ``BENCH_DB_PATH``::

    BENCH_DB_PATH=data/atelier.db uvicorn bare_app:create_app --factory --app-dir bench
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
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


def open_database(db_path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, check_same_thread=False)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.row_factory = sqlite3.Row
    return conn


def read_artifact(conn: sqlite3.Connection, artifact_hex: str) -> dict[str, Any] | None:
    row = conn.execute(SELECT_ARTIFACT, (artifact_hex,)).fetchone()
    if row is None:
        return None
    data = dict(row)
    for column in JSON_COLUMNS:
        if data[column] is not None:
            data[column] = json.loads(data[column])
    return data


def create_fastapi_app() -> FastAPI:
    """The framework floor: FastAPI doing the same inline read, with no auth, no ORM and
    no access check. The gap between this and the bare app is FastAPI's own cost; the
    gap between this and Atelier is what Atelier adds (auth, ORM, access, schemas)."""
    db_path = os.environ["BENCH_DB_PATH"]
    state: dict[str, sqlite3.Connection] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state["conn"] = open_database(db_path)
        try:
            yield
        finally:
            state["conn"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/artifacts/{artifact_id}")
    async def get_artifact(artifact_id: uuid.UUID) -> dict[str, Any]:
        data = read_artifact(state["conn"], artifact_id.hex)
        if data is None:
            raise HTTPException(404, "artifact_not_found")
        return data

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_app() -> Starlette:
    db_path = os.environ["BENCH_DB_PATH"]
    state: dict[str, sqlite3.Connection] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        conn = open_database(db_path)
        state["conn"] = conn
        try:
            yield
        finally:
            conn.close()

    async def get_artifact(request: Request) -> JSONResponse:
        try:
            # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
            artifact_id = uuid.UUID(request.path_params["artifact_id"]).hex
        except ValueError:
            return JSONResponse({"error": "invalid_id"}, status_code=404)
        data = read_artifact(state["conn"], artifact_id)
        if data is None:
            return JSONResponse({"error": "artifact_not_found"}, status_code=404)
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
