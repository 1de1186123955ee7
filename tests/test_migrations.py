"""Migrations: up, all the way down, and up again, ending where the models say.

Synchronous on purpose: `atelier.migrate` runs its own event loop (asyncio.run).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from atelier import migrate
from atelier.accounts.models import Organization, Subscription, SubscriptionUsage, User
from atelier.ai.models import AIGeneration, GenerationStatus
from atelier.models import Base
from tests.conftest import _pg_database

BACKENDS = [b for b in os.environ.get("ATELIER_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def sync_url(async_url: str) -> str:
    return async_url.replace("sqlite+aiosqlite://", "sqlite://", 1)


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each back end, made for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    elif request.param == "postgresql":
        yield from _pg_database()
    else:
        raise ValueError(request.param)


def tables(engine: Engine) -> set[str]:
    """Our tables (procrastinate's, on PostgreSQL, and SQLite's full-text search table of
    uploads are checked apart)."""
    names = set(inspect(engine).get_table_names())
    skipped = (*migrate.FOREIGN_TABLE_PREFIXES, migrate.SEARCH_TABLE_PREFIX)
    return {n for n in names if not n.startswith(skipped)}


def search_tables(engine: Engine) -> set[str]:
    names = set(inspect(engine).get_table_names())
    return {n for n in names if n.startswith(migrate.SEARCH_TABLE_PREFIX)}


def procrastinate_tables(engine: Engine) -> set[str]:
    return {n for n in inspect(engine).get_table_names() if n.startswith("procrastinate_")}


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": migrate.own_schema_name}
        )
        return list(compare_metadata(context, Base.metadata))


def one_active_index_is_partial(engine: Engine) -> bool:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = conn.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'uq_artifact_versions_one_active'")
            )
        else:
            sql = conn.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                {"n": "uq_artifact_versions_one_active"},
            )
    return sql is not None and "UNIQUE" in sql.upper() and "WHERE" in sql.upper()


def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    engine = create_engine(sync_url(fresh_url))
    try:
        assert tables(engine) == set()
        expected = set(Base.metadata.tables) | {"alembic_version"}
        assert len(expected) > 10

        migrate.upgrade(fresh_url)
        assert tables(engine) == expected
        assert one_active_index_is_partial(engine)
        with engine.connect() as conn:
            head = conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert head
        delivered_by_procrastinate = engine.dialect.name == "postgresql"
        assert bool(procrastinate_tables(engine)) == delivered_by_procrastinate
        # SQLite searches uploads through an FTS5 table; PostgreSQL through a column.
        assert ("upload_texts_fts" in search_tables(engine)) == (engine.dialect.name == "sqlite")

        migrate.downgrade(fresh_url, "base")
        assert tables(engine) - {"alembic_version"} == set()
        assert search_tables(engine) == set()
        assert procrastinate_tables(engine) == set()
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 0

        migrate.upgrade(fresh_url)
        assert tables(engine) == expected
        assert bool(procrastinate_tables(engine)) == delivered_by_procrastinate
        assert one_active_index_is_partial(engine)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head

        # Upgrading an up-to-date database is a no-op, not an error.
        migrate.upgrade(fresh_url)
        assert tables(engine) == expected
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(fresh_url: str) -> None:
    """What the migrations build is what the models describe: no column, index or
    constraint only one of them knows about (a model change needs a migration)."""
    migrate.upgrade(fresh_url)
    engine = create_engine(sync_url(fresh_url))
    try:
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_the_usage_totals_are_built_from_the_calls_made_before(fresh_url: str) -> None:
    """Migration 0005 fills ai_monthly_usage from the existing audit rows, per user and
    per organization and month, so budgets hold across the upgrade."""
    migrate.upgrade(fresh_url)
    engine = create_engine(sync_url(fresh_url))
    user, org = uuid.uuid4(), uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    this_month = now.date().replace(day=1)
    calls = [  # (when, organization, tokens, cost)
        (now, org, 100, "0.5"),
        (now, None, 20, "0.25"),
        (dt.datetime.combine(this_month, dt.time(0, 0), tzinfo=dt.UTC), org, 3, "0"),
        (
            dt.datetime.combine(this_month, dt.time(0, 0), tzinfo=dt.UTC) - dt.timedelta(seconds=1),
            org,
            7000,
            "9",
        ),
    ]
    try:
        with Session(engine) as session:
            session.add(Organization(id=org, name="Org", slug=f"org-{org.hex[:8]}"))
            session.add(User(id=user, email=f"{user.hex}@example.com", name="U"))
            session.flush()
            for when, organization, tokens, cost in calls:
                session.add(
                    AIGeneration(
                        user_id=user,
                        organization_id=organization,
                        provider="custom",
                        model="m",
                        prompt_template="brief@1",
                        total_tokens=tokens,
                        estimated_cost=Decimal(cost),
                        status=GenerationStatus.SUCCESS,
                        created_at=when,
                    )
                )
            session.commit()
        migrate.downgrade(fresh_url, "0004")  # as before the totals existed
        migrate.upgrade(fresh_url)
        with Session(engine) as session:
            rows = session.execute(
                select(
                    Subscription.user_id,
                    Subscription.organization_id,
                    SubscriptionUsage.metric,
                    SubscriptionUsage.period,
                    SubscriptionUsage.value,
                ).join(Subscription, Subscription.id == SubscriptionUsage.subscription_id)
            ).all()
        found = {(r[0] or r[1], r[2], r[3]): r[4] for r in rows}
        expected: dict[tuple[uuid.UUID, str, str], int] = {}
        for when, organization, tokens, cost in calls:
            keys = (f"{when:%Y-%m}", f"{when:%Y}", when.date().isoformat())
            for owner in filter(None, (user, organization)):
                for key in keys:
                    for metric, value in (
                        ("ai_tokens", tokens),
                        ("ai_cost_usd", int(Decimal(cost) * 1_000_000)),
                        ("ai_calls", 1),
                    ):
                        expected[(owner, metric, key)] = (
                            expected.get((owner, metric, key), 0) + value
                        )
        assert found == expected
        assert found[(user, "ai_tokens", f"{now:%Y-%m}")] == 123
        assert found[(org, "ai_cost_usd", f"{now:%Y-%m}")] == 500_000
    finally:
        engine.dispose()
