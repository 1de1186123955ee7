"""Run Alembic migrations from code (the `atelier db` commands)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from atelier.core.packs import packs, resolve_folder

MIGRATIONS = Path(__file__).parent / "migrations"
# Tables that migrations create from another project's schema (procrastinate, on
# PostgreSQL): autogenerate and `alembic check` must not take them for strays.
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


# Full-text search over uploads' text lives outside the models, made by migration 0009:
# SQLite's FTS5 table (and the shadow tables FTS5 keeps), PostgreSQL's generated
# tsvector column and its index.
SEARCH_TABLE_PREFIX = "upload_texts_fts"
SEARCH_COLUMN = ("upload_texts", "search")
SEARCH_INDEX = "ix_upload_texts_search"


def own_schema_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: compare only the tables our models own."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith((*FOREIGN_TABLE_PREFIXES, SEARCH_TABLE_PREFIX))
    if type_ == "column" and isinstance(parent_names, dict):
        return (parent_names.get("table_name"), name) != SEARCH_COLUMN
    if type_ == "index":
        return name != SEARCH_INDEX
    return True


def version_locations() -> list[Path]:
    """The engine's revisions, then each installed pack's own branch."""
    folders = [MIGRATIONS / "versions"]
    folders += [resolve_folder(s.migrations) for s in packs.all() if s.migrations]
    return folders


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join(str(p) for p in version_locations())
    )
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str | None = None, revision: str = "heads") -> None:
    """To ``heads`` by default: the engine's and every installed pack's branch."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str | None = None) -> None:
    """Fail if the models (the engine's and the installed packs') differ from what the
    migrations make (``alembic check``, with the packs' branches included)."""
    command.check(alembic_config(database_url))


def current(database_url: str | None = None) -> None:
    command.current(alembic_config(database_url), verbose=False)
