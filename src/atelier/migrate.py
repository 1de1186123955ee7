"""Run Alembic migrations from code (the `atelier db` commands)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Tables that migrations create from another project's schema (procrastinate, on
# PostgreSQL): autogenerate and `alembic check` must not take them for strays.
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


def own_schema_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: compare only the tables our models own."""
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIXES))


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str | None = None) -> None:
    command.current(alembic_config(database_url), verbose=False)
