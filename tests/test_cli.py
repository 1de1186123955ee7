"""The `atelier` command, run in-process against a temporary SQLite data directory.

Plain sync tests: the CLI calls asyncio.run itself, which cannot happen inside a loop.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient, Response
from typer.testing import CliRunner, Result

from atelier.app import create_app
from atelier.cli import app as cli
from atelier.config import Settings, get_settings

runner = CliRunner()
PASSWORD = "a long enough password"


def run(*args: str) -> Result:
    return runner.invoke(cli, list(args))


def output(result: Result) -> str:
    """stdout and stderr, interleaved (Click >= 8.2 captures both in `output`)."""
    return result.output


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, migrated data directory that get_settings() points at."""
    for var in ("ATELIER_DATABASE_URL", "ATELIER_ENV", "ATELIER_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    directory = tmp_path / "data"
    monkeypatch.setenv("ATELIER_DATA_DIR", str(directory))
    get_settings.cache_clear()
    result = run("db", "upgrade")
    assert result.exit_code == 0, output(result)
    assert "database at head" in result.stdout
    assert (directory / "atelier.db").is_file()
    yield directory
    get_settings.cache_clear()


def user_row(directory: Path, email: str) -> tuple[str, str, str, str] | None:
    with sqlite3.connect(directory / "atelier.db") as conn:
        row = conn.execute(
            "SELECT id, name, role, password_hash FROM users WHERE email = ?", (email,)
        ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def login(directory: Path, email: str, password: str) -> Response:
    """POST /auth/login through a fresh app on the same data directory."""

    async def go() -> Response:
        application = create_app(Settings(data_dir=directory))
        try:
            transport = ASGITransport(app=application)
            async with AsyncClient(transport=transport, base_url="http://cli") as client:
                return await client.post(
                    "/api/v1/auth/login", json={"email": email, "password": password}
                )
        finally:
            await application.state.engine.dispose()

    return asyncio.run(go())


def unique_email() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}@example.com"


def test_help_lists_the_command_groups() -> None:
    result = run("--help")
    assert result.exit_code == 0, output(result)
    for command in ("serve", "db", "users"):
        assert re.search(rf"^\W*{command}\b", result.stdout, re.MULTILINE), command


def test_subcommand_help() -> None:
    result = run("users", "create", "--help")
    assert result.exit_code == 0, output(result)
    for option in ("--email", "--name", "--password", "--admin"):
        assert option in result.stdout
    result = run("db", "--help")
    assert result.exit_code == 0
    assert "upgrade" in result.stdout and "downgrade" in result.stdout


def test_users_create(data_dir: Path) -> None:
    email = unique_email()
    result = run("users", "create", "--email", email, "--name", "Cli User", "--password", PASSWORD)
    assert result.exit_code == 0, output(result)
    match = re.search(r"created user ([0-9a-f-]{36}) <(.+?)>", result.stdout)
    assert match, result.stdout
    assert match.group(2) == email
    assert "(admin)" not in result.stdout
    assert "generated password" not in result.stdout

    row = user_row(data_dir, email)
    assert row is not None
    assert uuid.UUID(row[0]) == uuid.UUID(match.group(1))
    assert row[1] == "Cli User" and row[2] == "USER"
    assert row[3].startswith("$argon2") and PASSWORD not in row[3]


def test_users_create_admin_can_log_in(data_dir: Path) -> None:
    email = unique_email()
    result = run(
        "users", "create", "--email", email, "--name", "Boss", "--password", PASSWORD, "--admin"
    )
    assert result.exit_code == 0, output(result)
    assert "(admin)" in result.stdout
    row = user_row(data_dir, email)
    assert row is not None and row[2] == "ADMIN"

    # The stored password works through a fresh app on the same data directory.
    r = login(data_dir, email, PASSWORD)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["role"] == "ADMIN"
    assert r.json()["user"]["name"] == "Boss"
    assert login(data_dir, email, "wrong one!").status_code == 401


def test_users_create_duplicate_email_fails(data_dir: Path) -> None:
    email = unique_email()
    first = run("users", "create", "--email", email, "--name", "One", "--password", PASSWORD)
    assert first.exit_code == 0, output(first)
    again = run(
        "users", "create", "--email", email.upper(), "--name", "Two", "--password", PASSWORD
    )
    assert again.exit_code != 0
    assert "email_taken" in output(again)
    assert "created user" not in again.stdout
    row = user_row(data_dir, email)
    assert row is not None and row[1] == "One"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--email", "not-an-email", "--name", "X", "--password", PASSWORD], "email"),
        (["--email", "ok@example.com", "--name", "X", "--password", "short"], "password"),
        (["--email", "ok@example.com", "--name", "", "--password", PASSWORD], "name"),
    ],
)
def test_users_create_rejects_bad_input(data_dir: Path, args: list[str], field: str) -> None:
    result = run("users", "create", *args)
    assert result.exit_code == 2, output(result)
    assert f"error: {field}:" in output(result)
    with sqlite3.connect(data_dir / "atelier.db") as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_users_create_generates_a_password_without_a_terminal(data_dir: Path) -> None:
    email = unique_email()
    result = run("users", "create", "--email", email, "--name", "Gen")
    assert result.exit_code == 0, output(result)
    match = re.search(r"generated password \(shown once\): (\S+)", result.stdout)
    assert match, result.stdout
    password = match.group(1)
    assert len(password) >= 16

    r = login(data_dir, email, password)
    assert r.status_code == 200, r.text


def test_users_create_requires_email_and_name(data_dir: Path) -> None:
    result = run("users", "create", "--name", "No Email", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "--email" in output(result)


def test_pin_reset_clears_the_pin_and_the_lockouts(data_dir: Path) -> None:
    result = run("pin", "reset")
    assert result.exit_code == 0, output(result)
    assert "no PIN was set" in result.stdout
    with sqlite3.connect(data_dir / "atelier.db") as conn:
        conn.execute(
            "INSERT INTO security_settings (id, pin_hash, salt, updated_at) "
            "VALUES ('main', 'argon2-hash', 'ab', '2026-01-01 00:00:00')"
        )
        conn.execute(
            "INSERT INTO login_failures (key, failures, last_failed_at, locked_until) "
            "VALUES ('pin:someone', 0, '2026-01-01 00:00:00', '2999-01-01 00:00:00')"
        )
    result = run("pin", "reset")
    assert result.exit_code == 0, output(result)
    assert "PIN cleared" in result.stdout
    with sqlite3.connect(data_dir / "atelier.db") as conn:
        assert conn.execute("SELECT pin_hash, salt FROM security_settings").fetchall() == [
            (None, None)
        ]
        assert conn.execute("SELECT count(*) FROM login_failures").fetchone() == (0,)
