"""The `atelier` command."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from atelier.ai.local_models_cli import app as local_models_app
from atelier.config import get_settings

app = typer.Typer(
    help="Atelier: AI-assisted structured work. Serve the app, manage the database and users.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys of stored secrets.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
pin_app = typer.Typer(help="The instance PIN of the admin console.", no_args_is_help=True)
app.add_typer(pin_app, name="pin")
app.add_typer(local_models_app, name="models")
uploads_app = typer.Typer(help="Files: upload, extract text, OCR.", no_args_is_help=True)
app.add_typer(uploads_app, name="uploads")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the web app and the API (/api/v1, docs at /docs)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "atelier.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "heads",
) -> None:
    """Apply migrations up to REVISION (default: the newest of the engine and every
    installed pack)."""
    from atelier import migrate

    settings = get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="target revision")]) -> None:
    """Revert migrations down to REVISION."""
    from atelier import migrate

    migrate.downgrade(get_settings().resolved_database_url, revision)


@db_app.command("check")
def db_check() -> None:
    """Fail if the tables the models describe (engine and installed packs) differ from
    what the migrations make: a schema change without its migration."""
    from atelier import migrate

    migrate.check(get_settings().resolved_database_url)
    typer.echo("models and migrations agree")


@db_app.command("current")
def db_current() -> None:
    """Show the database's current revision."""
    from atelier import migrate

    migrate.current(get_settings().resolved_database_url)


async def _create_user(email: str, name: str, password: str, admin: bool) -> str:
    from atelier.accounts.models import UserRole
    from atelier.accounts.service import create_user
    from atelier.core.db import make_engine, make_sessionmaker, session_scope

    settings = get_settings()
    engine = make_engine(settings)
    try:
        async with session_scope(make_sessionmaker(engine, settings)) as session:
            user = await create_user(
                session,
                email=email,
                name=name,
                password=password,
                role=UserRole.ADMIN if admin else UserRole.USER,
            )
        return str(user.id)
    finally:
        await engine.dispose()


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="login email")],
    name: Annotated[str, typer.Option(help="display name")],
    admin: Annotated[bool, typer.Option("--admin", help="give the ADMIN role")] = False,
    password: Annotated[
        str | None, typer.Option(help="password; prompted for (or generated) when omitted")
    ] = None,
) -> None:
    """Create a user account."""
    from pydantic import TypeAdapter, ValidationError

    from atelier.accounts.schemas import SignupIn
    from atelier.core.errors import AtelierError

    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = secrets.token_urlsafe(18), True
    try:
        TypeAdapter(SignupIn).validate_python({"email": email, "name": name, "password": password})
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"error: {err['loc'][0]}: {err['msg']}", err=True)
        raise typer.Exit(2) from None
    try:
        user_id = asyncio.run(_create_user(email, name, password, admin))
    except AtelierError as exc:
        typer.echo(f"error: {exc.code}: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created user {user_id} <{email}>{' (admin)' if admin else ''}")
    if generated:
        typer.echo(f"generated password (shown once): {password}")


async def _reset_pin() -> bool:
    from atelier.accounts.pin import reset
    from atelier.core.db import make_engine, make_sessionmaker, session_scope

    settings = get_settings()
    engine = make_engine(settings)
    try:
        async with session_scope(make_sessionmaker(engine, settings)) as session:
            return await reset(session)
    finally:
        await engine.dispose()


@pin_app.command("reset")
def pin_reset() -> None:
    """Clear the instance PIN, every unlock and every PIN lockout: for an operator locked
    out of the admin console. Runs on the server, against its database."""
    had_pin = asyncio.run(_reset_pin())
    typer.echo(
        "PIN cleared: the admin console no longer asks for one; set a new one at /admin/pin"
        if had_pin
        else "no PIN was set; lockouts cleared"
    )


async def _rotate_keys() -> int:
    from atelier.ai.service import rotate_keys
    from atelier.core.crypto import Cipher
    from atelier.core.db import make_engine, make_sessionmaker, session_scope

    settings = get_settings()
    engine = make_engine(settings)
    try:
        async with session_scope(make_sessionmaker(engine, settings)) as session:
            return await rotate_keys(session, Cipher(settings.encryption_key_list()))
    finally:
        await engine.dispose()


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored API key with the first key of ATELIER_ENCRYPTION_KEYS.

    Put the new key first and keep the old one after it (k2=new,k1=old), run this, then
    remove the old key. Values not yet re-encrypted keep working meanwhile."""
    count = asyncio.run(_rotate_keys())
    typer.echo(f"re-encrypted {count} stored key(s)")


@app.command("run")
def run(
    tool: Annotated[str, typer.Argument(help="tool key, e.g. brief (see GET /api/v1/tools)")],
    input: Annotated[Path, typer.Option("--input", "-i", help="JSON file with the inputs")],
    project: Annotated[str | None, typer.Option(help="project id (default: a new one)")] = None,
    provider: Annotated[str | None, typer.Option(help="AI provider config id")] = None,
    user: Annotated[str | None, typer.Option(help="account email (default: the only user)")] = None,
) -> None:
    """Generate an artifact with TOOL: live progress on stderr, the artifact JSON on stdout."""
    from atelier.cli_run import read_inputs, run_tool

    code = asyncio.run(
        run_tool(
            get_settings(),
            tool_key=tool,
            inputs=read_inputs(input),
            project_id=project,
            provider_id=provider,
            user_email=user,
        )
    )
    raise typer.Exit(code)


@app.command("export")
def export(
    target: Annotated[str, typer.Argument(help="an artifact id or a project id")],
    format: Annotated[str, typer.Option("--format", "-f", help="md, pdf or json")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: by name)")
    ] = None,
    checks: Annotated[
        bool, typer.Option("--checks", help="include what the quality checks found")
    ] = False,
) -> None:
    """Export an artifact, or a whole project grouped by phase, as Markdown, PDF or JSON."""
    from atelier.cli_export import export as run_export
    from atelier.exports.service import ExportFormat

    try:
        chosen = ExportFormat(format)
    except ValueError:
        raise typer.BadParameter("use md, pdf or json", param_hint="--format") from None
    code = asyncio.run(
        run_export(get_settings(), target=target, format=chosen, output=output, checks=checks)
    )
    raise typer.Exit(code)


@uploads_app.command("add")
def uploads_add(
    file: Annotated[Path, typer.Argument(help="the file to upload")],
    project: Annotated[str | None, typer.Option(help="project id to attach it to")] = None,
    kind: Annotated[str | None, typer.Option(help="upload kind (default: file)")] = None,
    user: Annotated[str | None, typer.Option(help="account email (default: the only user)")] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="process it now, with a progress line")
    ] = True,
) -> None:
    """Upload FILE: the same checks as the API; prints the record once it is processed."""
    from atelier.cli_uploads import add, prepare

    received = prepare(file, project_id=project, kind=kind)
    code = asyncio.run(add(get_settings(), received, user_email=user, wait=wait))
    raise typer.Exit(code)


@app.command("mcp")
def mcp_stdio(
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ATELIER_MCP_TOKEN",
            help="an MCP token of the project (POST /api/v1/projects/{id}/mcp-tokens)",
        ),
    ] = None,
) -> None:
    """Serve one project's design package to an MCP client over stdin/stdout, e.g.
    `claude mcp add atelier -- atelier mcp --token TOKEN`."""
    from atelier.mcp.server import serve_stdio

    if not token:
        raise typer.BadParameter("give --token or set ATELIER_MCP_TOKEN", param_hint="--token")
    with contextlib.suppress(KeyboardInterrupt):
        raise typer.Exit(asyncio.run(serve_stdio(get_settings(), token)))


@app.command("worker")
def worker() -> None:
    """Run background jobs (generations) outside the server; start any number of them.
    Set ATELIER_RUN_JOBS_IN_PROCESS=false on the servers when you do."""
    from atelier.cli_run import work

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(work(get_settings()))


if __name__ == "__main__":
    app()
