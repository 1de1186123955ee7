"""Chat benchmark: what Atelier adds between a provider's streamed tokens and the browser.

One command: ``.venv/bin/python bench/chat.py`` (``--quick``, what CI runs through
bench/run_all.py: 3 replies of 30 chunks instead of 20 of 120, and the local part only
with smollm2-135m, skipped with a note when it is not installed; figures to
bench/results/quick/chat.json, else bench/results/chat.json).

The app (``create_app`` on a fresh, migrated SQLite data dir) is served by uvicorn in
this process (``lifespan="off"``; its job runner started by hand, as the lifespan
would), and a client in the same process follows each reply the way the chat page does:
``POST /api/v1/conversations/{id}/messages``, then ``GET …/events`` (SSE) read line by
line until the reply's ``message`` event. Each reply is in a conversation of its own
with a title (so no title call follows it).

Measured per reply, through Atelier: time to first token (TTFT) = POST sent -> first
``token`` event read by the client; tokens/s = characters streamed / (last token
event - first one) in characters per chunk. Directly, same run, same provider object:
``provider.generate(request, on_text=...)`` with the request the engine sent (captured
from the Atelier run), TTFT = call -> first ``on_text``; tokens/s as above between the
first and last ``on_text``.

1. Fake provider with a fixed first-token delay (0.2 s) and a fixed pace (100 chunks a
   second, 4 characters each): what is left after subtracting the direct figures is the
   platform. Targets: TTFT overhead (median Atelier - median direct) <= 20 ms, and
   Atelier's rate >= 0.95 of the direct rate.
2. The embedded model (the smallest installed catalog model; ``--skip-local`` skips it):
   the same two figures with real tokens, 64 at most per reply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path[:0] = [str(REPO), str(REPO / "src"), str(BENCH_DIR)]

from atelier import migrate  # noqa: E402
from atelier.ai.providers.base import GenerationRequest, GenerationResult  # noqa: E402
from atelier.ai.providers.fake import FakeProvider  # noqa: E402
from atelier.ai.runtime import ProviderPool  # noqa: E402
from atelier.app import create_app, tune_gc_for_serving  # noqa: E402
from generation import free_port, make_settings, pick_local_model, serve_in_loop  # noqa: E402

RESULTS_FILE = BENCH_DIR / "results" / "chat.json"
QUICK_RESULTS_FILE = BENCH_DIR / "results" / "quick" / "chat.json"
PASSWORD = "correct horse battery"
FIRST_TOKEN_DELAY = 0.2
CHUNKS_PER_SECOND = 100.0
CHUNK_CHARS = 4
TARGET_TTFT_OVERHEAD_MS = 20.0
TARGET_RATE_RATIO = 0.95
LOCAL_REPLY_TOKENS = 64


@dataclass
class Stream:
    """When text arrived, relative to the start, and how much."""

    start: float
    first: float | None = None
    last: float | None = None
    chars: int = 0
    deltas: int = 0

    def took(self, text: str) -> None:
        now = time.perf_counter()
        self.first = self.first if self.first is not None else now
        self.last = now
        self.chars += len(text)
        self.deltas += 1

    @property
    def ttft(self) -> float:
        assert self.first is not None, "no text arrived"
        return self.first - self.start

    @property
    def rate(self) -> float:
        """Characters a second between the first and the last text."""
        assert self.first is not None and self.last is not None
        span = self.last - self.first
        return self.chars / span if span > 0 else float("inf")


@dataclass
class Recorder:
    """Wraps the provider the app uses: keeps the last request the engine sent."""

    provider: Any
    requests: list[GenerationRequest] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.provider.kind)

    @property
    def default_model(self) -> str:
        return str(self.provider.default_model)

    async def generate(self, request: GenerationRequest, *, on_text: Any = None) -> Any:
        self.requests.append(request)
        return await self.provider.generate(request, on_text=on_text)

    async def aclose(self) -> None:
        await self.provider.aclose()


class Client:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=600)
        self.headers: dict[str, str] = {}

    async def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        r = await self.http.request(method, f"/api/v1{path}", json=body, headers=self.headers)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:500]}")
        return dict(r.json())

    async def sign_up(self, *, provider_config: bool) -> None:
        body = {"email": "chat@example.com", "name": "Bench", "password": PASSWORD}
        self.headers = {
            "Authorization": f"Bearer {(await self.call('POST', '/auth/signup', body))['token']}"
        }
        if provider_config:  # as tests/factories.Api.provider; the fake stands in for it
            await self.call(
                "POST",
                "/ai-providers",
                {
                    "provider": "custom",
                    "label": "Bench provider",
                    "api_key": "sk-bench-secret-key-0001",
                    "base_url": "http://127.0.0.1:9/v1",
                    "default_model": "fake-model",
                    "is_default": True,
                },
            )

    async def reply(self, content: str) -> Stream:
        """One message in a new conversation, its reply followed over SSE to the end."""
        chat = await self.call("POST", "/conversations", {"title": "bench"})
        start = time.perf_counter()
        sent = await self.call(
            "POST", f"/conversations/{chat['id']}/messages", {"content": content}
        )
        seen = Stream(start=start)
        event = ""
        async with self.http.stream("GET", sent["events_url"], headers=self.headers) as response:
            if response.status_code != 200:
                raise RuntimeError(f"events -> {response.status_code}")
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                    if event == "token":
                        seen.took(data["text"])
                    elif event == "message":
                        return seen
                    elif event in ("failed", "cancelled"):
                        raise RuntimeError(f"the reply {event}: {data}")
        raise RuntimeError("the stream ended without the reply")


async def direct(provider: Any, request: GenerationRequest) -> tuple[Stream, GenerationResult]:
    seen = Stream(start=time.perf_counter())

    async def on_text(delta: str) -> None:
        seen.took(delta)

    result = await provider.generate(request, on_text=on_text)
    return seen, result


def summarise(atelier: list[Stream], bare: list[Stream]) -> dict[str, Any]:
    ttft_a = statistics.median(s.ttft for s in atelier) * 1000
    ttft_d = statistics.median(s.ttft for s in bare) * 1000
    rate_a = statistics.median(s.rate for s in atelier)
    rate_d = statistics.median(s.rate for s in bare)
    return {
        "replies": len(atelier),
        "ttft_ms": {"atelier": round(ttft_a, 2), "direct": round(ttft_d, 2)},
        "ttft_overhead_ms": round(ttft_a - ttft_d, 2),
        "chars_per_s": {"atelier": round(rate_a, 1), "direct": round(rate_d, 1)},
        "rate_ratio": round(rate_a / rate_d, 3) if rate_d else None,
        "events_per_reply": round(statistics.mean(s.deltas for s in atelier), 1),
        "deltas_per_reply": round(statistics.mean(s.deltas for s in bare), 1),
    }


async def scenario(
    app: Any,
    recorder_of: Callable[[], Recorder],
    *,
    runs: int,
    content: str,
    provider_config: bool,
) -> dict[str, Any]:
    """``runs`` replies through Atelier, each followed by the same request sent to the
    provider directly (``recorder_of()``: the wrapped provider, known after a reply)."""
    port = free_port()
    server, serving = await serve_in_loop(app, port)
    await app.state.jobs.start()
    client = Client(f"http://127.0.0.1:{port}")
    try:
        await client.sign_up(provider_config=provider_config)
        await client.reply(content)  # warm-up: first connections, imports, model load
        recorder = recorder_of()
        atelier, bare = [], []
        for _ in range(runs):
            atelier.append(await client.reply(content))
            seen, _result = await direct(recorder.provider, recorder.requests[-1])
            bare.append(seen)
        return summarise(atelier, bare)
    finally:
        await client.http.aclose()
        await app.state.jobs.stop()
        server.should_exit = True
        await serving
        await app.state.ai.providers.aclose()


def fake_scenario(work: Path, *, runs: int, chunks: int) -> dict[str, Any]:
    settings = make_settings(work / "fake", chat_auto_title=False)
    migrate.upgrade(settings.resolved_database_url)
    fake = FakeProvider(
        default="x" * (chunks * CHUNK_CHARS),
        latency=FIRST_TOKEN_DELAY,
        chunk_size=CHUNK_CHARS,
        chunk_delay=1 / CHUNKS_PER_SECOND,
    )
    recorder = Recorder(fake)
    app = create_app(settings)
    app.state.ai.providers = ProviderPool(factory=lambda _settings: recorder)
    tune_gc_for_serving()
    result = asyncio.run(
        scenario(app, lambda: recorder, runs=runs, content="Hello there", provider_config=True)
    )
    return {
        **result,
        "first_token_delay_ms": FIRST_TOKEN_DELAY * 1000,
        "provider_chars_per_s": CHUNKS_PER_SECOND * CHUNK_CHARS,
    }


def local_scenario(work: Path, *, runs: int, quick: bool) -> dict[str, Any]:
    status, why = pick_local_model(quick=quick)
    if status is None:
        return {"skipped": why}
    settings = make_settings(
        work / "local",
        ai_provider="local",
        local_model=str(status.path),  # a GGUF path: wherever it was found
        chat_reply_max_tokens=LOCAL_REPLY_TOKENS,
        chat_auto_title=False,
    )
    migrate.upgrade(settings.resolved_database_url)
    app = create_app(settings)
    pool: ProviderPool = app.state.ai.providers
    recorders: dict[Any, Recorder] = {}
    real_get = pool.get

    def get(key: Any, provider_settings: Any) -> Any:
        if key not in recorders:
            recorders[key] = Recorder(real_get(key, provider_settings))
        return recorders[key]

    pool.get = get  # type: ignore[method-assign]
    result = asyncio.run(
        scenario(
            app,
            lambda: next(iter(recorders.values())),
            runs=runs,
            content="Name three uses of a bicycle.",
            provider_config=False,
        )
    )
    return {**result, "model": status.model.name}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_report(report: dict[str, Any]) -> None:
    print("\nChat: time to first token and streaming rate, through Atelier vs the provider")
    print(f"{'case':<28}{'TTFT atelier':>14}{'direct':>10}{'overhead':>10}{'rate ratio':>12}")
    for name in ("fake", "local"):
        row = report[name]
        if "skipped" in row:
            print(f"{name:<28}skipped: {row['skipped']}")
            continue
        label = name if name == "fake" else f"local ({row['model']})"
        print(
            f"{label:<28}{row['ttft_ms']['atelier']:>11.1f} ms{row['ttft_ms']['direct']:>7.1f} ms"
            f"{row['ttft_overhead_ms']:>7.1f} ms{row['rate_ratio']:>12.3f}"
        )
    fake = report["fake"]
    print(
        f"\ntargets (fake provider): TTFT overhead <= {TARGET_TTFT_OVERHEAD_MS:.0f} ms: "
        f"{verdict(fake['ttft_overhead_ms'] <= TARGET_TTFT_OVERHEAD_MS)}; rate >= "
        f"{TARGET_RATE_RATIO} of direct: {verdict((fake['rate_ratio'] or 0) >= TARGET_RATE_RATIO)}"
    )
    print(
        f"events per reply {fake['events_per_reply']} for {fake['deltas_per_reply']} provider "
        "deltas (coalesced every 50 ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 short replies; CI's check")
    parser.add_argument("--runs", type=int, default=None, help="replies per case")
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 20)
    chunks = 30 if args.quick else 120
    with tempfile.TemporaryDirectory(prefix="atelier-bench-chat-") as folder:
        work = Path(folder)
        report = {"fake": fake_scenario(work, runs=runs, chunks=chunks)}
        report["local"] = (
            {"skipped": "--skip-local"}
            if args.skip_local
            else local_scenario(work, runs=1 if args.quick else 3, quick=args.quick)
        )
    print_report(report)
    output = QUICK_RESULTS_FILE if args.quick else RESULTS_FILE
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {output.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
