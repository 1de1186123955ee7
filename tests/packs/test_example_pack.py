"""A pack defined only in the tests gets what any pack gets from the registry: its table
made by its own migration branch, its API route (tenant-isolated: tests/test_isolation.py
walks it too), its pages, its job handler and its tool, with no engine file naming it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from alembic.util.exc import CommandError
from fastapi import FastAPI
from sqlalchemy import create_engine, inspect
from sqlalchemy import text as sql

from atelier import migrate
from atelier.ai.tools import load_tools
from atelier.core.packs import packs
from tests.conftest import run_jobs
from tests.factories import Api
from tests.packs import example

pytestmark = pytest.mark.anyio

API = "/api/v1"
SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_example_pack_is_registered_with_its_tool() -> None:
    assert packs.get("example") is example.PACK
    tool = load_tools().get("example_title")
    assert tool is not None and tool.pack == "example"


async def test_its_route_page_and_job_work(api: Api, app: FastAPI) -> None:
    ann = await api.signup()
    project = await api.project(ann, name="Notes project", pack="example")
    url = f"{API}/projects/{project['id']}/example-notes"
    for text in ("first", "second"):
        r = await api.client.post(url, json={"text": text}, headers=ann.headers)
        assert r.status_code == 201, r.text
    assert (await api.client.get(url, headers=ann.headers)).json()["items"] == ["first", "second"]

    # Its job handler, run by the app's own runner.
    r = await api.client.post(f"{url}/tally", headers=ann.headers)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    await run_jobs(app, job_id)
    job = (await api.client.get(f"{API}/jobs/{job_id}", headers=ann.headers)).json()
    assert job["status"] == "succeeded", job
    assert job["result"] == {"notes": 2}

    # Its project page, reached through the generic /projects/{id} route, and its own page
    # with its navigation entry.
    cookies = {"Cookie": f"atelier_session={ann.token}"}
    page = await api.client.get(f"/projects/{project['id']}", headers=cookies)
    assert page.status_code == 200, page.text[:500]
    assert "2 example notes" in page.text and "Notes project" in page.text
    about = await api.client.get("/example/about", headers=cookies)
    assert about.status_code == 200 and "About the example pack" in about.text
    listing = await api.client.get("/projects", headers=cookies)
    assert 'href="/example/about"' in listing.text

    # A stranger cannot read, add to or list another user's notes.
    bob = await api.signup()
    assert (await api.client.get(url, headers=bob.headers)).status_code == 404
    r = await api.client.post(url, json={"text": "planted"}, headers=bob.headers)
    assert r.status_code == 404
    assert (await api.client.post(f"{url}/tally", headers=bob.headers)).status_code == 404
    assert (await api.client.get(url, headers=ann.headers)).json()["items"] == ["first", "second"]


async def test_its_form_page_uses_the_engine_form_helper(api: Api) -> None:
    """The pack's template (from its own folder) renders the engine's form fields; a bad
    value comes back in plain words next to its field, what was typed kept; a stale CSRF
    token changes nothing; a stranger gets a 404. Its stylesheet is served too."""
    ann = await api.signup()
    project = await api.project(ann, name="Form project", pack="example")
    cookies = {"Cookie": f"atelier_session={ann.token}", "Accept": "text/html"}
    page = await api.client.get(f"/projects/{project['id']}", headers=cookies)
    assert page.status_code == 200 and "0 example notes" in page.text
    assert "/static/packs/example/example.css" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    url = f"/example/projects/{project['id']}/notes"

    long = "x" * 201
    r = await api.client.post(
        url, data={"csrf_token": token.group(1), "text": long}, headers=cookies
    )
    assert r.status_code == 422
    assert r.text.count("At most 200 characters.") == 1
    assert 'aria-invalid="true"' in r.text and f'value="{long}"' in r.text

    r = await api.client.post(url, data={"csrf_token": "stale", "text": "hi"}, headers=cookies)
    assert r.status_code == 400 and "This form has expired" in r.text

    r = await api.client.post(
        url, data={"csrf_token": token.group(1), "text": "Kept"}, headers=cookies
    )
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{project['id']}"
    notes = await api.client.get(
        f"{API}/projects/{project['id']}/example-notes", headers=ann.headers
    )
    assert notes.json()["items"] == ["Kept"]

    bob = await api.signup()
    bob_cookies = {"Cookie": f"atelier_session={bob.token}", "Accept": "text/html"}
    bob_page = await api.client.get("/projects", headers=bob_cookies)
    bob_token = re.search(r'name="csrf-token" content="([^"]+)"', bob_page.text)
    assert bob_token is not None
    r = await api.client.post(
        url, data={"csrf_token": bob_token.group(1), "text": "planted"}, headers=bob_cookies
    )
    assert r.status_code == 404
    notes = await api.client.get(
        f"{API}/projects/{project['id']}/example-notes", headers=ann.headers
    )
    assert notes.json()["items"] == ["Kept"]

    css = await api.client.get("/static/packs/example/example.css")
    assert css.status_code == 200 and ".example-notes" in css.text


def test_its_migration_branch_upgrades_checks_and_downgrades(tmp_path: Path) -> None:
    """``migrations=`` joins the pack's Alembic branch to the engine's: ``heads`` makes its
    table, ``check`` finds the model and the migration agree, and the branch goes down on
    its own, leaving the engine's tables (``check`` then says the database is behind)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'pack.db'}"
    engine = create_engine(f"sqlite:///{tmp_path / 'pack.db'}")
    try:
        migrate.upgrade(url)
        assert "example_notes" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            heads = set(conn.scalars(sql("SELECT version_num FROM alembic_version")))
        # The pack's head, and the engine's newest revision unless the pack's depends on
        # it (then the pack's head stands for both).
        assert "example_0001" in heads and len(heads) <= 2, heads
        migrate.check(url)  # raises if a head is missing or a model and its migration differ

        migrate.downgrade(url, "example@base")
        names = set(inspect(engine).get_table_names())
        assert "example_notes" not in names and "projects" in names
        with pytest.raises(CommandError, match="not up to date"):
            migrate.check(url)  # the pack's branch is installed but not applied
        migrate.upgrade(url)
        assert "example_notes" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_no_engine_file_names_a_pack() -> None:
    """The engine reaches packs only through the registry: outside ``atelier/packs``, no
    source file imports a pack (the example one included) by name."""
    found = subprocess.run(
        ["grep", "-rnE", r"(atelier\.packs\.(sdp|strategy|general)|tests\.packs)", str(SRC),
         "--include=*.py"],
        capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    outside = [line for line in found if "/atelier/packs/" not in line]
    assert not outside, "\n".join(outside)


def test_the_engines_templates_and_static_files_name_no_pack() -> None:
    """A pack's pages, styles and scripts live in its own folder (``web_templates``,
    ``web_static``): the engine's own templates and static files mention none of them."""
    web = SRC / "atelier" / "web"
    found = subprocess.run(
        ["grep", "-rniE", r"\b(sdp|strategy)[-_/.]", str(web / "templates"),
         str(web / "static"), "--exclude-dir=vendor"],
        capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    assert not found, "\n".join(found)
