"""The nine-stage pipeline over the API: lifecycle (legal and illegal), stage generation
with the fake provider, versions, the compiled stages, and tenant isolation."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from atelier.ai.providers.base import ProviderError
from atelier.ai.providers.fake import FakeProvider
from atelier.packs.sdp.datamodel import table_name
from atelier.packs.sdp.datamodel_markdown import parse_markdown
from tests.conftest import run_jobs
from tests.factories import Api, error_code
from tests.sdp.examples import DATA_MODEL, DATABASE_ADDITIONS, OUTPUTS
from tests.sdp.helpers import (
    API,
    NAMES,
    complete,
    run_through,
    sdp_project,
    stage_url,
    stages,
    write_stage,
)

pytestmark = pytest.mark.anyio

SEED = Path(__file__).parent / "data" / "seed_001_data_model.md"

LABELS = [
    "Product Definition", "Data Model", "Database Schema", "API Design", "Tech Stack",
    "Design System", "Sections & Screens", "Infrastructure", "Export Package",
]  # fmt: skip


async def test_a_new_sdp_project_has_nine_stages_the_first_active(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    assert project["current_stage"] == 1
    items = await stages(api, me, project)
    assert [s["number"] for s in items] == list(range(1, 10))
    assert [s["name"] for s in items] == list(NAMES)
    assert [s["label"] for s in items] == LABELS
    assert [s["status"] for s in items] == ["active"] + ["locked"] * 8
    assert all(s["active_version"] is None and s["data"] is None for s in items)


async def test_projects_of_other_packs_have_no_stages(api: Api) -> None:
    me = await api.signup()
    project = await api.project(me)
    r = await api.client.get(f"{API}/projects/{project['id']}/stages", headers=me.headers)
    assert r.status_code == 404 and error_code(r) == "stage_not_found"
    sdp = await sdp_project(api, me)
    r = await api.client.get(stage_url(sdp, 10), headers=me.headers)
    assert r.status_code == 404 and error_code(r) == "stage_not_found"


async def test_writing_and_completing_moves_the_pipeline(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await write_stage(api, me, project, 1)
    r = await api.client.get(stage_url(project, 1), headers=me.headers)
    stage = r.json()
    assert (stage["status"], stage["active_version"]) == ("review", 1)
    assert stage["data"] == OUTPUTS["product"]

    done = await complete(api, me, project, 1)
    assert done["status"] == "complete" and done["completed_at"]
    items = await stages(api, me, project)
    assert [s["status"] for s in items[:3]] == ["complete", "active", "locked"]
    r = await api.client.get(f"{API}/projects/{project['id']}", headers=me.headers)
    assert r.json()["current_stage"] == 2

    r = await api.client.get(stage_url(project, 1, "/outputs"), headers=me.headers)
    (version,) = r.json()["items"]
    assert (version["version"], version["generated_by"], version["is_active"]) == (1, "human", True)


async def test_illegal_transitions_are_409_with_a_reason(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    h = me.headers

    async def code(method: str, url: str, **kw: Any) -> str:
        r = await api.client.request(method, url, headers=h, **kw)
        assert r.status_code == 409, r.text
        return error_code(r)

    assert await code("POST", stage_url(project, 2, "/generate")) == "stage_locked"
    assert await code("POST", stage_url(project, 2, "/complete")) == "stage_locked"
    assert (
        await code("PATCH", stage_url(project, 2), json={"data": OUTPUTS["dataModel"]})
        == "stage_locked"
    )
    assert await code("POST", stage_url(project, 1, "/complete")) == "stage_not_in_review"
    await write_stage(api, me, project, 1)
    await complete(api, me, project, 1)
    assert await code("POST", stage_url(project, 1, "/complete")) == "stage_already_complete"
    # The database stage compiles from the data model, which has no output yet.
    await write_stage(api, me, project, 2)
    await complete(api, me, project, 2)
    r = await api.client.patch(
        f"{API}/projects/{project['id']}", json={"current_stage": 5}, headers=h
    )
    assert r.status_code == 409 and error_code(r) == "current_stage_is_derived"
    # The export stage is compiled, never written by hand.
    assert (
        await code("PATCH", stage_url(project, 9), json={"data": {"x": 1}}) == "stage_not_editable"
    )


async def test_the_compiled_database_runs_on_sqlite(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 2)
    r = await api.client.post(
        stage_url(project, 3, "/generate"), json={"ai": False}, headers=me.headers
    )
    assert r.status_code == 200 and r.json()["job"] is None
    stage = r.json()["stage"]
    assert stage["status"] == "review" and stage["active_version"] == 1
    db = sqlite3.connect(":memory:")
    db.executescript(stage["data"]["sqlite"])
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {table_name(e["name"]) for e in DATA_MODEL["entities"]}


async def test_a_human_edit_is_validated_against_the_stage_model(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    bad = {**OUTPUTS["product"], "features": "many"}
    r = await api.client.patch(stage_url(project, 1), json={"data": bad}, headers=me.headers)
    assert r.status_code == 422
    assert "body.data.features" in [e["field"] for e in r.json()["detail"]]
    r = await api.client.get(stage_url(project, 1), headers=me.headers)
    assert r.json()["status"] == "active" and r.json()["active_version"] is None


async def test_user_input_is_kept_and_used_by_the_prompt(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    project = await sdp_project(api, me)
    r = await api.client.patch(
        stage_url(project, 1), json={"user_input": "A tracker for bee keepers"}, headers=me.headers
    )
    assert r.status_code == 200 and r.json()["user_input"] == "A tracker for bee keepers"
    fake_ai.push(OUTPUTS["product"])
    r = await api.client.post(stage_url(project, 1, "/generate"), headers=me.headers)
    await run_jobs(app, r.json()["job"]["id"])
    (request,) = fake_ai.requests
    assert "bee keepers" in "\n".join(m.content for m in request.messages)


async def test_ai_generation_of_a_stage(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    me = await api.signup()
    await api.provider(me)
    project = await sdp_project(api, me)
    await run_through(api, me, project, 1)
    fake_ai.push(OUTPUTS["dataModel"])
    r = await api.client.post(stage_url(project, 2, "/generate"), headers=me.headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["stage"]["status"] == "generating" and body["job"]["status"] == "queued"
    # One generation at a time, and no hand edits meanwhile.
    r = await api.client.post(stage_url(project, 2, "/generate"), headers=me.headers)
    assert r.status_code == 409 and error_code(r) == "stage_generating"
    r = await api.client.patch(
        stage_url(project, 2), json={"data": OUTPUTS["dataModel"]}, headers=me.headers
    )
    assert r.status_code == 409 and error_code(r) == "stage_generating"

    await run_jobs(app, body["job"]["id"])
    r = await api.client.get(stage_url(project, 2), headers=me.headers)
    stage = r.json()
    assert stage["status"] == "review" and stage["data"] == OUTPUTS["dataModel"]
    r = await api.client.get(stage_url(project, 2, "/outputs/1"), headers=me.headers)
    assert r.json()["generated_by"] == "ai" and r.json()["ai_generation_id"]
    # The prompt saw stage 1's output.
    (request,) = fake_ai.requests
    assert OUTPUTS["product"]["name"] in "\n".join(m.content for m in request.messages)
    # The audit row is linked to the stage's artifact and stage.
    r = await api.client.get(
        f"{API}/ai-generations", params={"project_id": project["id"]}, headers=me.headers
    )
    (row,) = r.json()["items"]
    assert row["status"] == "success" and row["prompt_template"] == "sdp_dataModel@1"
    assert row["artifact_id"] == stage["artifact_id"] and row["stage_id"]


async def test_a_failed_generation_leaves_the_stage_as_it_was(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    project = await sdp_project(api, me)
    await write_stage(api, me, project, 1)  # review, version 1
    fake_ai.push(*[ProviderError("the provider is down", code="provider_unavailable")] * 8)
    r = await api.client.post(stage_url(project, 1, "/generate"), headers=me.headers)
    job = r.json()["job"]
    await run_jobs(app, job["id"])
    r = await api.client.get(f"{API}/jobs/{job['id']}", headers=me.headers)
    assert r.json()["status"] == "failed"
    r = await api.client.get(stage_url(project, 1), headers=me.headers)
    stage = r.json()
    assert (stage["status"], stage["active_version"]) == ("review", 1)
    assert stage["data"] == OUTPUTS["product"]


async def test_changing_a_completed_stage_flags_later_ones(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    project = await sdp_project(api, me)
    await run_through(api, me, project, 3)
    fake_ai.push({**OUTPUTS["product"], "tagline": "Sharper"})
    r = await api.client.post(stage_url(project, 1, "/generate"), headers=me.headers)
    await run_jobs(app, r.json()["job"]["id"])
    items = await stages(api, me, project)
    assert [s["status"] for s in items[:4]] == ["review", "complete", "complete", "active"]
    assert [s["needs_review"] for s in items[:4]] == [False, True, True, False]
    r = await api.client.get(f"{API}/projects/{project['id']}", headers=me.headers)
    assert r.json()["current_stage"] == 1
    # Completing it again leaves the later stages complete (and still flagged).
    await complete(api, me, project, 1)
    items = await stages(api, me, project)
    assert [s["status"] for s in items[:4]] == ["complete", "complete", "complete", "active"]
    assert items[1]["needs_review"] is True
    r = await api.client.get(f"{API}/projects/{project['id']}", headers=me.headers)
    assert r.json()["current_stage"] == 4


async def test_activating_an_older_output(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await write_stage(api, me, project, 1)
    changed = {**OUTPUTS["product"], "name": "Renamed"}
    r = await api.client.patch(stage_url(project, 1), json={"data": changed}, headers=me.headers)
    assert r.json()["active_version"] == 2
    r = await api.client.post(stage_url(project, 1, "/outputs/1/activate"), headers=me.headers)
    assert r.status_code == 200 and r.json()["is_active"] is True
    r = await api.client.get(stage_url(project, 1), headers=me.headers)
    assert (
        r.json()["active_version"] == 1 and r.json()["data"]["name"] == OUTPUTS["product"]["name"]
    )
    r = await api.client.post(stage_url(project, 1, "/outputs/7/activate"), headers=me.headers)
    assert r.status_code == 404 and error_code(r) == "version_not_found"


async def test_database_stage_compiles_then_adds_the_ais_indexes(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    project = await sdp_project(api, me)
    await run_through(api, me, project, 2)
    fake_ai.push(DATABASE_ADDITIONS)
    r = await api.client.post(stage_url(project, 3, "/generate"), headers=me.headers)
    assert r.status_code == 202, r.text
    # The compiled schema is there at once, as version 1 (generated_by "system").
    r = await api.client.get(stage_url(project, 3, "/outputs/1"), headers=me.headers)
    assert r.json()["generated_by"] == "system"
    compiled = r.json()["data"]
    r = await api.client.get(stage_url(project, 3), headers=me.headers)
    await run_jobs(app, r.json()["job_id"])
    r = await api.client.get(stage_url(project, 3, "/outputs/2"), headers=me.headers)
    ai = r.json()
    assert ai["generated_by"] == "ai" and ai["is_active"]
    assert len(ai["data"]["indexes"]) == len(DATABASE_ADDITIONS["indexes"])
    assert len(ai["data"]["sqlite"]) > len(compiled["sqlite"])
    db = sqlite3.connect(":memory:")
    db.executescript(ai["data"]["sqlite"])
    indexes = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")]
    assert len(indexes) >= len(DATABASE_ADDITIONS["indexes"])
    r = await api.client.get(stage_url(project, 3, "/files"), headers=me.headers)
    assert set(r.json()["files"]) == {
        "03-database/database.json",
        "03-database/schema.sqlite.sql",
        "03-database/schema.postgresql.sql",
    }


async def test_export_stage_reports_validation(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 8)
    r = await api.client.post(stage_url(project, 9, "/generate"), headers=me.headers)
    assert r.status_code == 200, r.text
    report = r.json()["stage"]["data"]
    assert report["status"] == "valid", report
    await complete(api, me, project, 9)
    r = await api.client.get(f"{API}/projects/{project['id']}", headers=me.headers)
    assert r.json()["current_stage"] == 9
    assert all(s["status"] == "complete" for s in await stages(api, me, project))


async def test_stage_artifacts_generate_only_through_their_stage(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    (first, *_) = await stages(api, me, project)
    r = await api.client.post(
        f"{API}/artifacts/{first['artifact_id']}/generate", headers=me.headers
    )
    assert r.status_code == 409 and error_code(r) == "use_stage_endpoint"
    # Nor do their input and output change around the stage (which keeps the user input).
    url = f"{API}/artifacts/{first['artifact_id']}"
    for change in ({"input_data": {"user_input": "sneaky"}}, {"output_data": OUTPUTS["product"]}):
        r = await api.client.patch(url, json=change, headers=me.headers)
        assert r.status_code == 409 and error_code(r) == "use_stage_endpoint", change
    r = await api.client.patch(url, json={"name": "Product brief"}, headers=me.headers)
    assert r.status_code == 200 and r.json()["name"] == "Product brief"
    r = await api.client.patch(
        stage_url(project, 1), json={"user_input": "A tool for teams"}, headers=me.headers
    )
    assert r.status_code == 200 and r.json()["user_input"] == "A tool for teams"
    r = await api.client.get(url, headers=me.headers)
    assert r.json()["input_data"] == {"user_input": "A tool for teams"}


async def test_other_users_cannot_see_or_touch_stages(api: Api) -> None:
    owner, other = await api.signup(), await api.signup()
    project = await sdp_project(api, owner)
    await write_stage(api, owner, project, 1)
    h = other.headers
    attempts = [
        ("GET", f"{API}/projects/{project['id']}/stages", None),
        ("GET", stage_url(project, 1), None),
        ("PATCH", stage_url(project, 1), {"user_input": "mine now"}),
        ("POST", stage_url(project, 1, "/generate"), None),
        ("POST", stage_url(project, 1, "/complete"), None),
        ("GET", stage_url(project, 1, "/outputs"), None),
        ("GET", stage_url(project, 1, "/outputs/1"), None),
        ("POST", stage_url(project, 1, "/outputs/1/activate"), None),
        ("GET", stage_url(project, 1, "/files"), None),
    ]
    for method, url, body in attempts:
        r = await api.client.request(method, url, json=body, headers=h)
        assert r.status_code == 404 and error_code(r) == "project_not_found", (method, url)
    r = await api.client.get(stage_url(project, 1), headers=owner.headers)
    assert r.json()["status"] == "review" and r.json()["user_input"] is None


async def test_seed_001s_data_model_through_the_pipeline(api: Api) -> None:
    """The seed's own entity JSON as a data-model output renders back to the seed's
    tables and compiles to SQL creating its 9 tables with their foreign keys."""
    text = SEED.read_text(encoding="utf-8")
    model = parse_markdown(text).model_dump(mode="json")
    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 1)
    r = await api.client.patch(stage_url(project, 2), json={"data": model}, headers=me.headers)
    assert r.status_code == 200, r.text
    r = await api.client.get(stage_url(project, 2, "/files"), headers=me.headers)
    rendered = r.json()["files"]["02-data-model/data-model.md"]
    assert text.startswith(rendered.rstrip("\n"))
    assert text[: text.rindex("\n---")].rstrip() == rendered.rstrip()
    await complete(api, me, project, 2)
    r = await api.client.post(
        stage_url(project, 3, "/generate"), json={"ai": False}, headers=me.headers
    )
    db = sqlite3.connect(":memory:")
    db.executescript(r.json()["stage"]["data"]["sqlite"])
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert len(tables) == 9
    keys = {
        (table, ref[2], ref[3])
        for table in tables
        for ref in db.execute(f'PRAGMA foreign_key_list("{table}")')
    }
    assert ("project", "user", "user_id") in keys
    assert ("stage_output", "ai_generation", "ai_generation_id") in keys
    assert len(keys) == 12


async def test_a_stage_output_carries_its_quality_findings(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    """The product stage answered with the prompt's instructions as content: the stage
    output says so in the API and on the stage page."""
    me = await api.signup()
    await api.provider(me)
    project = await sdp_project(api, me)
    echoed = {
        **OUTPUTS["product"],
        "solution": (
            "How the product removes that cost, in two to four sentences, not a feature list."
        ),
    }
    fake_ai.push(echoed)
    r = await api.client.post(stage_url(project, 1, "/generate"), headers=me.headers)
    await run_jobs(app, r.json()["job"]["id"])
    r = await api.client.get(stage_url(project, 1, "/outputs/1"), headers=me.headers)
    quality = r.json()["quality"]
    assert {(f["rule"], f["path"]) for f in quality["findings"]} == {
        ("instruction_echo", "solution")
    }
    cookies = {"Cookie": f"atelier_session={me.token}", "Accept": "text/html"}
    page = await api.client.get(f"/projects/{project['id']}/stages/1", headers=cookies)
    assert page.status_code == 200, page.text[:300]
    assert "repeats the instructions instead of answering them" in page.text
    assert "Solution:" in page.text  # the field, named for people
