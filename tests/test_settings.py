"""Settings: environment variables, defaults, and the refusal of the development key."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from atelier.config import DEV_SECRET_KEY, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "ATELIER_ENV",
        "ATELIER_SECRET_KEY",
        "ATELIER_DATABASE_URL",
        "ATELIER_DATA_DIR",
        "ATELIER_PORT",
    ):
        monkeypatch.delenv(var, raising=False)


def test_production_refuses_the_development_key() -> None:
    with pytest.raises(ValidationError, match="ATELIER_SECRET_KEY"):
        Settings(env="production")


def test_production_refuses_a_short_key() -> None:
    with pytest.raises(ValidationError, match="ATELIER_SECRET_KEY"):
        Settings(env="production", secret_key="x" * 31)


def test_production_accepts_a_long_random_key() -> None:
    key = secrets.token_urlsafe(36)
    assert len(key) == 48
    settings = Settings(env="production", secret_key=key)
    assert settings.env == "production"
    assert settings.secret_key.get_secret_value() == key
    assert key not in repr(settings)
    assert Settings(env="production", secret_key="k" * 32).env == "production"


def test_production_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_ENV", "production")
    with pytest.raises(ValidationError, match="ATELIER_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("ATELIER_SECRET_KEY", "s" * 48)
    assert Settings().env == "production"


def test_development_default_works() -> None:
    settings = Settings()
    assert settings.env == "development"
    assert settings.secret_key.get_secret_value() == DEV_SECRET_KEY
    assert Settings(env="test").secret_key.get_secret_value() == DEV_SECRET_KEY


def test_unknown_env_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(env="staging")  # type: ignore[arg-type]


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = "postgresql+psycopg://someone@db.example:5432/atelier"
    monkeypatch.setenv("ATELIER_DATABASE_URL", url)
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ATELIER_PORT", "9123")
    settings = Settings()
    assert settings.database_url == url
    assert settings.resolved_database_url == url
    assert settings.is_sqlite is False
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.port == 9123


def test_bad_environment_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_PORT", "not-a-port")
    with pytest.raises(ValidationError):
        Settings()


def test_default_database_is_a_sqlite_file_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    expected = (tmp_path / "atelier.db").resolve()
    assert settings.database_url is None
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{expected}"
    assert settings.is_sqlite is True

    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "from-env"))
    from_env = Settings()
    assert from_env.resolved_database_url == (
        f"sqlite+aiosqlite:///{(tmp_path / 'from-env' / 'atelier.db').resolve()}"
    )


def test_relative_data_dir_resolves_to_an_absolute_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path("rel"))
    assert (
        settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/rel/atelier.db"
    )
