"""A PDF export while the server is busy answering requests.

One command: ``.venv/bin/python bench/export_under_load.py`` (about two minutes;
``--artifacts N``, 20; ``--readers N``, 8). It serves the app with uvicorn in this
process's event loop on a fresh SQLite database, as ``atelier serve`` does, and starts
bench/gen_reads.py in another process: N keep-alive connections sending
``GET /api/v1/artifacts/{id}``, one request in flight on each. Then it renders the PDF
of the strategy sample of bench/export.py (a 20-artifact project) through
``exports.service.render_project``, as ``GET /projects/{id}/export?format=pdf`` does:

* ``alone``: with no reads running, the reference of this run;
* ``process``: while the readers run, the way the server renders now (a child process of
  its own, ``exports/pdf_process.py``);
* ``thread`` (the baseline): while the readers run, the way the server rendered before:
  on a worker thread of the server process, sharing the GIL with the event loop.

For each: the export's wall time and its ratio to ``alone``, and the reads' p50/p99 and
count during it. Results go to bench/results/export_under_load.json. ``--quick`` (what CI
runs through bench/run_all.py): 4 artifacts, shorter pauses, results to
bench/results/quick/, to check that it still runs. A read that fails (an HTTP error
status or a socket error) fails the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generation as gen  # noqa: E402
from atelier import migrate  # noqa: E402
from atelier.app import create_app  # noqa: E402
from atelier.exports import service  # noqa: E402
from atelier.exports.document import ExportProject  # noqa: E402
from atelier.exports.pdf import project_pdf_job  # noqa: E402
from atelier.exports.service import ExportFormat  # noqa: E402
from export import strategy_project  # noqa: E402


async def through_the_service(document: ExportProject) -> None:
    await service.render_project(document, format=ExportFormat.PDF)


async def on_a_thread(document: ExportProject, thread: ThreadPoolExecutor) -> None:
    job = project_pdf_job(document)
    await asyncio.get_running_loop().run_in_executor(thread, job.render)


async def run(args: argparse.Namespace, settings: Any) -> dict[str, Any]:
    app = create_app(settings)
    fx = await gen.set_up(app, provider_config=True)
    art = await fx.call(
        "POST",
        f"/projects/{fx.project_id}/artifacts",
        {"type": "brief", "name": "Read me", "input_data": gen.BRIEF_INPUT},
    )
    document = strategy_project(args.artifacts)
    thread = ThreadPoolExecutor(max_workers=1)
    port = gen.free_port()
    server, task = await gen.serve_in_loop(app, port)
    results: dict[str, Any] = {}
    try:
        await through_the_service(document)  # starts the renderer process: not measured
        await on_a_thread(document, thread)  # WeasyPrint warm in this process too
        started = time.perf_counter()
        await through_the_service(document)
        results["alone"] = {"export_s": time.perf_counter() - started}
        reads = await gen.Reads.start(
            port, f"/api/v1/artifacts/{art['id']}", fx.token, args.readers
        )
        try:
            await asyncio.sleep(args.lead_s)
            spans = {}
            for name, render in (
                ("process", lambda: through_the_service(document)),
                ("thread", lambda: on_a_thread(document, thread)),
            ):
                print(f"  {name}: exporting while {args.readers} readers run ...", flush=True)
                started = time.perf_counter()
                await render()
                spans[name] = (started, time.perf_counter())
                await asyncio.sleep(args.lead_s / 2)
            before = (spans["process"][0] - args.lead_s, spans["process"][0])
        finally:
            output = await reads.stop()
    finally:
        server.should_exit = True
        await task
        thread.shutdown()
        await app.state.ai.providers.aclose()
        await app.state.engine.dispose()
    samples = output["samples"]
    failed = sum(1 for s in samples if not 200 <= s[2] < 400)
    if failed or output["socket_errors"]:
        raise RuntimeError(
            f"reads failed: {failed} error statuses, {output['socket_errors']} socket errors"
        )
    results["reads_before"] = gen.reads_in(samples, *before)
    for name, (start, end) in spans.items():
        results[name] = {"export_s": end - start, "reads": gen.reads_in(samples, start, end)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI's check that it runs: 4 artifacts, short pauses"
    )
    parser.add_argument("--artifacts", type=int, default=None, help="20 (quick 4)")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.artifacts is None:
        args.artifacts = 4 if args.quick else 20
    if args.output is None:
        results_dir = BENCH / "results" / ("quick" if args.quick else "")
        args.output = results_dir / "export_under_load.json"
    # Reads alone before the first export (the "no export" row), and between the two.
    args.lead_s = 0.5 if args.quick else 1.0
    if args.quick:
        print("quick mode: sizes too small to read; this checks that the benchmark runs")
    with tempfile.TemporaryDirectory(prefix="atelier-export-load-") as tmp:
        settings = gen.make_settings(Path(tmp) / "data")
        migrate.upgrade(settings.resolved_database_url)  # outside the loop: Alembic runs one
        results = asyncio.run(run(args, settings))
    alone = results["alone"]["export_s"]
    print(f"\nPDF of {args.artifacts} artifacts; {args.readers} readers; {os.cpu_count()} CPUs")
    print(f"{'export':<26} {'wall':>8} {'x alone':>8} {'reads p50':>10} {'p99':>9} {'reads':>7}")
    print(f"{'alone (no reads)':<26} {alone:>6.2f} s {1:>8.2f}")
    before = results["reads_before"]
    for name, label in (
        ("process", "renderer process (now)"),
        ("thread", "server thread (before)"),
    ):
        r = results[name]
        reads = r["reads"]
        print(
            f"{label:<26} {r['export_s']:>6.2f} s {r['export_s'] / alone:>8.2f} "
            f"{reads['p50_ms']:>7.1f} ms {reads['p99_ms']:>6.1f} ms {reads['count']:>7}"
        )
    print(
        f"{'reads with no export':<26} {'':>8} {'':>8} {before['p50_ms']:>7.1f} ms "
        f"{before['p99_ms']:>6.1f} ms {before['count']:>7}"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "export_under_load",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "artifacts": args.artifacts,
        "readers": args.readers,
        "cpus": os.cpu_count(),
        "results": results,
    }
    args.output.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
