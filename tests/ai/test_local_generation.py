"""A real generation with the embedded model and no API key: the fresh-machine path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, Field

from atelier import migrate
from atelier.ai.tools import Tool, ToolRegistry
from atelier.app import create_app
from atelier.config import Settings
from tests.conftest import run_jobs
from tests.factories import Api

pytestmark = pytest.mark.anyio


class TaglineInput(BaseModel):
    product: str = Field(min_length=1, max_length=200)


class TaglineOutput(BaseModel):
    tagline: str = Field(min_length=1, max_length=60)
    tags: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(max_length=3)


class TaglineTool(Tool):
    """A test tool with a short answer: the real engine path, in seconds on a tiny model."""

    key = "tagline"
    title = "Tagline"
    description = "A tagline and tags."
    input_model = TaglineInput
    output_model = TaglineOutput
    prompt_file = Path(__file__).parent / "prompts" / "tagline.j2"
    prompt_version = "1"


@pytest.fixture
def local_db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'local.db'}"
    migrate.upgrade(url)  # sync: it runs its own event loop
    return url


@pytest.fixture
async def local_app(local_db: str, tmp_path: Path, tiny_model: Path) -> AsyncIterator[Any]:
    url = local_db
    app = create_app(
        Settings(
            env="test",
            database_url=url,
            data_dir=tmp_path,
            ai_provider="local",
            local_model=str(tiny_model),
            ai_timeout_seconds=300,
            # One call per generation: whether smollm2's tagline passes the quality
            # checks is not what this test is about (a repair would be a second call).
            quality_repair_attempts=0,
        )
    )
    tools = ToolRegistry()
    tools.register(TaglineTool())
    app.state.ai.tools = tools  # this app only: the shared registry stays as it is
    yield app
    await app.state.ai.providers.aclose()
    await app.state.engine.dispose()


async def test_no_key_generation_with_the_local_model(local_app: Any) -> None:
    async with AsyncClient(transport=ASGITransport(app=local_app), base_url="http://t") as http:
        api = Api(http)
        ann = await api.signup()
        project = await api.project(ann)
        r = await http.post(
            f"/api/v1/projects/{project['id']}/artifacts",
            json={
                "type": "tagline",
                "name": "Tagline",
                "input_data": {"product": "an offline CRM for plumbers"},
                "generate": True,
            },
            headers=ann.headers,
        )
        assert r.status_code == 201, r.text
        art, job = r.json(), r.json()["job"]
        await run_jobs(local_app, job["id"], seconds=300)

        r = await http.get(f"/api/v1/jobs/{job['id']}", headers=ann.headers)
        assert r.json()["status"] == "succeeded", r.json()
        r = await http.get(f"/api/v1/artifacts/{art['id']}", headers=ann.headers)
        TaglineOutput.model_validate(r.json()["output_data"])  # schema-valid, whatever it says
        r = await http.get(
            "/api/v1/ai-generations", params={"artifact_id": art["id"]}, headers=ann.headers
        )
        success = [row for row in r.json()["items"] if row["status"] == "success"]
        assert len(success) == 1
        row = success[0]
        assert row["provider"] == "local" and row["provider_id"] is None
        assert Decimal(row["estimated_cost"]) == 0
        assert row["input_tokens"] > 0 and row["output_tokens"] > 0
        assert row["total_tokens"] == row["input_tokens"] + row["output_tokens"]
