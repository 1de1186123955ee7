"""A value proposition generated at once through the API, for the generation tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import run_jobs
from tests.factories import Account, Api
from tests.packs.strategy_examples import INPUTS

API = "/api/v1"


async def generate_value_proposition(
    api: Api, app: Any, who: Account
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A strategy project with a value proposition generated at once: the job as it
    ended and the artifact as created."""
    project = await api.project(who, pack="strategy")
    r = await api.client.post(
        f"{API}/projects/{project['id']}/artifacts",
        json={
            "type": "value_proposition",
            "name": "VP",
            "input_data": INPUTS["value_proposition"],
            "generate": True,
        },
        headers=who.headers,
    )
    assert r.status_code == 201, r.text
    artifact = r.json()
    await run_jobs(app, artifact["job"]["id"])
    job = (await api.client.get(f"{API}/jobs/{artifact['job']['id']}", headers=who.headers)).json()
    return job, artifact
