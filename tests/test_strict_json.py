"""Free-form JSON fields refuse what the database cannot store, before anything is written.

A probe found that integers past 64 bits, deep nesting and lone surrogates reached the
database serializer (500), and that NaN and 1e999 were stored as null.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel

from atelier.core.schemas import InputModel
from atelier.core.strict_json import MAX_DEPTH, JsonFault, _strict, check_json
from tests.factories import Account, Api

pytestmark = pytest.mark.anyio

API = "/api/v1"

# Raw JSON texts: Python's json module parses each of them (that is the point), but none
# is portable JSON. ``{V}`` is replaced by the field's value.
BAD_VALUES = {
    "int_past_64_bits": '{"v": 18446744073709551616}',
    "int_below_int64": '{"v": -9223372036854775809}',
    "lone_surrogate": '{"v": "\\ud800"}',
    "lone_surrogate_key": '{"\\udfff": 1}',
    # PostgreSQL's jsonb cannot hold NUL (SQLite stored it): refused on both.
    "nul_character": '{"v": "a\\u0000b"}',
    "nan": '{"v": NaN}',
    "infinity": '{"v": 1e999}',
    "too_deep": '{"v": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}",
    "far_too_deep": '{"v": ' + "[" * 5000 + "]" * 5000 + "}",
}


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep, counting itself."""
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return {"v": value}


# --- the checker itself -------------------------------------------------------------------


def test_limits_are_exact() -> None:
    check_json({"max": 2**63 - 1, "min": -(2**63), "f": 1.5, "s": "é😀", "n": None, "b": True})
    check_json(nested(MAX_DEPTH))
    with pytest.raises(JsonFault, match="64-bit"):
        check_json({"v": 2**63})
    with pytest.raises(JsonFault, match="nested deeper"):
        check_json(nested(MAX_DEPTH + 1))


def test_fault_names_the_path_inside_the_field() -> None:
    with pytest.raises(JsonFault) as caught:
        check_json({"a": {"b": [0, 1, float("nan")]}})
    assert caught.value.path == "a.b[2]"


def test_depth_does_not_crash_the_checker() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(JsonFault, match="nested deeper"):
        check_json({"v": value})


def _annotation_is_free_form(annotation: Any) -> bool:
    """A ``dict[str, Any]`` somewhere in the annotation (``X | None`` included)."""
    if typing.get_origin(annotation) is dict:
        return typing.get_args(annotation)[1] is Any
    return any(_annotation_is_free_form(arg) for arg in typing.get_args(annotation))


def _metadata(annotation: Any) -> list[Any]:
    """The Annotated metadata inside an annotation (``Annotated[...] | None`` included)."""
    found = list(getattr(annotation, "__metadata__", ()))
    for arg in typing.get_args(annotation):
        found += _metadata(arg)
    return found


def _all_input_models() -> list[type[BaseModel]]:
    import atelier.app  # noqa: F401  (imports every endpoint module, hence every schema)

    seen: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [InputModel]
    while todo:
        model = todo.pop()
        seen.append(model)
        todo.extend(model.__subclasses__())
    return seen


def test_every_free_form_input_field_is_strict() -> None:
    """One validator type for every API model that carries free-form JSON: a new field
    typed plain ``dict[str, Any]`` fails here."""
    checked = 0
    for model in _all_input_models():
        for name, info in model.model_fields.items():
            if not _annotation_is_free_form(info.annotation):
                continue
            checked += 1
            validators = [getattr(m, "func", None) for m in _metadata(info.annotation)]
            validators += [getattr(m, "func", None) for m in info.metadata]
            assert _strict in validators, f"{model.__name__}.{name} is not StrictJsonObject"
    assert checked >= 7  # metadata 2, input_data 3, output_data 2, preferences, data


# --- through the API ----------------------------------------------------------------------


async def _post_raw(api: Api, who: Account, method: str, url: str, body: str) -> Any:
    return await api.client.request(
        method,
        url,
        content=body.encode("utf-8", "surrogatepass"),
        headers={**who.headers, "content-type": "application/json"},
    )


def _assert_refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation_error", body
    if "[" * 1000 in r.request.content.decode("utf-8", "surrogatepass"):
        # Past the parser's recursion limit the body itself cannot be read, so no field
        # inside it can be named.
        assert body["detail"] == [
            {"field": "body", "message": "JSON nested too deeply", "type": "json_too_deep"}
        ]
        return
    assert any(item["field"].startswith(field) for item in body["detail"]), body


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
async def test_project_metadata_is_refused_and_nothing_written(api: Api, case: str) -> None:
    who = await api.signup()
    value = BAD_VALUES[case]
    body = '{"name": "P", "metadata": ' + value + "}"
    _assert_refused(await _post_raw(api, who, "POST", f"{API}/projects", body), "body.metadata")
    listed = await api.client.get(f"{API}/projects", headers=who.headers)
    assert listed.json()["items"] == []

    project = await api.project(who, metadata={"kept": 1})
    r = await _post_raw(
        api, who, "PATCH", f"{API}/projects/{project['id']}", '{"metadata": ' + value + "}"
    )
    _assert_refused(r, "body.metadata")
    r = await api.client.get(f"{API}/projects/{project['id']}", headers=who.headers)
    assert r.json()["metadata"] == {"kept": 1}


@pytest.mark.parametrize("case", ["int_past_64_bits", "lone_surrogate", "nan", "too_deep"])
async def test_artifact_data_is_refused_and_nothing_written(api: Api, case: str) -> None:
    who = await api.signup()
    project = await api.project(who)
    value = BAD_VALUES[case]
    url = f"{API}/projects/{project['id']}/artifacts"
    for field in ("input_data", "output_data"):
        body = '{"type": "notes", "name": "A", "' + field + '": ' + value + "}"
        _assert_refused(await _post_raw(api, who, "POST", url, body), f"body.{field}")
    listed = await api.client.get(url, headers=who.headers)
    assert listed.json()["items"] == []

    artifact = await api.artifact(who, project["id"], output_data={"x": 1})
    for field in ("input_data", "output_data"):
        r = await _post_raw(
            api,
            who,
            "PATCH",
            f"{API}/artifacts/{artifact['id']}",
            '{"' + field + '": ' + value + "}",
        )
        _assert_refused(r, f"body.{field}")
    r = await api.client.get(f"{API}/artifacts/{artifact['id']}/versions", headers=who.headers)
    assert [v["version"] for v in r.json()["items"]] == [1]
    r = await api.client.get(f"{API}/artifacts/{artifact['id']}", headers=who.headers)
    assert r.json()["input_data"] == {"a": 1}
    assert r.json()["output_data"] == {"x": 1}


@pytest.mark.parametrize("case", ["int_past_64_bits", "lone_surrogate", "infinity", "too_deep"])
async def test_profile_preferences_are_refused(api: Api, case: str) -> None:
    who = await api.signup()
    r = await api.client.patch(
        f"{API}/me", json={"preferences": {"theme": "dark"}}, headers=who.headers
    )
    assert r.status_code == 200, r.text
    body = '{"preferences": ' + BAD_VALUES[case] + "}"
    _assert_refused(await _post_raw(api, who, "PATCH", f"{API}/me", body), "body.preferences")
    r = await api.client.get(f"{API}/me", headers=who.headers)
    assert r.json()["preferences"] == {"theme": "dark"}


async def test_generate_inputs_are_refused(api: Api) -> None:
    who = await api.signup()
    project = await api.project(who)
    artifact = await api.artifact(who, project["id"])
    body = '{"input_data": ' + BAD_VALUES["nan"] + "}"
    r = await _post_raw(api, who, "POST", f"{API}/artifacts/{artifact['id']}/generate", body)
    _assert_refused(r, "body.input_data")


async def test_good_values_at_the_limits_round_trip(api: Api) -> None:
    who = await api.signup()
    metadata = {"max": 2**63 - 1, "min": -(2**63), "text": "naïve 😀", **nested(MAX_DEPTH - 1)}
    project = await api.project(who, metadata=metadata)
    r = await api.client.get(f"{API}/projects/{project['id']}", headers=who.headers)
    assert r.json()["metadata"] == metadata
