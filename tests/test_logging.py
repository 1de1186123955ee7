"""Log lines go to the stream that is current when they are written."""

from __future__ import annotations

import io
import json
import sys

import pytest
import structlog

from atelier.core.logging import configure_logging


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_lines_follow_a_swapped_stream(monkeypatch: pytest.MonkeyPatch, stream: str) -> None:
    configure_logging("INFO", stream=stream)
    log = structlog.get_logger("test")
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, stream, first)
    log.info("one", n=1)  # the logger is made and cached here...
    first.close()
    monkeypatch.setattr(sys, stream, second)
    log.warning("two", n=2)  # ...and still writes to the stream of now, not a closed one
    line = json.loads(second.getvalue())
    assert (line["event"], line["n"], line["level"]) == ("two", 2, "warning")
    configure_logging("INFO")
