"""A small closed-loop HTTP/1.1 load generator (the fallback when `wrk` is not installed).

N keep-alive connections, one request in flight on each: a connection sends its next
request as soon as the previous response is complete. Requests that complete during the
warm-up are discarded; those that complete inside the measurement window are counted,
with their latency (send to last byte, ``time.perf_counter``).

Built on ``asyncio.Protocol`` (on uvloop when installed) with a minimal response parser,
so one core drives tens of thousands of requests per second: the server under test, not
this process, should be the bottleneck.

Runs as its own process and prints one JSON object on stdout::

    python bench/loadgen.py --port 8000 --path /healthz --connections 32 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any, cast

REQUEST_TIMEOUT_S = 10.0  # as bench/crud.py gives wrk
# With --count-unfinished, how long a reply in flight when the window closes may still
# take to count as answered (closed loop: there is always one in flight per connection).
UNFINISHED_GRACE_S = 0.5


@dataclass
class Window:
    measure_start: float
    measure_end: float
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    bad_status: int = 0
    socket_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    # With count_unfinished, a request still unanswered when the window closes counts
    # with the time it has waited (a lower bound on its latency): a server that stops
    # answering shows in the percentiles instead of vanishing from them.
    count_unfinished: bool = False
    unfinished: int = 0
    timeouts: int = 0  # unanswered after REQUEST_TIMEOUT_S (also in socket_errors)

    def record_unfinished(self, started: float, now: float) -> None:
        if self.count_unfinished:
            self.latencies.append(now - started)
            self.unfinished += 1

    def record(self, started: float, finished: float, status: int) -> None:
        end = self.measure_end + (UNFINISHED_GRACE_S if self.count_unfinished else 0.0)
        if not self.measure_start <= finished < end:
            return
        self.latencies.append(finished - started)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 400:
            self.ok += 1
        else:
            self.bad_status += 1


class Client(asyncio.Protocol):
    """One keep-alive connection with one request in flight."""

    def __init__(self, request: bytes, window: Window, done: asyncio.Future[None]) -> None:
        self.request = request
        self.window = window
        self.done = done
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.started = 0.0
        self.in_flight = False
        self.status = 0
        self.body_needed = -1  # -1: still reading the head
        self.chunked = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if time.perf_counter() >= self.window.measure_end:
            self.transport.close()
            return
        self.in_flight = True
        self.started = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self._parse():
            pass

    def _parse(self) -> bool:
        """Consume one complete response from the buffer if there is one."""
        buf = self.buffer
        if self.body_needed < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(buf[:end]).lower()
            self.status = int(head[9:12])
            self.chunked = b"transfer-encoding: chunked" in head
            length = 0
            pos = head.find(b"\r\ncontent-length:")
            if pos >= 0:
                stop = head.find(b"\r\n", pos + 2)
                length = int(head[pos + 17 : stop if stop >= 0 else len(head)])
            del buf[: end + 4]
            self.body_needed = length
        if self.chunked:
            end = buf.find(b"0\r\n\r\n")
            if end < 0:
                return False
            del buf[: end + 5]
        else:
            if len(buf) < self.body_needed:
                return False
            del buf[: self.body_needed]
        self.body_needed = -1
        self._complete()
        return bool(buf)

    def _complete(self) -> None:
        finished = time.perf_counter()
        self.in_flight = False
        self.window.record(self.started, finished, self.status)
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.in_flight and time.perf_counter() < self.window.measure_end:
            self.window.socket_errors += 1
        if not self.done.done():
            self.done.set_result(None)


def build_request(
    method: str, host: str, port: int, path: str, headers: list[str], body: bytes
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", *headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def connection_loop(
    host: str, port: int, request: bytes, window: Window, closing: float
) -> None:
    """Keep one connection busy until the window ends, reconnecting after a failure."""
    loop = asyncio.get_running_loop()
    while time.perf_counter() < window.measure_end:
        done: asyncio.Future[None] = loop.create_future()
        try:
            transport, client = await loop.create_connection(
                lambda done=done: Client(request, window, done),  # type: ignore[misc]
                host,
                port,
            )
        except OSError:
            if time.perf_counter() >= window.measure_start:
                window.socket_errors += 1
            await asyncio.sleep(0.05)
            continue
        # Shielded: when the window runs out, `done` stays pending, and later still tells
        # whether the connection was lost.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.shield(done), timeout=max(0.1, window.measure_end - time.perf_counter())
            )
        if window.count_unfinished and client.in_flight and not done.done():
            # The reply in flight gets a moment to count as answered: once it arrives the
            # client sends nothing more (the window is over) and closes the connection.
            grace = window.measure_end + UNFINISHED_GRACE_S - time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), timeout=max(0.0, grace))
        # The window is over (timers may fire a little early): an unanswered request is
        # abandoned, not a failure, unless it has waited longer than wrk's --timeout.
        if client.in_flight:
            now = time.perf_counter()
            if not done.done():  # still connected and waiting (a lost one is a socket error)
                window.record_unfinished(client.started, now)
            if now - client.started > REQUEST_TIMEOUT_S:
                window.socket_errors += 1
                window.timeouts += 1
        client.in_flight = False
        transport.close()
    # Give responses that are still in flight a moment; they no longer count.
    await asyncio.sleep(max(0.0, closing - time.perf_counter()))


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    request = build_request(args.method, args.host, args.port, args.path, args.header, args.data)
    now = time.perf_counter()
    window = Window(
        measure_start=now + args.warmup,
        measure_end=now + args.warmup + args.duration,
        count_unfinished=args.count_unfinished,
    )
    await asyncio.gather(
        *(
            connection_loop(args.host, args.port, request, window, window.measure_end + 0.05)
            for _ in range(args.connections)
        )
    )
    lat = sorted(window.latencies)
    count = window.ok + window.bad_status
    return {
        "generator": "python-asyncio" + ("+uvloop" if args.uvloop else ""),
        "connections": args.connections,
        "duration_s": args.duration,
        "requests": count,
        "ok": window.ok,
        "errors": window.bad_status + window.socket_errors,
        "bad_status": window.bad_status,
        "socket_errors": window.socket_errors,
        "statuses": {str(k): v for k, v in sorted(window.statuses.items())},
        "unfinished": window.unfinished,
        "timeouts": window.timeouts,
        "req_per_s": count / args.duration,
        "ok_per_s": window.ok / args.duration,
        "p50_ms": percentile(lat, 50) * 1000,
        "p90_ms": percentile(lat, 90) * 1000,
        "p99_ms": percentile(lat, 99) * 1000,
        "max_ms": (lat[-1] * 1000) if lat else float("nan"),
        "mean_ms": (sum(lat) / len(lat) * 1000) if lat else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--body", default=None, help="request body (text)")
    parser.add_argument("--body-file", default=None, help="request body from a file")
    parser.add_argument("--connections", "-c", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds, not counted")
    parser.add_argument("--duration", "-d", type=float, default=10.0, help="seconds measured")
    parser.add_argument(
        "--count-unfinished",
        action="store_true",
        help="requests unanswered at the window's end count, with their wait so far",
    )
    args = parser.parse_args(argv)
    args.data = args.body.encode() if args.body is not None else b""
    if args.body_file:
        with open(args.body_file, "rb") as fh:
            args.data = fh.read()
    try:
        import uvloop
    except ImportError:
        uvloop = None
    args.uvloop = uvloop is not None
    result = uvloop.run(run(args)) if uvloop is not None else asyncio.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
