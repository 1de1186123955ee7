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


def own_schema_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: compare only the tables our models own."""
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIXES))


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
