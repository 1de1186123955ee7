"""Section-by-section generation with a FakeProvider playing the model: one call per part
of the answer, each asked for its own schema only and shown what is already written;
the merged answer is the same shape a one-shot call gives."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from atelier.ai import resolve
from atelier.ai.local_models import CATALOG
from atelier.ai.providers.base import GenerationRequest, ProviderSettings
from atelier.ai.providers.fake import FakeProvider
from atelier.ai.sections import ONE_SHOT, measured_mode, section_groups, section_model
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


def copying_a_gain_from_another_part() -> dict[str, Any]:
    """The value map with a gain creator that copies a gain of the customer profile,
    another part of the answer: the value map's own check sees it as text copied from
    its prompt (which shows the parts already written), the whole answer's check as a
    gain creator that does not transform its gain."""
    value_map = json.loads(json.dumps(GOOD["value_map"]))
    value_map["gain_creators"][0]["creator"] = "Spend less than buying"
    return value_map


def is_repair(request: GenerationRequest) -> bool:
    return "not usable yet" in request.messages[-1].content


def value_map_bad_for(calls: int) -> Any:
    """The model: every part well written, but its first ``calls`` value maps copy."""
    asked: list[int] = []

    def answer(request: GenerationRequest) -> str:
        assert request.json_schema is not None
        if list(request.json_schema["properties"]) == ["value_map"]:
            asked.append(1)
            if len(asked) <= calls:
                return json.dumps({"value_map": copying_a_gain_from_another_part()})
        return answer_the_part(request)

    return answer


@pytest.fixture
def repair_on(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.state.ai.settings, "quality_repair_attempts", 1)


async def versions_of(api: Api, who: Account, artifact: dict[str, Any]) -> list[Any]:
    r = await api.client.get(f"{API}/artifacts/{artifact['id']}/versions", headers=who.headers)
    return list(r.json()["items"])


@pytest.mark.usefixtures("repair_on")
async def test_a_part_still_faulty_in_the_whole_answer_goes_back_once_more(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    """The value map's own repair does not fix it; the whole answer's check sends the
    value map (and only it) back with the finding, and that answer is kept."""
    fake_ai.default = value_map_bad_for(2)
    ann = await api.signup()
    got = await generate(api, app, ann, "sections")
    assert got["output_data"] == GOOD
    repairs = [r for r in fake_ai.requests if is_repair(r)]
    assert len(repairs) == 2  # the part's own repair, then the whole answer's
    for repair in repairs:
        assert list(repair.json_schema["properties"]) == ["value_map"]  # type: ignore[index]
        assert "value_map.gain_creators[0].creator" in repair.messages[-1].content
    assert len(fake_ai.requests) == len(GOOD) + 2
    assert (await versions_of(api, ann, got))[0]["quality"]["findings"] == []


@pytest.mark.usefixtures("repair_on")
async def test_a_repair_that_does_no_better_keeps_the_first_answer_and_its_findings(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    fake_ai.default = value_map_bad_for(99)
    ann = await api.signup()
    got = await generate(api, app, ann, "sections")
    assert got["output_data"]["value_map"] == copying_a_gain_from_another_part()
    findings = (await versions_of(api, ann, got))[0]["quality"]["findings"]
    assert "value_map.gain_creators[0].creator" in {f["path"] for f in findings}
    assert len([r for r in fake_ai.requests if is_repair(r)]) == 2  # bounded


async def test_the_embedded_model_writes_in_its_measured_mode_unless_the_setting_says(
    api: Api, app: Any, fake_ai: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No provider config: the instance's embedded model (played by the fake), whose
    catalog entry says how it writes best; the instance setting overrides that."""
    settings = app.state.ai.settings
    entry = CATALOG[settings.local_model]

    def installed(settings: Any, *, model: str | None = None) -> ProviderSettings:
        # As resolve.local_settings with the model installed; the fake answers for it.
        name = model or settings.local_model
        return ProviderSettings(kind="local", default_model=name, model_path=f"/m/{name}.gguf")

    monkeypatch.setattr(resolve, "local_settings", installed)
    monkeypatch.setitem(CATALOG, entry.name, dataclasses.replace(entry, generation_mode="sections"))
    monkeypatch.setattr(settings, "local_generation_mode", None)
    fake_ai.default = answer_the_part
    ann = await api.signup()
    job, _ = await generate_value_proposition(api, app, ann)
    assert job["status"] == "succeeded", job
    assert len(fake_ai.requests) == len(GOOD)

    fake_ai.requests.clear()
    fake_ai.default = json.dumps(GOOD)
    monkeypatch.setattr(settings, "local_generation_mode", "one_shot")
    job, _ = await generate_value_proposition(api, app, ann)
    assert job["status"] == "succeeded", job
    assert len(fake_ai.requests) == 1
    assert measured_mode("/models/not-in-the-catalog.gguf") == ONE_SHOT
