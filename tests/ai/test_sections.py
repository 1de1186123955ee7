"""Section-by-section generation with a FakeProvider playing the model: one call per part
of the answer, each asked for its own schema only and shown what is already written;
the merged answer is the same shape a one-shot call gives."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from atelier.ai.providers.base import GenerationRequest
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.sections import section_groups, section_model
from atelier.ai.tools import load_tools
from tests.ai.value_proposition import generate_value_proposition
from tests.factories import Account, Api
from tests.packs.strategy_examples import OUTPUTS

pytestmark = pytest.mark.anyio

API = "/api/v1"
GOOD = OUTPUTS["value_proposition"]


def answer_the_part(request: GenerationRequest) -> str:
    """The good answer's fields that the request's schema asks for, and only those."""
    assert request.json_schema is not None
    return json.dumps({k: GOOD[k] for k in request.json_schema["properties"]})


async def generate(api: Api, app: Any, who: Account, mode: str) -> dict[str, Any]:
    await api.provider(who, options={"generation_mode": mode})
    job, artifact = await generate_value_proposition(api, app, who)
    assert job["status"] == "succeeded", job
    got = await api.client.get(f"{API}/artifacts/{artifact['id']}", headers=who.headers)
    return dict(got.json())


async def test_parts_one_call_each_then_the_same_shape_as_one_shot(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    fake_ai.default = answer_the_part
    ann = await api.signup()
    parts = await generate(api, app, ann, "sections")
    names = list(GOOD)
    assert len(fake_ai.requests) == len(names)
    asked = [list(r.json_schema["properties"]) for r in fake_ai.requests if r.json_schema]
    assert asked == [[n] for n in names]
    # Each call shows the parts already written, and its system prompt only its schema.
    last = fake_ai.requests[-1]
    assert json.dumps(GOOD["customer_segment"]) in last.messages[-1].content
    assert '"gain_creators"' not in fake_ai.requests[0].messages[0].content
    assert parts["output_data"] == GOOD

    fake_ai.requests.clear()
    fake_ai.default = json.dumps(GOOD)
    bob = await api.signup()
    whole = await generate(api, app, bob, "one_shot")
    assert len(fake_ai.requests) == 1
    assert whole["output_data"] == parts["output_data"]


def test_declared_groups_are_written_together() -> None:
    tool = load_tools().get("value_proposition")
    assert tool is not None
    assert section_groups(tool) == [(name,) for name in tool.output_model.model_fields]
    model = section_model(tool, ("customer_profile",))
    assert list(model.model_json_schema()["properties"]) == ["customer_profile"]
    with pytest.raises(ValueError):
        model.model_validate({"customer_profile": GOOD["customer_profile"], "extra": 1})

    class Grouped(type(tool)):  # type: ignore[misc]
        sections = (("value_map", "fit"),)

    assert section_groups(Grouped()) == [
        ("customer_segment",),
        ("value_proposition",),
        ("customer_profile",),
        ("value_map", "fit"),
    ]


async def test_the_provider_form_chooses_how_answers_are_written(api: Api) -> None:
    ann = await api.signup()
    config = await api.provider(ann)
    cookies = {"Cookie": f"atelier_session={ann.token}", "Accept": "text/html"}
    page = await api.client.get(f"/settings/providers/{config['id']}/edit", headers=cookies)
    assert 'name="generation_mode"' in page.text and "Part by part" in page.text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "label": config["label"],
        "default_model": config["default_model"],
        "base_url": config["base_url"],
        "generation_mode": "sections",
    }
    url = f"/settings/providers/{config['id']}/edit"
    r = await api.client.post(url, data=form, headers=cookies)
    assert r.status_code == 303, r.text[:500]
    got = await api.client.get(f"{API}/ai-providers/{config['id']}", headers=ann.headers)
    assert got.json()["options"]["generation_mode"] == "sections"
    r = await api.client.post(url, data={**form, "generation_mode": "all at once"}, headers=cookies)
    assert r.status_code == 422
