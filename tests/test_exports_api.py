"""Downloads of artifacts and projects (Markdown, PDF, JSON) through the API, and
`atelier export` on the command line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from typer.testing import CliRunner

from atelier.app import create_app
from atelier.cli import app as cli
from atelier.config import Settings, get_settings
from atelier.exports import pdf_process
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, PASSWORD, Account, Api, error_code

pytestmark = pytest.mark.anyio

API = "/api/v1"


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


async def project_with_artifacts(api: Api) -> tuple[Account, dict[str, Any], list[Any]]:
    who = await api.signup()
    project = await api.project(who, name="Export Project")
    brief = await api.artifact(
        who,
        project["id"],
        type="brief",
        name="Launch brief",
        input_data=BRIEF_INPUT,
        output_data=BRIEF_OUTPUT,
    )
    notes = await api.artifact(
        who, project["id"], type="notes", name="Loose notes", output_data={"idea": "Zebra"}
    )
    return who, project, [brief, notes]


async def download(api: Api, who: Account, url: str, format: str) -> Any:
    r = await api.client.get(url, params={"format": format}, headers=who.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    return r


async def test_artifact_exports(api: Api, tmp_path: Path) -> None:
    who, _, (brief, _) = await project_with_artifacts(api)
    for prefix in ("artifacts", "models"):
        url = f"{API}/{prefix}/{brief['id']}/export"
        r = await download(api, who, url, "md")
        assert r.headers["content-type"].startswith("text/markdown")
        assert 'filename="launch-brief.md"' in r.headers["content-disposition"]
        text = r.text
        assert text.startswith("# Launch brief")
        assert BRIEF_OUTPUT["summary"] in text
        assert all(f"- {goal}" in text for goal in BRIEF_OUTPUT["goals"])  # a list, not JSON
        assert '"goals"' not in text and BRIEF_INPUT["idea"] in text

    r = await download(api, who, f"{API}/artifacts/{brief['id']}/export", "json")
    body = json.loads(r.content)
    assert body["output_data"] == BRIEF_OUTPUT and body["active_version"] == 1

    r = await download(api, who, f"{API}/artifacts/{brief['id']}/export", "pdf")
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    text = pdf_text(r.content, tmp_path)
    assert "Launch brief" in text and "Export Project" in text
    assert BRIEF_OUTPUT["goals"][0] in text


async def test_project_exports_grouped_by_phase(api: Api, tmp_path: Path) -> None:
    who, project, _ = await project_with_artifacts(api)
    url = f"{API}/projects/{project['id']}/export"
    md = (await download(api, who, url, "md")).text
    assert md.startswith("# Export Project")
    assert md.index("Launch brief") < md.index("Loose notes")  # define before "other"
    assert "Zebra" in md and BRIEF_OUTPUT["title"] in md

    r = await download(api, who, url, "pdf")
    text = pdf_text(r.content, tmp_path)
    for needle in ("Export Project", "Launch brief", "Loose notes", "Zebra"):
        assert needle in text, needle

    r = await api.client.get(url, params={"format": "docx"}, headers=who.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.format"


async def test_exports_of_someone_else_are_not_found(api: Api) -> None:
    _, project, (brief, _) = await project_with_artifacts(api)
    other = await api.signup()
    for url in (f"{API}/artifacts/{brief['id']}/export", f"{API}/projects/{project['id']}/export"):
        r = await api.client.get(url, params={"format": "md"}, headers=other.headers)
        assert r.status_code == 404, r.text
        assert error_code(r) in ("artifact_not_found", "project_not_found")
        r = await api.client.get(url, params={"format": "md"})
        assert r.status_code == 401


async def test_an_empty_project_still_exports(api: Api) -> None:
    who = await api.signup()
    project = await api.project(who, name="Nothing yet")
    md = (await download(api, who, f"{API}/projects/{project['id']}/export", "md")).text
    assert md.startswith("# Nothing yet")


def test_cli_exports_a_project_to_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the CLI test runs on its own SQLite data directory")
    for var in ("ATELIER_DATABASE_URL", "ATELIER_ENV", "ATELIER_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0

    async def make() -> tuple[str, str]:
        application = create_app(Settings(data_dir=tmp_path / "data"))
        try:
            transport = ASGITransport(app=application)
            async with AsyncClient(transport=transport, base_url="http://cli") as client:
                api = Api(client)
                r = await client.post(
                    f"{API}/auth/signup",
                    json={"email": "cli-export@example.com", "name": "Cli", "password": PASSWORD},
                )
                who = Account(r.json()["user"]["id"], "cli-export@example.com", r.json()["token"])
                project = await api.project(who, name="CLI Project")
                art = await api.artifact(
                    who,
                    project["id"],
                    type="brief",
                    name="CLI brief",
                    input_data=BRIEF_INPUT,
                    output_data=BRIEF_OUTPUT,
                )
                return project["id"], art["id"]
        finally:
            await application.state.engine.dispose()

    async def no_renderer_process(job: object) -> bytes:
        raise AssertionError("the CLI renders in its own process")

    # The command renders PDFs itself: no renderer process to start for one export.
    monkeypatch.setattr(pdf_process.renderer, "render", no_renderer_process)
    try:
        project_id, artifact_id = asyncio.run(make())
        out = tmp_path / "project.pdf"
        result = runner.invoke(cli, ["export", project_id, "--format", "pdf", "-o", str(out)])
        assert result.exit_code == 0, result.output
        text = pdf_text(out.read_bytes(), tmp_path)
        assert "CLI Project" in text and "CLI brief" in text

        out = tmp_path / "brief.md"
        result = runner.invoke(cli, ["export", artifact_id, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_text().startswith("# CLI brief")

        result = runner.invoke(cli, ["export", str(uuid.uuid4())])
        assert result.exit_code == 1 and "no artifact or project" in result.output
        result = runner.invoke(cli, ["export", project_id, "--format", "docx"])
        assert result.exit_code == 2
    finally:
        get_settings.cache_clear()
