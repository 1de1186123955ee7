"""Budget check benchmark: the check every generation makes, in a busy month.

One command: ``.venv/bin/python bench/budget.py`` (``--calls N``: audit rows this month
for the user, 100 000 by default, all in one organization; ``--runs N``: 200). On a
fresh, migrated SQLite database; then, with ``--postgres URL``, on PostgreSQL too.

Per back end, medians over ``--runs`` calls, each in its own session:

* ``check``: ``check_budget`` for a user in an organization (both plans looked up, each
  one's counters for the day, month and year read from ``subscription_usage``, with a
  limit on every AI metric and window so that all are read), what a generation does
  before its provider call.
* baseline, same run: the sum of this month's ``ai_generations`` rows of that user and of
  that organization (two aggregate queries over the indexed rows), which is how the check
  worked before the running totals; it grows with the month's calls, the check does not.

The rows are inserted with plain SQL (not the ORM, whose hook keeps the counters), and the
counters are written to match, as the hook would have. Results go to
bench/results/budget.json.

``--pg-admin DSN`` measures PostgreSQL on a throwaway database that it creates through
that server and drops afterwards. ``--quick`` (what CI runs through bench/run_all.py):
2 000 calls, 20 runs, SQLite and PostgreSQL on a throwaway database of the local server
(``--pg-admin`` defaults to ``ATELIER_TEST_PG_DSN``, else
``postgresql://postgres@127.0.0.1:5432/postgres``, the server the tests use; ``--sqlite-only``
leaves PostgreSQL out), results to bench/results/quick/budget.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from atelier import migrate  # noqa: E402
from atelier.accounts import metering  # noqa: E402
from atelier.accounts.models import Organization, User  # noqa: E402
from atelier.ai.budgets import check_budget  # noqa: E402
from atelier.ai.models import AIGeneration, GenerationStatus  # noqa: E402
from atelier.config import Settings  # noqa: E402
from atelier.core.db import make_engine, make_sessionmaker, session_scope  # noqa: E402

BATCH = 5000
PG_ADMIN_DSN = os.environ.get(
    "ATELIER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def throwaway_postgres(admin_dsn: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_dsn``, dropped on the way out."""
    import psycopg

    name = f"atelier_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def fill(maker: async_sessionmaker[AsyncSession], calls: int) -> tuple[uuid.UUID, uuid.UUID]:
    """A user in an organization with ``calls`` audit rows this month, and the totals."""
    user, org = uuid.uuid4(), uuid.uuid4()
    start = month_start()
    async with session_scope(maker) as session:
        session.add(User(id=user, email=f"{user.hex}@example.com", name="Busy"))
        session.add(Organization(id=org, name="Busy org", slug=f"busy-{org.hex[:8]}"))
    for first in range(0, calls, BATCH):
        rows = [
            {
                "id": uuid.uuid4(),
                "user_id": user,
                "organization_id": org,
                "provider": "custom",
                "model": "m",
                "prompt_template": "brief@1",
                "input_tokens": 300,
                "output_tokens": 200,
                "total_tokens": 500,
                "estimated_cost": Decimal("0.0042"),
                "duration_ms": 900,
                "status": GenerationStatus.SUCCESS,
                "attempt": 1,
                "created_at": start + dt.timedelta(seconds=n),
            }
            for n in range(first, min(first + BATCH, calls))
        ]
        async with session_scope(maker) as session:
            await session.execute(insert(AIGeneration.__table__), rows)
    counted = {
        "ai_tokens": 500 * calls,
        "ai_cost_usd": metering.stored("ai_cost_usd", Decimal("0.0042") * calls),
        "ai_calls": calls,
    }
    async with session_scope(maker) as session:
        await metering.add(session, dict.fromkeys(metering.owners_of(user, org), counted))
    return user, org


def month_start() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def summed(session: AsyncSession, user: uuid.UUID, org: uuid.UUID) -> None:
    """The month's spend the way it used to be found: summing the audit rows."""
    for column, owner in ((AIGeneration.user_id, user), (AIGeneration.organization_id, org)):
        await session.execute(
            select(
                func.coalesce(func.sum(AIGeneration.total_tokens), 0),
                func.coalesce(func.sum(AIGeneration.estimated_cost), 0),
            ).where(column == owner, AIGeneration.created_at >= month_start())
        )


async def median_ms(
    maker: async_sessionmaker[AsyncSession],
    runs: int,
    work: Callable[[AsyncSession], Awaitable[Any]],
) -> float:
    times = []
    for n in range(runs + 1):
        async with maker() as session:
            started = time.perf_counter()
            await work(session)
            if n:  # the first is a warm-up
                times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(url: str, settings: Settings, calls: int, runs: int) -> dict[str, Any]:
    engine = make_engine(settings, url)
    maker = make_sessionmaker(engine, settings)
    try:
        started = time.perf_counter()
        user, org = await fill(maker, calls)
        fill_s = time.perf_counter() - started

        async def check(session: AsyncSession) -> None:
            await check_budget(session, settings=settings, user_id=user, organization_id=org)

        check_ms = await median_ms(maker, runs, check)
        sum_ms = await median_ms(maker, runs, lambda session: summed(session, user, org))
    finally:
        await engine.dispose()
    return {"fill_s": round(fill_s, 2), "check_ms": round(check_ms, 3), "sum_ms": round(sum_ms, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI's check that it runs: 2000 calls, 20 runs, SQLite and a throwaway PostgreSQL",
    )
    parser.add_argument("--calls", type=int, default=None, help="100000 (quick 2000)")
    parser.add_argument("--runs", type=int, default=None, help="200 (quick 20)")
    parser.add_argument("--postgres", help="also on this (empty, migrated or not) database URL")
    parser.add_argument(
        "--pg-admin",
        nargs="?",
        const=PG_ADMIN_DSN,
        help=f"also on PostgreSQL, in a throwaway database created through this DSN "
        f"(default {PG_ADMIN_DSN}; the quick mode's default)",
    )
    parser.add_argument(
        "--sqlite-only", action="store_true", help="quick mode: leave PostgreSQL out"
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    results_dir = REPO / "bench" / "results"
    if args.calls is None:
        args.calls = 2000 if args.quick else 100_000
    if args.runs is None:
        args.runs = 20 if args.quick else 200
    if args.output is None:
        args.output = results_dir / ("quick" if args.quick else "") / "budget.json"
    if args.quick and not (args.postgres or args.pg_admin or args.sqlite_only):
        args.pg_admin = PG_ADMIN_DSN
    if args.calls < 1 or args.runs < 1:
        parser.error("--calls and --runs must be >= 1")
    if args.quick:
        print("quick mode: sizes too small to read; this checks that the benchmark runs")
    results = {}
    with (
        contextlib.ExitStack() as stack,
        tempfile.TemporaryDirectory(prefix="atelier-budget-") as tmp,
    ):
        # Limits too high to reach on every AI metric and window: the check reads every
        # counter and lets the generation through.
        high = dict.fromkeys(("daily", "monthly", "yearly"), 1e15)
        plan = {metric: high for metric in ("ai_tokens", "ai_cost_usd", "ai_calls")}
        settings = Settings(
            env="development",
            data_dir=Path(tmp),
            log_level="WARNING",
            plans=json.dumps({"FREE": plan}),
        )
        backends = {"sqlite": f"sqlite+aiosqlite:///{Path(tmp) / 'budget.db'}"}
        if args.postgres:
            backends["postgresql"] = args.postgres
        elif args.pg_admin:
            backends["postgresql"] = stack.enter_context(throwaway_postgres(args.pg_admin))
        for name, url in backends.items():
            print(f"{name}: {args.calls} calls this month for one user in one organization ...")
            migrate.upgrade(url)  # outside the event loop: Alembic runs its own
            results[name] = asyncio.run(measure(url, settings, args.calls, args.runs))
    print()
    print(f"{'back end':<11} {'check':>10} {'baseline':>10} {'ratio':>7}  baseline is")
    for name, r in results.items():
        print(
            f"{name:<11} {r['check_ms']:>7.3f} ms {r['sum_ms']:>7.3f} ms "
            f"{r['check_ms'] / r['sum_ms']:>7.3f}  summing the month's audit rows (user + org)"
        )
    print(f"\n(medians of {args.runs} calls each; {args.calls} audit rows this month)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "budget",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "calls": args.calls,
        "runs": args.runs,
        "results": results,
    }
    args.output.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
