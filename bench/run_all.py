"""Run every benchmark, one after the other, each in a process of its own.

``.venv/bin/python bench/run_all.py --quick`` (``make bench-quick``, which CI runs) gives
each benchmark its ``--quick`` flag: tiny sizes, every code path, its table printed, a
few seconds each. The quick mode says nothing about speed; it keeps the benchmarks from
rotting: the run fails (exit status 1) if any benchmark exits non-zero, which each does
when something it runs fails (an HTTP error, an exception), or runs past ``--timeout``.
Without ``--quick`` the full benchmarks run (as ``make bench``), with no time limit.
``--only NAME`` (repeatable) runs only those.

They run one at a time: on a small machine, two benchmarks at once would each measure
the other.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent

# bench/loadgen.py, gen_reads.py and bare_app.py are helpers the benchmarks start;
# quality_inputs.py holds the quality benchmark's cases.
BENCHMARKS = (
    "crud",
    "generation",
    "export",
    "export_under_load",
    "sdp",
    "budget",
    "login_flood",
    "prompt_cache",
    "quality",
    "uploads",
    "chat",
)


def python() -> str:
    """The project's virtualenv interpreter when there is one (what the Makefile uses)."""
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def run_one(name: str, quick: bool, timeout: float | None) -> tuple[str, float]:
    cmd = [python(), str(BENCH_DIR / f"{name}.py"), *(["--quick"] if quick else [])]
    print(f"\n=== {' '.join([Path(cmd[0]).name, *cmd[1:]])}", flush=True)
    # Unbuffered, so that its output and ours come out in order.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True)
    try:
        code = proc.wait(timeout=timeout)
        status = "ok" if code == 0 else f"FAILED (exit {code})"
    except subprocess.TimeoutExpired:
        # The whole process group: the benchmark's servers and load generators too.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        status = f"FAILED (still running after {timeout:g} s)"
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        raise
    return status, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick mode")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="this one only")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds a benchmark may take (quick: 300, else no limit)",
    )
    args = parser.parse_args(argv)
    timeout = args.timeout if args.timeout is not None else (300.0 if args.quick else None)
    started = time.monotonic()
    outcomes = []
    try:
        for name in args.only or BENCHMARKS:
            outcomes.append((name, *run_one(name, args.quick, timeout)))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    total = time.monotonic() - started
    print(f"\n=== {'quick ' if args.quick else ''}benchmarks: {total:.0f} s in all")
    for name, status, seconds in outcomes:
        print(f"  {name:<20} {seconds:6.1f} s  {status}")
    failed = [name for name, status, _ in outcomes if status != "ok"]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
