"""Issue 2 done-walk: signup, project, artifact, edit, history, duplicate."""

from __future__ import annotations

import pytest

from tests.factories import Api

pytestmark = pytest.mark.anyio


async def test_signup_project_artifact_edit_history_duplicate(api: Api) -> None:
    ann = await api.signup("Ann")
    project = await api.project(ann, name="Launch plan", pack="strategy")
    assert project["slug"] == "launch-plan"
    art = await api.artifact(ann, project["id"], output_data={"jobs": ["ship"]})
    assert art["latest_version"] == 1 and art["active_version"] == 1

    r = await api.client.patch(
        f"/api/v1/artifacts/{art['id']}",
        json={"output_data": {"jobs": ["ship", "learn"]}},
        headers=ann.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["active_version"] == 2
    assert r.json()["output_data"] == {"jobs": ["ship", "learn"]}

    r = await api.client.post(f"/api/v1/models/{art['id']}/duplicate", headers=ann.headers)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["parent_id"] == art["id"] and copy["derivation"] == "duplicated"
    assert copy["output_data"] == {"jobs": ["ship", "learn"]}

    r = await api.client.get(f"/api/v1/artifacts/{copy['id']}/history", headers=ann.headers)
    chain = r.json()["items"]
    assert [n["id"] for n in chain] == [art["id"], copy["id"]]
    assert [v["version"] for v in chain[0]["versions"]] == [1, 2]
    assert [v["generated_by"] for v in chain[0]["versions"]] == ["human", "human"]
