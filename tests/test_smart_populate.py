"""Smart-populate (seed 000's three modes), iterating from a proposal, and published
artifacts being read-only. The engine is generic; the brief tool stands in for any."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from atelier.ai.models import AIGeneration
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.retry import RetryPolicy
from atelier.ai.smart_populate import fill_gaps, prompt_name
from atelier.core.db import session_scope
from atelier.packs.general.brief import BriefInput
from tests.conftest import run_jobs
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Account, Api, error_code

pytestmark = pytest.mark.anyio

API = "/api/v1"
PROPOSAL = {
    "name": "Tiny CRM 2",
    "idea": "A CRM for solo consultants that turns email threads into a lead pipeline.",
    "audience": "Independent consultants with 5-50 active leads",
    "problem": "Leads get lost in the inbox",
    "constraints": ["Two-person team", "Ship in 8 weeks"],
}


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, retry, retry_after: 0.0)


async def generated_brief(api: Api, app: Any, fake_ai: FakeProvider) -> tuple[Account, Any]:
    """A user with a provider and a brief generated once (so it has an output)."""
    who = await api.signup()
    await api.provider(who)
    project = await api.project(who)
    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, "generate": True},
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    fake_ai.push(BRIEF_OUTPUT)
    await run_jobs(app, r.json()["job"]["id"])
    artifact = await get(api, who, f"{API}/artifacts/{r.json()['id']}")
    assert artifact["output_data"] == BRIEF_OUTPUT
    return who, artifact


async def get(api: Api, who: Account, url: str) -> Any:
    r = await api.client.get(url, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def populate(api: Api, who: Account, artifact_id: str, mode: str, prefix: str = "models"):
    return await api.client.post(
        f"{API}/{prefix}/{artifact_id}/smart-populate", json={"mode": mode}, headers=who.headers
    )


async def ai_rows(app: Any, artifact_id: str) -> list[AIGeneration]:
    async with session_scope(app.state.sessionmaker) as session:
        rows = await session.scalars(
            select(AIGeneration)
            .where(AIGeneration.artifact_id == uuid.UUID(artifact_id))
            .order_by(AIGeneration.created_at)
        )
        return list(rows.all())


async def test_edit_inputs_returns_the_inputs_unchanged(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    calls = len(fake_ai.requests)
    for prefix in ("models", "artifacts"):
        r = await populate(api, who, artifact["id"], "edit_inputs", prefix)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["mode"] == "edit_inputs" and body["derivation"] == "edited_inputs"
        assert body["proposal"] == artifact["input_data"] and body["job"] is None
        assert body["explanation"]
    assert len(fake_ai.requests) == calls  # no AI call


@pytest.mark.parametrize(
    ("mode", "derivation"), [("continue_from_results", "continued"), ("merge_enhance", "merged")]
)
async def test_ai_modes_propose_a_valid_input_as_a_job(
    api: Api, app: Any, fake_ai: FakeProvider, mode: str, derivation: str
) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    rows_before = len(await ai_rows(app, artifact["id"]))
    r = await populate(api, who, artifact["id"], mode)
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["mode"], body["derivation"], body["proposal"]) == (mode, derivation, None)
    job = body["job"]
    assert job["kind"] == "smart_populate" and job["status"] == "queued"

    fake_ai.push(PROPOSAL)
    await run_jobs(app, job["id"])
    done = await get(api, who, f"{API}/jobs/{job['id']}")
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert (result["mode"], result["derivation"]) == (mode, derivation)
    assert result["proposal"] == BriefInput.model_validate(PROPOSAL).model_dump(mode="json")

    # What the model was asked: the tool's *input* schema, and the output to build on.
    request = fake_ai.requests[-1]
    assert request.json_schema == BriefInput.model_json_schema()
    system, user = request.messages[0].content, request.messages[1].content
    assert "Brief" in system and '"idea"' in system
    assert BRIEF_OUTPUT["summary"] in user
    assert BRIEF_INPUT["idea"] in user  # the inputs, to keep what still holds
    assert result["kept_from_inputs"] == []  # the proposal filled every field itself

    # Audited like any call; the artifact itself is untouched.
    rows = await ai_rows(app, artifact["id"])
    assert len(rows) == rows_before + 1
    assert rows[-1].prompt_template == prompt_name_for(mode)
    assert str(rows[-1].id) == result["ai_generation_id"] and rows[-1].status == "success"
    after = await get(api, who, f"{API}/artifacts/{artifact['id']}")
    assert after["input_data"] == artifact["input_data"]
    assert (after["latest_version"], after["output_data"]) == (1, BRIEF_OUTPUT)


def test_a_proposal_is_never_poorer_than_the_inputs() -> None:
    inputs = {**BRIEF_INPUT, "audience": "Plumbers", "constraints": ["Offline first"]}
    thin = {"name": "Tiny CRM 2", "idea": "Pipelines for plumbers", "audience": None}
    filled, kept = fill_gaps(thin, inputs, BriefInput)
    assert kept == ["audience", "constraints"]
    assert filled["idea"] == "Pipelines for plumbers"  # what the proposal says wins
    assert (filled["audience"], filled["constraints"]) == ("Plumbers", ["Offline first"])
    assert fill_gaps(PROPOSAL, inputs, BriefInput) == (PROPOSAL, [])
    # Old inputs that no longer fit the tool are not forced into the proposal.
    assert fill_gaps(thin, {"audience": "x" * 100_000}, BriefInput) == (thin, [])


async def test_the_job_result_says_which_fields_were_kept(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    richer = {**BRIEF_INPUT, "audience": "Plumbers", "constraints": ["Offline first"]}
    r = await api.client.patch(
        f"{API}/artifacts/{artifact['id']}", json={"input_data": richer}, headers=who.headers
    )
    assert r.status_code == 200, r.text
    r = await populate(api, who, artifact["id"], "continue_from_results")
    fake_ai.push({"name": "Tiny CRM 2", "idea": "Pipelines for plumbers", "constraints": []})
    await run_jobs(app, r.json()["job"]["id"])
    result = (await get(api, who, f"{API}/jobs/{r.json()['job']['id']}"))["result"]
    assert result["kept_from_inputs"] == ["audience", "constraints"]
    assert result["proposal"] == {
        "name": "Tiny CRM 2",
        "idea": "Pipelines for plumbers",
        "audience": "Plumbers",
        "problem": None,
        "constraints": ["Offline first"],
    }


def prompt_name_for(mode: str) -> str:
    from atelier.artifacts.derivation import Mode

    name = prompt_name(Mode(mode))
    assert name.startswith(f"smart_populate.{mode}@")
    return name


async def test_an_invalid_proposal_is_repaired(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    r = await populate(api, who, artifact["id"], "continue_from_results")
    job = r.json()["job"]
    fake_ai.push({"name": "No idea given", "colour": "red"}, PROPOSAL)
    await run_jobs(app, job["id"])
    done = await get(api, who, f"{API}/jobs/{job['id']}")
    assert done["status"] == "succeeded", done
    assert done["result"]["proposal"]["idea"] == PROPOSAL["idea"]
    repair = fake_ai.requests[-1].messages[-1].content
    assert "idea" in repair and "colour" in repair  # the validation errors went back
    statuses = [row.status for row in await ai_rows(app, artifact["id"])][-2:]
    assert statuses == ["error", "success"]


async def test_a_proposal_that_never_fits_fails_cleanly(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    r = await populate(api, who, artifact["id"], "merge_enhance")
    job = r.json()["job"]
    attempts = app.state.settings.generation_max_attempts
    fake_ai.push(*[{"name": "still no idea"} for _ in range(attempts)])
    await run_jobs(app, job["id"])
    done = await get(api, who, f"{API}/jobs/{job['id']}")
    assert done["status"] == "failed" and done["error_code"] == "invalid_output"
    assert done["result"] is None
    rows = (await ai_rows(app, artifact["id"]))[-attempts:]
    assert [row.status for row in rows] == ["error"] * attempts
    after = await get(api, who, f"{API}/artifacts/{artifact['id']}")
    assert after["input_data"] == artifact["input_data"] and after["latest_version"] == 1


async def test_ai_modes_need_an_output_and_a_known_mode(api: Api, fake_ai: FakeProvider) -> None:
    who = await api.signup()
    await api.provider(who)
    project = await api.project(who)
    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT},
        headers=who.headers,
    )
    art = r.json()
    for mode in ("continue_from_results", "merge_enhance"):
        r = await populate(api, who, art["id"], mode)
        assert r.status_code == 409 and error_code(r) == "no_output", r.text
    r = await populate(api, who, art["id"], "edit_inputs")
    assert r.status_code == 200 and r.json()["proposal"] == art["input_data"]
    r = await populate(api, who, art["id"], "guess")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["detail"]] == ["body.mode"]
    r = await api.client.post(
        f"{API}/models/{art['id']}/smart-populate", json={}, headers=who.headers
    )
    assert [e["field"] for e in r.json()["detail"]] == ["body.mode"]
    # A free-form artifact (no tool) can be edited, not AI-populated.
    notes = await api.artifact(who, project["id"], output_data={"x": 1})
    r = await populate(api, who, notes["id"], "continue_from_results")
    assert r.status_code == 422 and [e["field"] for e in r.json()["detail"]] == ["type"]


async def test_someone_elses_artifact_cannot_be_populated(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    _, artifact = await generated_brief(api, app, fake_ai)
    other = await api.signup()
    await api.provider(other)
    for mode in ("edit_inputs", "continue_from_results"):
        r = await populate(api, other, artifact["id"], mode)
        assert r.status_code == 404 and error_code(r) == "artifact_not_found", r.text


async def test_generating_from_a_proposal_makes_a_child_in_the_tree(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    r = await populate(api, who, artifact["id"], "continue_from_results")
    fake_ai.push(PROPOSAL)
    await run_jobs(app, r.json()["job"]["id"])
    result = (await get(api, who, f"{API}/jobs/{r.json()['job']['id']}"))["result"]

    r = await api.client.post(
        f"{API}/projects/{artifact['project_id']}/artifacts",
        json={
            "type": "brief",
            "name": "Brief, second iteration",
            "input_data": result["proposal"],
            "parent_id": artifact["id"],
            "derivation": result["derivation"],
            "generate": True,
        },
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    child = r.json()
    fake_ai.push({**BRIEF_OUTPUT, "title": "Second iteration"})
    await run_jobs(app, child["job"]["id"])

    tree = await get(api, who, f"{API}/models/{child['id']}/history")
    assert [n["id"] for n in tree["items"]] == [artifact["id"], child["id"]]
    parent_node, child_node = tree["items"]
    assert parent_node["children"] == [child["id"]]
    assert (child_node["parent_id"], child_node["derivation"]) == (artifact["id"], "continued")
    assert [v["generated_by"] for v in child_node["versions"]] == ["ai"]
    assert child_node["output_data"]["title"] == "Second iteration"


# --- published artifacts are read-only -------------------------------------------------------


async def test_a_published_artifact_is_read_only_until_back_to_draft(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    url = f"{API}/artifacts/{artifact['id']}"
    r = await api.client.patch(url, json={"status": "published"}, headers=who.headers)
    assert r.status_code == 200 and r.json()["status"] == "published"

    for body in ({"output_data": {**BRIEF_OUTPUT, "title": "x"}}, {"input_data": BRIEF_INPUT}):
        r = await api.client.patch(url, json=body, headers=who.headers)
        assert r.status_code == 409 and error_code(r) == "artifact_published", r.text
    r = await api.client.post(f"{url}/generate", headers=who.headers)
    assert r.status_code == 409 and error_code(r) == "artifact_published"
    r = await api.client.post(f"{url}/versions/1/activate", headers=who.headers)
    assert r.status_code == 409 and error_code(r) == "artifact_published"
    # Renaming, reading, duplicating and smart-populating still work.
    r = await api.client.patch(url, json={"name": "Final brief"}, headers=who.headers)
    assert r.status_code == 200, r.text
    r = await populate(api, who, artifact["id"], "edit_inputs")
    assert r.status_code == 200
    r = await api.client.post(f"{url}/duplicate", headers=who.headers)
    assert r.status_code == 201 and r.json()["status"] == "draft"
    still = await get(api, who, url)
    assert (still["latest_version"], still["output_data"]) == (1, BRIEF_OUTPUT)

    # Back to draft and edited in the same request.
    r = await api.client.patch(
        url,
        json={"status": "draft", "output_data": {**BRIEF_OUTPUT, "title": "Edited"}},
        headers=who.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["active_version"]) == ("draft", 2)
    # Editing and publishing in one request: the edit lands, then it is published.
    r = await api.client.patch(
        url,
        json={"status": "published", "output_data": {**BRIEF_OUTPUT, "title": "Final"}},
        headers=who.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert r.json()["output_data"]["title"] == "Final"


async def test_a_generation_that_ends_after_publishing_leaves_it_as_published(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    who, artifact = await generated_brief(api, app, fake_ai)
    url = f"{API}/artifacts/{artifact['id']}"
    r = await api.client.post(f"{url}/generate", headers=who.headers)
    job = r.json()
    await api.client.patch(url, json={"status": "published"}, headers=who.headers)
    fake_ai.push({**BRIEF_OUTPUT, "title": "Too late"})
    await run_jobs(app, job["id"])
    done = await get(api, who, f"{API}/jobs/{job['id']}")
    assert done["status"] == "failed" and done["error_code"] == "artifact_published"
    still = await get(api, who, url)
    assert (still["latest_version"], still["output_data"]) == (1, BRIEF_OUTPUT)


async def test_an_ai_mode_must_add_something_or_say_it_found_nothing(
    api: Api, app: Any, fake_ai: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proposal equal to the inputs goes back once with that finding; a different one
    lists what it changed; a second identical one is returned as "nothing added"."""
    monkeypatch.setattr(app.state.ai.settings, "quality_repair_attempts", 1)
    who, artifact = await generated_brief(api, app, fake_ai)
    same = BriefInput.model_validate(BRIEF_INPUT).model_dump(mode="json")

    r = await populate(api, who, artifact["id"], "continue_from_results")
    fake_ai.push(same, {**same, "audience": "Plumbers who work alone"})
    await run_jobs(app, r.json()["job"]["id"])
    result = (await get(api, who, f"{API}/jobs/{r.json()['job']['id']}"))["result"]
    assert result["changed_fields"] == ["audience"] and result["nothing_added"] is False
    assert "same as the current inputs" in fake_ai.requests[-1].messages[-1].content

    r = await populate(api, who, artifact["id"], "merge_enhance")
    fake_ai.push(same, same)
    await run_jobs(app, r.json()["job"]["id"])
    result = (await get(api, who, f"{API}/jobs/{r.json()['job']['id']}"))["result"]
    assert result["changed_fields"] == [] and result["nothing_added"] is True
    assert result["quality"]["findings"][0]["rule"] == "no_change"

    # The form says so, and marks the fields a proposal changed.
    cookies = {"Cookie": f"atelier_session={who.token}", "Accept": "text/html"}
    page = await api.client.get(
        f"/artifacts/{artifact['id']}/iterate",
        params={"mode": "merge_enhance", "job": r.json()["job"]["id"]},
        headers=cookies,
    )
    assert page.status_code == 200 and "The AI found nothing to add" in page.text
    r = await populate(api, who, artifact["id"], "continue_from_results")
    fake_ai.push({**same, "audience": "Plumbers who work alone"})
    await run_jobs(app, r.json()["job"]["id"])
    page = await api.client.get(
        f"/artifacts/{artifact['id']}/iterate",
        params={"mode": "continue_from_results", "job": r.json()["job"]["id"]},
        headers=cookies,
    )
    assert 'data-changed="audience"' in page.text
    assert page.text.count("data-changed=") == 1
    assert "The proposal changed: Audience" in page.text
