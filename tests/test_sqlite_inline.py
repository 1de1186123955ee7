"""The inline SQLite driver: writers queue on one lock, readers never wait for it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from atelier.core.sqlite_inline import InlineConnection, make_creator

pytestmark = pytest.mark.anyio


async def _connections(
    tmp_path: Path, n: int, lock_timeout: float = 10.0
) -> list[InlineConnection]:
    creator = make_creator(
        str(tmp_path / "t.db"), pragmas=("PRAGMA journal_mode=WAL",), lock_timeout=lock_timeout
    )
    conns = [await creator() for _ in range(n)]
    await conns[0].execute("CREATE TABLE t (n INTEGER)")
    await conns[0].commit()
    return conns


async def test_second_writer_waits_until_the_first_commits(tmp_path: Path) -> None:
    first, second = await _connections(tmp_path, 2)
    await first.execute("INSERT INTO t VALUES (1)")
    waiting = asyncio.ensure_future(second.execute("INSERT INTO t VALUES (2)"))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # queued behind the first writer, not failing
    await first.commit()
    await waiting
    await second.commit()
    rows = await (await first.execute("SELECT n FROM t ORDER BY n")).fetchall()
    assert rows == [(1,), (2,)]


async def test_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    writer, reader = await _connections(tmp_path, 2)
    await writer.execute("INSERT INTO t VALUES (1)")
    cursor = await asyncio.wait_for(reader.execute("SELECT count(*) FROM t"), 1)
    assert await cursor.fetchall() == [(0,)]  # WAL: the reader sees the last commit
    await writer.rollback()


async def test_rollback_and_close_release_the_lock(tmp_path: Path) -> None:
    a, b, c = await _connections(tmp_path, 3, lock_timeout=1)
    await a.execute("INSERT INTO t VALUES (1)")
    await a.rollback()
    await b.execute("INSERT INTO t VALUES (2)")
    await b.close()
    await asyncio.wait_for(c.execute("INSERT INTO t VALUES (3)"), 1)
    await c.commit()


async def test_a_stuck_writer_makes_others_fail_with_database_locked(tmp_path: Path) -> None:
    stuck, other = await _connections(tmp_path, 2, lock_timeout=0.1)
    await stuck.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await other.execute("INSERT INTO t VALUES (2)")
    await stuck.commit()


async def test_update_returning_counts_as_a_write(tmp_path: Path) -> None:
    a, b = await _connections(tmp_path, 2, lock_timeout=0.1)
    await a.execute("INSERT INTO t VALUES (1)")
    await a.commit()
    await a.execute("UPDATE t SET n = n + 1 RETURNING n")
    with pytest.raises(sqlite3.OperationalError):
        await b.execute("WITH x AS (SELECT 1) INSERT INTO t SELECT 5")
    await a.commit()
