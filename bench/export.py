"""Export benchmark: a 20-artifact project to Markdown and to PDF, against baselines.

One command: ``.venv/bin/python bench/export.py`` (``make bench`` runs it too). Options:
``--artifacts N`` (20), ``--runs N`` (PDF runs, 5; Markdown runs are 10x that), ``--output``,
``--sample heavy|strategy`` (repeatable; both by default); ``--quick`` (what CI runs through
bench/run_all.py): 4 artifacts, one run of each after the warm-up, figures to
bench/results/quick/export.json, to check that every row still runs.

Two projects, built in memory (no database):

* ``heavy``: artifacts alternate between the ``brief`` tool and the nested test tool of
  tests/exports/samples.py (a persona with a nested context, a 12-row journey table, a
  metrics table, lists), spread over the four phases; about 37 kB of Markdown and 32
  pages of PDF. A stress case: more text per artifact than the packs' tools write.
* ``strategy``: the strategy pack's seven tools in turn, each with the realistic input
  and output its tests use (tests/packs/strategy_examples.py): what a double-diamond
  project of that many artifacts holds.

Each figure is the median of several runs, after one warm-up run of each (imports, font
configuration, schema caches):

* ``markdown``: ``project_markdown`` (the schema walk and the Markdown text), target
  <= 100 ms. Baseline: markdown-it-py rendering that same final Markdown to HTML, i.e. what
  it costs merely to read the text once; ratio = markdown / baseline.
* ``pdf``: ``project_pdf`` (Markdown, our HTML with the print stylesheet, contents with
  page numbers, WeasyPrint), target <= 2 s. Baseline: WeasyPrint rendering a plain,
  unstyled HTML page of the same content (markdown-it's HTML in a bare document, no
  stylesheet); ratio = pdf / baseline, i.e. what our layout costs over the bare content.
* ``pdf/api``: the same PDF the way the export endpoint renders it, in the renderer
  process (exports/pdf_process.py; started before timing); baseline: ``pdf`` in this
  process, so the ratio is what the hop to the other process costs.

The ratios are steadier across machines than the absolute times, which depend on the CPU.
A MISS is reported, not raised: the exit status is 0 either way. Results go to
bench/results/export.json with the machine's details.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.exports.samples: the tools and data the tests use

from markdown_it import MarkdownIt  # noqa: E402
from tests.exports.samples import WHEN, big_project, project  # noqa: E402
from tests.packs.strategy_examples import INPUTS, OUTPUTS  # noqa: E402
from weasyprint import HTML  # noqa: E402
from weasyprint import __version__ as weasyprint_version  # noqa: E402

from atelier.ai.tools import load_tools  # noqa: E402
from atelier.exports import project_markdown  # noqa: E402
from atelier.exports.document import ExportArtifact, ExportProject  # noqa: E402
from atelier.exports.pdf import project_pdf, project_pdf_job  # noqa: E402
from atelier.exports.pdf_process import PdfProcess  # noqa: E402

MARKDOWN_TARGET_MS = 100.0
PDF_TARGET_MS = 2000.0


def median_ms(func: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls, after one call that is not counted."""
    func()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def pdf_pages(pdf: bytes) -> int | None:
    """The page count, read by poppler's pdfinfo when it is installed (make system-deps)."""
    if shutil.which("pdfinfo") is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        info = subprocess.run(["pdfinfo", file.name], capture_output=True, text=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, flags=re.M)
    return int(match.group(1)) if match else None


def strategy_project(count: int) -> ExportProject:
    """``count`` artifacts of the strategy pack's seven tools in turn, with the realistic
    inputs and outputs its tests use: what a double-diamond project holds."""
    registry = load_tools()
    keys = sorted(OUTPUTS)
    artifacts = []
    for n in range(count):
        key = keys[n % len(keys)]
        tool = registry.get(key)
        assert tool is not None
        artifacts.append(
            ExportArtifact(
                id=f"{key}-{n}",
                name=f"{tool.title} {n // len(keys) + 1}",
                tool_key=key,
                tool_title=tool.title,
                phase=tool.phase,
                status="draft",
                version=1,
                generated_by="ai",
                updated_at=WHEN,
                input_data=INPUTS[key],
                output_data=OUTPUTS[key],
                tool=tool,
            )
        )
    return project(artifacts, name="Shed Share")


SAMPLES = {"heavy": big_project, "strategy": strategy_project}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI's check that it runs: 4 artifacts, 1 run"
    )
    parser.add_argument("--artifacts", type=int, default=None, help="20 (quick 4)")
    parser.add_argument(
        "--runs", type=int, default=None, help="PDF runs, 5 (quick 1; Markdown: 10x)"
    )
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--sample",
        choices=sorted(SAMPLES),
        action="append",
        help="heavy (default and always first: a 12-row journey in every other artifact) "
        "and/or strategy (the strategy pack's tools with their test examples)",
    )
    args = parser.parse_args()
    results = REPO / "bench" / "results"
    if args.artifacts is None:
        args.artifacts = 4 if args.quick else 20
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.output is None:
        args.output = results / "quick" / "export.json" if args.quick else results / "export.json"
    if args.artifacts < 1 or args.runs < 1:
        parser.error("--artifacts and --runs must be >= 1")
    if args.quick:
        print("quick mode: sizes too small to read; this checks that the benchmark runs")
    renderer = PdfProcess()
    try:
        records = [run(name, args, renderer) for name in args.sample or ["heavy", "strategy"]]
    finally:
        renderer.shutdown()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(records, indent=2) + "\n")


def run(sample: str, args: argparse.Namespace, renderer: PdfProcess) -> dict[str, Any]:
    project = SAMPLES[sample](args.artifacts)
    text = project_markdown(project)
    reader = MarkdownIt("commonmark", {"html": False}).enable("table")
    plain_html = f"<!DOCTYPE html><html><body>{reader.render(text)}</body></html>"
    pdf = project_pdf(project)
    pages = pdf_pages(pdf)

    print(
        f"\n[{sample}] project: {args.artifacts} artifacts, {len(text) / 1000:.1f} kB of Markdown, "
        f"{len(pdf) / 1000:.0f} kB of PDF, {pages or '?'} pages"
    )
    md_runs = args.runs * 10
    pdf_ms = median_ms(lambda: project_pdf(project), args.runs)
    job = project_pdf_job(project)
    rows = [
        (
            "markdown",
            median_ms(lambda: project_markdown(project), md_runs),
            median_ms(lambda: reader.render(text), md_runs),
            MARKDOWN_TARGET_MS,
            "markdown-it render of the same Markdown",
        ),
        (
            "pdf",
            pdf_ms,
            median_ms(lambda: HTML(string=plain_html).write_pdf(), args.runs),
            PDF_TARGET_MS,
            "WeasyPrint of plain unstyled HTML",
        ),
        (
            "pdf/api",
            median_ms(lambda: asyncio.run(renderer.render(job)), args.runs),
            pdf_ms,
            PDF_TARGET_MS,
            "the same PDF rendered in this process",
        ),
    ]

    print()
    header = ("stage", "median", "baseline", "ratio", "target", "result", "baseline is")
    print("{:<9} {:>10} {:>10} {:>6} {:>11}  {:<6}  {}".format(*header))
    results: dict[str, Any] = {}
    for name, ms, base, target, what in rows:
        verdict = "PASS" if ms <= target else "MISS"
        print(
            f"{name:<9} {ms:>7.1f} ms {base:>7.1f} ms {ms / base:>6.2f} "
            f"{f'<= {target:g} ms':>11}  {verdict:<6}  {what}"
        )
        results[name] = {
            "median_ms": round(ms, 2),
            "baseline_ms": round(base, 2),
            "ratio": round(ms / base, 3),
            "target_ms": target,
            "pass": ms <= target,
            "baseline": what,
        }
    print(f"\n(median of {md_runs} Markdown and {args.runs} PDF runs, after a warm-up run each)")

    return {
        "sample": sample,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "weasyprint": weasyprint_version,
        },
        "artifacts": args.artifacts,
        "markdown_chars": len(text),
        "pdf_bytes": len(pdf),
        "pdf_pages": pages,
        "results": results,
    }


if __name__ == "__main__":
    main()
