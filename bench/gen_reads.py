"""Reads while generations run: bench/loadgen.py's client, keeping every request's times.

bench/generation.py starts this as a separate process against the app it serves in its
own event loop. N keep-alive connections (one request in flight on each) send the same
GET until stdin is closed (or ``--max-seconds`` pass). Prints ``ready`` once the first
response has arrived, then, at the end, one JSON object whose ``samples`` are
``[sent, completed, status]`` per request, times from ``time.perf_counter`` (on Linux
CLOCK_MONOTONIC, the same clock in every process, so the parent can keep only the
requests sent inside its burst window).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field

import loadgen


@dataclass
class Recorder(loadgen.Window):
    """A window that keeps every request, whenever it completes."""

    samples: list[tuple[float, float, int]] = field(default_factory=list)
    first: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, started: float, finished: float, status: int) -> None:
        self.samples.append((started, finished, status))
        if not self.first.is_set():
            self.first.set()


async def run(args: argparse.Namespace) -> dict[str, object]:
    request = loadgen.build_request(args.method, args.host, args.port, args.path, args.header, b"")
    now = time.perf_counter()
    window = Recorder(measure_start=now, measure_end=now + args.max_seconds)
    loop = asyncio.get_running_loop()

    async def announce_ready() -> None:
        await window.first.wait()
        sys.stdout.write("ready\n")
        sys.stdout.flush()

    async def stop_on_eof() -> None:
        await loop.run_in_executor(None, sys.stdin.buffer.read)
        window.measure_end = time.perf_counter()  # each connection stops after its reply

    ready = loop.create_task(announce_ready())
    stopper = loop.create_task(stop_on_eof())
    await asyncio.gather(
        *(
            loadgen.connection_loop(args.host, args.port, request, window, closing=0.0)
            for _ in range(args.connections)
        )
    )
    ready.cancel()
    if not stopper.done():
        stopper.cancel()
    return {
        "connections": args.connections,
        "clock": time.get_clock_info("perf_counter").implementation,
        "socket_errors": window.socket_errors,
        "samples": window.samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--connections", "-c", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        uvloop = None
    result = uvloop.run(run(args)) if uvloop is not None else asyncio.run(run(args))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
