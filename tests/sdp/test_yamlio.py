"""Our YAML emitter: whatever JSON-shaped data goes in, a YAML reader gets it back."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from atelier.packs.sdp.yamlio import dump_yaml, load_yaml

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_data = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_data, max_size=5))
def test_round_trip_through_a_yaml_reader(data: dict[str, Any]) -> None:
    text = dump_yaml(data)
    assert load_yaml(text) == data
    assert yaml.safe_load(text) == data  # the pure-Python reader agrees


def test_strings_that_look_like_something_else_stay_strings() -> None:
    data = {"a": "yes", "b": "1.5", "c": "2026-01-01", "d": "x: y", "e": " lead", "f": "#x",
            "g": "null", "h": "~", "i": "0x10", "j": "- item", "k": "[1]", "l": "*ref"}  # fmt: skip
    assert load_yaml(dump_yaml(data)) == data


def test_plain_text_stays_readable() -> None:
    text = dump_yaml(
        {"openapi": "3.1.0", "paths": {"/projects/{id}": {"get": {"summary": "Read"}}}}
    )
    assert text == "openapi: 3.1.0\npaths:\n  /projects/{id}:\n    get:\n      summary: Read\n"
