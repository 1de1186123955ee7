"""/tools: what can be generated, with its input and output schemas."""

from __future__ import annotations

import re

import pytest

from atelier.packs.general.brief import BriefTool
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, Api, error_code

pytestmark = pytest.mark.anyio

TOOLS = "/api/v1/tools"
BRIEF_PROMPT = BriefTool.prompt_name()


async def test_list_tools(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.get(TOOLS, headers=ann.headers)
    assert r.status_code == 200, r.text
    tools = {t["key"]: t for t in r.json()["items"]}
    assert r.json()["next_cursor"] is None
    brief = tools["brief"]
    # The versioned prompt: "brief@<version>", as the tool declares it.
    assert brief["prompt_template"] == BRIEF_PROMPT
    assert re.fullmatch(r"brief@\d+", BRIEF_PROMPT)
    assert brief["pack"] == "general" and brief["title"] and brief["description"]
    assert brief["input_schema"]["type"] == "object"
    assert set(brief["input_schema"]["required"]) == {"name", "idea"}
    assert set(BRIEF_INPUT) <= set(brief["input_schema"]["properties"])
    assert brief["output_schema"]["type"] == "object"
    assert set(brief["output_schema"]["required"]) == set(BRIEF_OUTPUT)
    assert brief["output_schema"]["additionalProperties"] is False


async def test_filter_by_pack(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.get(TOOLS, params={"pack": "general"}, headers=ann.headers)
    assert r.status_code == 200, r.text
    keys = [t["key"] for t in r.json()["items"]]
    assert "brief" in keys and all(t["pack"] == "general" for t in r.json()["items"])
    r = await api.client.get(TOOLS, params={"pack": "no-such-pack"}, headers=ann.headers)
    assert r.status_code == 200 and r.json()["items"] == []


async def test_get_one_tool(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.get(f"{TOOLS}/brief", headers=ann.headers)
    assert r.status_code == 200, r.text
    listed = await api.client.get(TOOLS, headers=ann.headers)
    assert r.json() == next(t for t in listed.json()["items"] if t["key"] == "brief")


async def test_unknown_tool(api: Api) -> None:
    ann = await api.signup()
    for key in ("nope", "BRIEF", BRIEF_PROMPT):
        r = await api.client.get(f"{TOOLS}/{key}", headers=ann.headers)
        assert r.status_code == 404 and error_code(r) == "tool_not_found", key


async def test_tools_need_authentication(api: Api) -> None:
    for url in (TOOLS, f"{TOOLS}/brief", f"{TOOLS}/nope"):
        r = await api.client.get(url)
        assert r.status_code == 401 and error_code(r) == "unauthorized", url
        r = await api.client.get(url, headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401, url
