"""An aiosqlite-compatible SQLite driver that runs sqlite3 calls inline on the event loop.

Why: aiosqlite runs every call (cursor, execute, fetch, close, commit) on a thread of
its own, and on small VMs each hand-off costs ~100-200 µs, while a point query on
SQLite itself takes a few microseconds. A request making ten such calls spent most of
its time waiting for thread wake-ups. Running them inline removes that cost.

Write transactions within one process queue on an asyncio lock, taken at the first
statement that is not a SELECT and released at commit, rollback or close. SQLite
allows one writer at a time anyway; queueing here replaces its busy handler, which
sleeps in millisecond steps and would block the event loop. Other processes (a second
server or a worker) are still arbitrated by SQLite's own busy timeout; a deployment
with many processes should use PostgreSQL.

SQLAlchemy uses this through ``create_async_engine(..., async_creator=...)`` with the
aiosqlite dialect, which only needs the small surface below.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

READ_PREFIXES = ("SELECT", "WITH", "EXPLAIN")
# A word that may make a statement write. Matching one inside a read (a column named
# "update", say) only takes the write lock needlessly: the safe direction.
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE|RETURNING)\b", re.IGNORECASE)


def _is_read(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(READ_PREFIXES) and not _WRITE_WORD.search(sql)


class InlineCursor:
    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        await self._connection._before(sql)
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> InlineCursor:
        await self._connection._before(sql)
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection, write_lock: WriteLock) -> None:
        self._conn = conn
        # The SQLAlchemy adapter checks this attribute to know the connection is open.
        self._connection: sqlite3.Connection | None = conn
        self._write_lock = write_lock
        self._holds_lock = False

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = value  # type: ignore[assignment]

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = InlineCursor(self)
        return await cursor.execute(sql, parameters)

    async def _before(self, sql: str) -> None:
        if not self._holds_lock and not _is_read(sql):
            await self._write_lock.acquire()
            self._holds_lock = True

    def _release(self) -> None:
        if self._holds_lock:
            self._holds_lock = False
            self._write_lock.release()

    async def commit(self) -> None:
        try:
            self._conn.commit()
        finally:
            self._release()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._release()

    async def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._connection = None
            self._release()

    def stop(self) -> None:
        self._conn.close()
        self._connection = None
        self._release()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


class WriteLock:
    """One writer at a time per database file in this process, first come first served.

    A waiter gives up after ``timeout`` seconds with SQLite's own "database is locked"
    error, so a stuck transaction cannot hang everything behind it.
    """

    def __init__(self, timeout: float) -> None:
        self._lock = asyncio.Lock()
        self._timeout = timeout

    async def acquire(self) -> None:
        try:
            await asyncio.wait_for(self._lock.acquire(), self._timeout)
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def release(self) -> None:
        self._lock.release()


def make_creator(
    path: str, *, pragmas: Sequence[str], lock_timeout: float = 10.0
) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy: connections to ``path`` sharing one write lock."""
    write_lock = WriteLock(lock_timeout)

    async def creator() -> InlineConnection:
        conn = sqlite3.connect(path, check_same_thread=False)
        for pragma in pragmas:
            conn.execute(pragma)
        return InlineConnection(conn, write_lock)

    return creator
