"""The data model compiled to SQL, executed for real on SQLite and PostgreSQL.

PostgreSQL tests work in a throwaway schema and are skipped when PostgreSQL is left out
(ATELIER_TEST_BACKENDS, as in tests/conftest.py) or cannot be reached.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from atelier.packs.sdp.datamodel import DataModel
from atelier.packs.sdp.datamodel_markdown import parse_markdown
from atelier.packs.sdp.sqlgen import IndexSpec, compile_all, compile_sql, tables_in_sql

SEED = Path(__file__).parent / "data" / "seed_001_data_model.md"
PG_DSN = os.environ.get("ATELIER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("ATELIER_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]

SEED_TABLES = {
    "user",
    "ai_provider_config",
    "project",
    "stage",
    "stage_output",
    "ai_generation",
    "template",
    "export_package",
    "mcp_token",
}
# (table, column) → (referenced table, referenced column, ON DELETE rule)
SEED_FOREIGN_KEYS = {
    ("project", "user_id"): ("user", "id", "CASCADE"),
    ("ai_provider_config", "user_id"): ("user", "id", "CASCADE"),
    ("mcp_token", "user_id"): ("user", "id", "CASCADE"),
    ("stage", "project_id"): ("project", "id", "CASCADE"),
    ("export_package", "project_id"): ("project", "id", "CASCADE"),
    ("mcp_token", "project_id"): ("project", "id", "CASCADE"),
    ("project", "ai_provider_id"): ("ai_provider_config", "id", "SET NULL"),
    ("project", "template_id"): ("template", "id", "SET NULL"),
    ("stage_output", "stage_id"): ("stage", "id", "CASCADE"),
    ("ai_generation", "stage_id"): ("stage", "id", "CASCADE"),
    ("stage_output", "ai_generation_id"): ("ai_generation", "id", "SET NULL"),
    ("ai_generation", "provider_id"): ("ai_provider_config", "id", "CASCADE"),
}
UID = "00000000-0000-4000-8000-000000000001"


def seed_model() -> DataModel:
    return parse_markdown(SEED.read_text(encoding="utf-8"))


def model(entities: list[dict[str, Any]], relationships: list[dict[str, Any]]) -> DataModel:
    return DataModel.model_validate({"entities": entities, "relationships": relationships})


def entity(name: str, *fields: tuple[str, str, bool]) -> dict[str, Any]:
    """An entity with an ``id uuid`` primary key and the given (name, type, required)."""
    return {
        "name": name,
        "description": f"A {name}",
        "fields": [
            {"name": "id", "type": "uuid", "required": True, "description": "Primary key"},
            *({"name": n, "type": t, "required": r, "description": n} for n, t, r in fields),
        ],
    }


def rel(source: str, target: str, kind: str, key: str) -> dict[str, Any]:
    return {"from": source, "to": target, "type": kind, "foreignKey": key, "description": "x"}


# --- databases -----------------------------------------------------------------------------


@contextmanager
def sqlite_db(sql: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(sql)
        yield conn
    finally:
        conn.close()


@contextmanager
def pg_db(sql: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """(connection, schema) with ``sql`` run in a fresh schema that is dropped afterwards."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL left out by ATELIER_TEST_BACKENDS")
    try:
        conn = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_DSN}: {exc}")
    schema = f"sqlgen_{uuid.uuid4().hex[:12]}"
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(sql)  # the whole script: psycopg runs it as one simple query
            yield conn, schema
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def sqlite_foreign_keys(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[str, str, str]]:
    found = {}
    for table in sqlite_tables(conn):
        for row in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
            _id, _seq, ref_table, column, ref_column, _upd, on_delete, _match = row
            found[(table, column)] = (ref_table, ref_column, on_delete)
    return found


def sqlite_not_null(conn: sqlite3.Connection, table: str) -> dict[str, bool]:
    rows = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return {name: bool(notnull) for _cid, name, _type, notnull, _default, _pk in rows}


def sqlite_indexes(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
    return {name: sql for name, sql in rows if sql}


def pg_tables(conn: psycopg.Connection[Any], schema: str) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    ).fetchall()
    return {name for (name,) in rows}


def pg_foreign_keys(
    conn: psycopg.Connection[Any], schema: str
) -> dict[tuple[str, str], tuple[str, str, str]]:
    rows = conn.execute(
        """
        SELECT kcu.table_name, kcu.column_name, ccu.table_name, ccu.column_name, rc.delete_rule
        FROM information_schema.referential_constraints rc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_schema = rc.constraint_schema
         AND kcu.constraint_name = rc.constraint_name
        JOIN information_schema.constraint_column_usage ccu
          ON ccu.constraint_schema = rc.constraint_schema
         AND ccu.constraint_name = rc.constraint_name
        WHERE rc.constraint_schema = %s
        """,
        (schema,),
    ).fetchall()
    return {(t, c): (rt, rc, rule) for t, c, rt, rc, rule in rows}


def pg_not_null(conn: psycopg.Connection[Any], schema: str, table: str) -> dict[str, bool]:
    rows = conn.execute(
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    ).fetchall()
    return {name: nullable == "NO" for name, nullable in rows}


def pg_indexes(conn: psycopg.Connection[Any], schema: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
    ).fetchall()
    return {name: definition for name, definition in rows}


# --- the seed, executed --------------------------------------------------------------------


def test_seed_compiles_and_executes_on_sqlite() -> None:
    sql = compile_sql(seed_model(), "sqlite")
    with sqlite_db(sql) as conn:
        assert sqlite_tables(conn) == SEED_TABLES
        assert sqlite_foreign_keys(conn) == SEED_FOREIGN_KEYS
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

        not_null = sqlite_not_null(conn, "project")
        assert not_null["user_id"] and not_null["name"] and not_null["created_at"]
        assert not not_null["description"] and not not_null["ai_provider_id"]
        assert not_null["id"]  # SQLite would otherwise accept a NULL text primary key

        indexes = sqlite_indexes(conn)
        for table, column in SEED_FOREIGN_KEYS:
            assert f"ix_{table}_{column}" in indexes


def test_seed_compiles_and_executes_on_postgresql() -> None:
    sql = compile_sql(seed_model(), "postgresql")
    with pg_db(sql) as (conn, schema):
        assert pg_tables(conn, schema) == SEED_TABLES
        assert pg_foreign_keys(conn, schema) == SEED_FOREIGN_KEYS

        not_null = pg_not_null(conn, schema, "project")
        assert not_null["user_id"] and not_null["name"] and not_null["created_at"]
        assert not not_null["description"] and not not_null["ai_provider_id"]

        indexes = pg_indexes(conn, schema)
        for table, column in SEED_FOREIGN_KEYS:
            assert indexes[f"ix_{table}_{column}"].endswith(f"USING btree ({column})")

        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = 'ai_generation'",
                (schema,),
            ).fetchall()
        )
        assert types["id"] == "uuid"
        assert types["estimated_cost"] == "numeric"
        assert types["created_at"] == "timestamp with time zone"
        assert types["model"] == "character varying"


def test_enum_check_rejects_a_bad_value_on_sqlite() -> None:
    with sqlite_db(compile_sql(seed_model(), "sqlite")) as conn:
        insert = (
            "INSERT INTO template (id, name, description, category, stage_defaults, "
            "is_built_in, created_at) VALUES (?, 'T', 'd', ?, '{}', ?, '2025-01-01')"
        )
        conn.execute(insert, (UID, "saas", 1))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(insert, (str(uuid.uuid4()), "spreadsheet", 1))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # booleans are 0 or 1
            conn.execute(insert, (str(uuid.uuid4()), "saas", 2))
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            conn.execute(insert.replace("'T'", "NULL"), (str(uuid.uuid4()), "saas", 1))


def test_enum_check_rejects_a_bad_value_on_postgresql() -> None:
    with pg_db(compile_sql(seed_model(), "postgresql")) as (conn, _schema):
        insert = (
            "INSERT INTO template (id, name, description, category, stage_defaults, "
            "is_built_in, created_at) VALUES (%s, 'T', 'd', %s, '{}', true, now())"
        )
        conn.execute(insert, (UID, "saas"))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(insert, (str(uuid.uuid4()), "spreadsheet"))


def test_foreign_keys_cascade_and_set_null_on_sqlite() -> None:
    with sqlite_db(compile_sql(seed_model(), "sqlite")) as conn:
        conn.executescript(
            f"""
            INSERT INTO "user" (id, email, name, created_at, updated_at)
              VALUES ('{UID}', 'a@b.c', 'A', 'now', 'now');
            INSERT INTO template (id, name, description, category, stage_defaults,
              is_built_in, created_at) VALUES ('t1', 'T', 'd', 'saas', '{{}}', 0, 'now');
            INSERT INTO project (id, user_id, name, slug, current_stage, status,
              template_id, created_at, updated_at)
              VALUES ('p1', '{UID}', 'P', 'p', 1, 'active', 't1', 'now', 'now');
            """
        )
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute(
                "INSERT INTO stage (id, project_id, stage_number, stage_name, stage_label, "
                "status, created_at, updated_at) "
                "VALUES ('s1', 'nope', 1, 'product', 'P', 'active', 'now', 'now')"
            )
        conn.execute("DELETE FROM template")
        assert conn.execute("SELECT template_id FROM project").fetchall() == [(None,)]
        conn.execute('DELETE FROM "user"')
        assert conn.execute("SELECT count(*) FROM project").fetchone() == (0,)


def test_referenced_tables_come_first() -> None:
    for dialect in ("sqlite", "postgresql"):
        order = tables_in_sql(compile_sql(seed_model(), dialect))
        assert set(order) == SEED_TABLES and len(order) == len(SEED_TABLES)
        for (table, _column), (referenced, _, _) in SEED_FOREIGN_KEYS.items():
            assert order.index(referenced) < order.index(table), (referenced, table)
        # Ties keep the entity order: nothing references User and it comes first.
        assert order[:2] == ["user", "ai_provider_config"]


def test_compilation_is_deterministic() -> None:
    first = compile_all(seed_model())
    second = compile_all(seed_model())
    assert first == second
    assert set(first) == {"sqlite", "postgresql"}
    assert first["sqlite"] == compile_sql(seed_model(), "sqlite")
    for dialect, sql in first.items():
        assert sql.endswith(");\n")
        assert sql.startswith(f"-- {'SQLite' if dialect == 'sqlite' else 'PostgreSQL'} schema")
        assert "generated from the data model" in sql.splitlines()[0]


def test_dialect_types() -> None:
    sql = compile_all(seed_model())
    assert '"id" UUID PRIMARY KEY,' in sql["postgresql"]
    assert '"id" TEXT PRIMARY KEY NOT NULL,' in sql["sqlite"]
    assert '"email" VARCHAR(255) NOT NULL,' in sql["postgresql"]
    assert '"is_default" BOOLEAN NOT NULL,' in sql["postgresql"]
    assert '"is_default" INTEGER NOT NULL CHECK ("is_default" IN (0,1)),' in sql["sqlite"]
    assert '"estimated_cost" NUMERIC(18,6) NOT NULL,' in sql["postgresql"]
    assert '"preferences" JSONB,' in sql["postgresql"]
    assert (
        '"provider" VARCHAR(255) NOT NULL CHECK ("provider" IN '
        "('anthropic','openai','custom')),"
    ) in sql["postgresql"]


# --- shapes beyond the seed ----------------------------------------------------------------


def many_to_many() -> DataModel:
    return model(
        [entity("Post", ("title", "string", True)), entity("Tag", ("label", "string", True))],
        [rel("Post", "Tag", "many-to-many", "tagId")],
    )


def test_many_to_many_becomes_a_join_table_on_sqlite() -> None:
    sql = compile_sql(many_to_many(), "sqlite")
    with sqlite_db(sql) as conn:
        assert sqlite_tables(conn) == {"post", "tag", "post_tag"}
        assert sqlite_foreign_keys(conn) == {
            ("post_tag", "post_id"): ("post", "id", "CASCADE"),
            ("post_tag", "tag_id"): ("tag", "id", "CASCADE"),
        }
        pk = [row[1] for row in conn.execute('PRAGMA table_info("post_tag")') if row[5]]
        assert pk == ["post_id", "tag_id"]
        assert "ix_post_tag_tag_id" in sqlite_indexes(conn)
        conn.executescript(
            "INSERT INTO post VALUES ('p', 'T'); INSERT INTO tag VALUES ('t', 'L');"
            "INSERT INTO post_tag VALUES ('p', 't');"
        )
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute("INSERT INTO post_tag VALUES ('p', 't')")
        conn.execute("DELETE FROM post")
        assert conn.execute("SELECT count(*) FROM post_tag").fetchone() == (0,)


def test_many_to_many_becomes_a_join_table_on_postgresql() -> None:
    with pg_db(compile_sql(many_to_many(), "postgresql")) as (conn, schema):
        assert pg_tables(conn, schema) == {"post", "tag", "post_tag"}
        assert pg_foreign_keys(conn, schema) == {
            ("post_tag", "post_id"): ("post", "id", "CASCADE"),
            ("post_tag", "tag_id"): ("tag", "id", "CASCADE"),
        }
        assert pg_not_null(conn, schema, "post_tag") == {"post_id": True, "tag_id": True}


def test_many_to_many_of_an_entity_with_itself() -> None:
    follows = model([entity("Person")], [rel("Person", "Person", "many-to-many", "x")])
    with sqlite_db(compile_sql(follows, "sqlite")) as conn:
        assert set(sqlite_foreign_keys(conn)) == {
            ("person_person", "person_id"),
            ("person_person", "related_person_id"),
        }


def cycle() -> DataModel:
    return model(
        [
            entity("Team", ("captainId", "uuid", False)),
            entity("Player", ("teamId", "uuid", True)),
            entity("Employee", ("managerId", "uuid", False)),
        ],
        [
            rel("Team", "Player", "one-to-many", "teamId"),
            rel("Team", "Player", "one-to-one", "teamId"),  # the same key again: skipped
            rel("Team", "Player", "many-to-one", "captainId"),
            rel("Employee", "Employee", "many-to-one", "managerId"),
        ],
    )


CYCLE_FOREIGN_KEYS = {
    ("player", "team_id"): ("team", "id", "CASCADE"),
    ("team", "captain_id"): ("player", "id", "SET NULL"),
    ("employee", "manager_id"): ("employee", "id", "SET NULL"),
}


def test_a_cycle_on_postgresql_is_closed_with_alter_table() -> None:
    sql = compile_sql(cycle(), "postgresql")
    assert (
        'ALTER TABLE "team" ADD CONSTRAINT "fk_team_captain_id" FOREIGN KEY ("captain_id") '
        'REFERENCES "player" ("id") ON DELETE SET NULL;'
    ) in sql
    assert sql.count("ALTER TABLE") == 1  # the self-reference stays inline
    assert "-- skipped: relationship Team -> Player (one-to-one" in sql
    with pg_db(sql) as (conn, schema):
        assert pg_foreign_keys(conn, schema) == CYCLE_FOREIGN_KEYS


def test_a_cycle_on_sqlite_stays_inline() -> None:
    sql = compile_sql(cycle(), "sqlite")
    assert "ALTER TABLE" not in sql
    with sqlite_db(sql) as conn:
        assert sqlite_foreign_keys(conn) == CYCLE_FOREIGN_KEYS


def broken() -> DataModel:
    return model(
        [
            entity("Shop", ("ownerId", "uuid", True), ("ghostId", "uuid", False)),
            entity("Owner"),
            {
                "name": "Log",
                "description": "No primary key",
                "fields": [{"name": "line", "type": "text", "required": True, "description": ""}],
            },
        ],
        [
            rel("Shop", "Ghost", "many-to-one", "ghostId"),
            rel("Owner", "Shop", "one-to-many", "missingField"),
            rel("Shop", "Log", "many-to-one", "ownerId"),
            rel("Shop", "Ghost", "many-to-many", "x"),
            rel("Owner", "Shop", "one-to-many", "ownerId"),
        ],
    )


def test_impossible_relationships_are_skipped_with_a_comment() -> None:
    sqls = compile_all(broken())
    for sql in sqls.values():
        assert "-- skipped: relationship Shop -> Ghost (many-to-one, foreignKey ghostId): " in sql
        assert "entity 'Ghost' does not exist" in sql
        assert "Shop has no field 'missingField'" in sql
        assert "Log has no primary key to reference" in sql
        assert "(many-to-many, foreignKey x): entity 'Ghost' does not exist" in sql
        assert '"log" (\n  "line" TEXT NOT NULL\n);' in sql
    with sqlite_db(sqls["sqlite"]) as conn:
        assert sqlite_tables(conn) == {"shop", "owner", "log"}
        assert sqlite_foreign_keys(conn) == {("shop", "owner_id"): ("owner", "id", "CASCADE")}
    with pg_db(sqls["postgresql"]) as (conn, schema):
        assert pg_foreign_keys(conn, schema) == {("shop", "owner_id"): ("owner", "id", "CASCADE")}


def test_unknown_and_loosely_written_types() -> None:
    odd = model(
        [
            entity(
                "Place",
                ("shape", "geometry", False),
                ("kind", " Enum( big , 'small' , it's ) ", True),
                ("seenAt", " DateTime ", True),
                ("score", "FLOAT", False),
                ("flag", "Bool", False),
                ("count", "BigInt", False),
                ("empty", "enum()", False),
            )
        ],
        [],
    )
    sql = compile_all(odd)
    pg = sql["postgresql"]
    assert "\"shape\" TEXT,  -- unknown type 'geometry', stored as text" in pg
    assert "\"empty\" TEXT  -- unknown type 'enum()', stored as text\n);" in pg
    assert "CHECK (\"kind\" IN ('big','small','it''s'))" in pg
    assert '"seen_at" TIMESTAMPTZ NOT NULL' in pg
    assert '"score" NUMERIC(18,6),' in pg
    assert '"flag" BOOLEAN,' in pg
    assert '"count" BIGINT,' in pg
    with sqlite_db(sql["sqlite"]) as conn:
        conn.execute("INSERT INTO place (id, kind, seen_at) VALUES ('a', 'it''s', 'now')")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO place (id, kind, seen_at) VALUES ('b', 'huge', 'now')")
    with pg_db(pg) as (conn, _schema):
        conn.execute("INSERT INTO place (id, kind, seen_at) VALUES (%s, 'it''s', now())", (UID,))


def test_reserved_words_are_quoted() -> None:
    reserved = model(
        [
            entity("User", ("select", "string", True), ("from", "integer", False)),
            entity("Order", ("userId", "uuid", True), ("group", "text", False)),
        ],
        [rel("User", "Order", "one-to-many", "userId")],
    )
    sql = compile_all(reserved)
    assert 'CREATE TABLE "user" (' in sql["postgresql"]
    assert '"select" VARCHAR(255) NOT NULL,' in sql["postgresql"]
    assert 'REFERENCES "user" ("id")' in sql["postgresql"]
    with sqlite_db(sql["sqlite"]) as conn:
        assert sqlite_tables(conn) == {"user", "order"}
    with pg_db(sql["postgresql"]) as (conn, schema):
        assert pg_tables(conn, schema) == {"user", "order"}
        assert pg_foreign_keys(conn, schema) == {("order", "user_id"): ("user", "id", "CASCADE")}


def test_primary_key_by_description_or_none() -> None:
    keyed = model(
        [
            {
                "name": "Country",
                "description": "A country",
                "fields": [
                    {"name": "name", "type": "string", "required": True, "description": "Name"},
                    {
                        "name": "isoCode",
                        "type": "string",
                        "required": True,
                        "description": "Primary key: ISO 3166 code",
                    },
                ],
            },
            entity("City", ("countryCode", "string", True)),
        ],
        [rel("Country", "City", "one-to-many", "countryCode")],
    )
    pg = compile_sql(keyed, "postgresql")
    assert '"iso_code" VARCHAR(255) PRIMARY KEY' in pg
    with pg_db(pg) as (conn, schema):
        assert pg_foreign_keys(conn, schema) == {
            ("city", "country_code"): ("country", "iso_code", "CASCADE")
        }


def test_a_key_takes_the_type_of_what_it_references() -> None:
    mismatched = model(
        [entity("Owner"), entity("Pet", ("ownerId", "string", False))],
        [rel("Owner", "Pet", "one-to-many", "ownerId")],
    )
    pg = compile_sql(mismatched, "postgresql")
    assert "\"owner_id\" UUID,  -- type 'string' changed to match owner.id" in pg
    with pg_db(pg) as (conn, schema):
        assert pg_foreign_keys(conn, schema) == {("pet", "owner_id"): ("owner", "id", "SET NULL")}


def test_extra_indexes() -> None:
    indexes = [
        IndexSpec(table="User", columns=("email",), unique=True, reason="one account per email"),
        IndexSpec(table="Project", columns=("userId", "slug"), unique=True),
        IndexSpec(table="StageOutput", columns=("stageId", "version")),
        IndexSpec(table="Nowhere", columns=("id",)),
        IndexSpec(table="User", columns=("shoeSize",)),
        IndexSpec(table="Project", columns=("userId",)),  # the foreign key index already
    ]
    sql = compile_all(seed_model(), extra_indexes=indexes)
    for text in sql.values():
        assert '-- one account per email\nCREATE UNIQUE INDEX "uq_user_email" ON "user"' in text
        assert "-- skipped: index on Nowhere: no such table" in text
        assert "-- skipped: index on User: no column shoeSize" in text
        assert "-- skipped: index on Project (user_id): already defined" in text
    with sqlite_db(sql["sqlite"]) as conn:
        found = sqlite_indexes(conn)
        assert {"uq_user_email", "uq_project_user_id_slug", "ix_stage_output_stage_id_version"} <= (
            set(found)
        )
        conn.execute(
            'INSERT INTO "user" (id, email, name, created_at, updated_at) '
            "VALUES ('a', 'x@y.z', 'A', 'now', 'now')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                'INSERT INTO "user" (id, email, name, created_at, updated_at) '
                "VALUES ('b', 'x@y.z', 'B', 'now', 'now')"
            )
    with pg_db(sql["postgresql"]) as (conn, schema):
        assert "CREATE UNIQUE INDEX uq_user_email" in pg_indexes(conn, schema)["uq_user_email"]


def test_long_names_are_shortened_uniquely() -> None:
    parent = "P" + "x" * 40
    key = "p" + "x" * 40 + "ParentReferenceIdOne"
    long_model = model(
        [entity(parent), entity("Child", (key, "uuid", True))],
        [rel(parent, "Child", "one-to-many", key)],
    )
    pg = compile_sql(long_model, "postgresql")
    assert compile_sql(long_model, "postgresql") == pg
    with pg_db(pg) as (conn, schema):
        names = pg_indexes(conn, schema)
        assert all(len(name) <= 63 for name in names)
        assert any(name.startswith("ix_child_px") for name in names)
        assert len(pg_foreign_keys(conn, schema)) == 1


def test_tables_in_sql() -> None:
    assert tables_in_sql(compile_sql(many_to_many(), "postgresql")) == ["post", "tag", "post_tag"]
    handwritten = '''
        -- CREATE TABLE commented_out (id int);
        /* CREATE TABLE also_not (id int); */
        create table if not exists Accounts (note text default 'CREATE TABLE nope (x)');
        CREATE TABLE "public"."Mixed ""Case""" (id int);
        CREATE TEMPORARY TABLE scratch (id int);
        CREATE TABLE accounts (id int);
        CREATE INDEX ix ON accounts (id);
    '''
    assert tables_in_sql(handwritten) == ["accounts", 'Mixed "Case"', "scratch"]
