"""Structured logs. Secrets never go in: log ids and codes, not payloads."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


class StreamLogger:
    """Prints each line to ``sys.stdout`` or ``sys.stderr`` *as it is at that moment*.

    structlog's PrintLogger keeps the stream it was made with, and loggers are cached on
    first use: a stream swapped later (the stdio MCP server keeps stdout for its protocol,
    pytest captures and closes streams per test) would get lines after it is closed."""

    def __init__(self, stream: str = "stdout") -> None:
        self.stream = stream

    def msg(self, message: str) -> None:
        print(message, file=getattr(sys, self.stream), flush=True)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def stream_logger_factory(stream: str) -> Any:
    return lambda *args: StreamLogger(stream)


def configure_logging(level: str = "INFO", *, stream: str = "stdout") -> None:
    logging.basicConfig(format="%(message)s", level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=stream_logger_factory(stream),
        cache_logger_on_first_use=True,
    )
