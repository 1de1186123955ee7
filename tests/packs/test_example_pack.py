"""A pack defined only in the tests gets what any pack gets from the registry: its API
route (tenant-isolated: tests/test_isolation.py walks it too), its pages, its job handler
and its tool, with no engine file naming it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI

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
