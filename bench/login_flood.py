"""Login flood: does a flood of wrong-password logins slow down everyone else?

One command: ``.venv/bin/python bench/login_flood.py`` (``make bench`` runs it too;
``--quick``, what CI runs through bench/run_all.py: 2.5 s windows).

It migrates a fresh SQLite database in a temporary data dir (``atelier db upgrade``) and,
per scenario, serves a copy of it with ``atelier serve`` (one worker, as deployed) on a
free port, signs a user up, and from separate processes (bench/loadgen.py, closed loop:
each connection sends its next request when the previous one is answered):

* ``alone``: ``GET /api/v1/me`` with the user's token on ``--me-connections`` (2)
  connections for ``--duration`` seconds after ``--warmup`` seconds not counted;
* ``flood``: the same reads while ``--flood-clients`` (32) other connections send
  ``POST /api/v1/auth/login`` with the user's email and a wrong password, started
  ``--lead`` seconds before the reads and running until after them. Their answers are
  counted by status: 401 (the password was checked), 429 (refused by the throttling or
  by the bound on password hashing, without hashing).

Two scenarios, each on its own server:

* ``(a) defaults``: the server's login throttling as configured by default: the flood,
  all from one address, is soon answered 429 without hashing a password;
* ``(b) throttling off``: ``ATELIER_LOGIN_ADDRESS_MAX_FAILURES=0`` and
  ``ATELIER_LOGIN_ACCOUNT_MAX_FAILURES=0``, so every attempt hashes a password (argon2,
  deliberately slow and memory-hungry): what is left between the flood and the reads is
  the bound on concurrent hashing (``ATELIER_PASSWORD_HASH_CONCURRENCY``, logins beyond
  ``ATELIER_PASSWORD_HASH_QUEUE`` waiting are refused with 429).

The ratio is flood p99 / alone p99 of the reads on the same server, in the same run;
target <= 3 (PASS/MISS, informational: the exit status is 0 either way). A read that
fails, or a login answered with anything but 401 or 429, fails the benchmark (exit 1).
``--server-env NAME=VALUE`` (repeatable) sets more server settings in both scenarios.
The load generators share the machine with the server: on 2 cores the flood's own client
takes CPU from it, so the ratios are pessimistic there. Results go to
bench/results/login_flood.json (quick: bench/results/quick/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from crud import (  # noqa: E402
    HOST,
    Children,
    Server,
    api,
    cpu_seconds,
    free_port,
    server_env,
    wait_healthy,
)

RESULTS_FILE = BENCH_DIR / "results" / "login_flood.json"
QUICK_RESULTS_FILE = BENCH_DIR / "results" / "quick" / "login_flood.json"
EMAIL = "flood@example.com"
PASSWORD = "correct horse battery"
WRONG_PASSWORD = "not the password at all"
TARGET_RATIO = 3.0
EXPECTED_LOGIN_STATUSES = {"401", "429"}

SCENARIOS: dict[str, tuple[str, dict[str, str]]] = {
    "defaults": ("(a) defaults", {}),
    "throttling_off": (
        "(b) throttling off",
        {"ATELIER_LOGIN_ADDRESS_MAX_FAILURES": "0", "ATELIER_LOGIN_ACCOUNT_MAX_FAILURES": "0"},
    ),
}


def atelier_command() -> list[str]:
    cli = Path(sys.executable).parent / "atelier"
    return [str(cli)] if cli.exists() else [sys.executable, "-m", "atelier.cli"]


def start_atelier(children: Children, name: str, env: dict[str, str], log_dir: Path) -> Server:
    """``atelier serve`` as deployed (lifespan, settings from the environment)."""
    port = free_port()
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = children.start(
            [*atelier_command(), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(name=name, proc=proc, port=port, log_path=log_path)
    wait_healthy(server)
    return server


def loadgen_cmd(
    server: Server,
    *,
    method: str,
    path: str,
    headers: list[str],
    connections: int,
    warmup: float,
    duration: float,
    body_file: Path | None = None,
    count_unfinished: bool = False,
) -> list[str]:
    cmd = [
        sys.executable,
        str(BENCH_DIR / "loadgen.py"),
        "--host",
        HOST,
        "--port",
        str(server.port),
        "--method",
        method,
        "--path",
        path,
        "--connections",
        str(connections),
        "--warmup",
        str(warmup),
        "--duration",
        str(duration),
    ]
    for header in headers:
        cmd += ["--header", header]
    if body_file is not None:
        cmd += ["--body-file", str(body_file)]
    if count_unfinished:
        cmd.append("--count-unfinished")
    return cmd


def loadgen_result(proc: subprocess.Popen[bytes], timeout: float, what: str) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0 or b"Traceback" in err:
        raise RuntimeError(f"{what}: load generator failed ({proc.returncode}): {err.decode()}")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


@dataclass
class Bench:
    args: argparse.Namespace
    children: Children
    work_dir: Path

    def me_cmd(self, server: Server, token: str) -> list[str]:
        return loadgen_cmd(
            server,
            method="GET",
            path="/api/v1/me",
            headers=[f"Authorization: Bearer {token}"],
            connections=self.args.me_connections,
            warmup=self.args.warmup,
            duration=self.args.duration,
            # A read the server never gets to counts (as its wait so far): the flood may
            # starve the reads entirely, and that must show as a MISS, not as no data.
            count_unfinished=True,
        )

    def reads(self, server: Server, token: str) -> dict[str, Any]:
        """/me for warm-up + duration; the server's CPU (cores) over that span."""
        before, started = cpu_seconds(server.proc.pid), time.monotonic()
        proc = self.children.start(
            self.me_cmd(server, token), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            result = loadgen_result(proc, self.args.warmup + self.args.duration + 60, "/me")
        finally:
            self.children.stop(proc)
        after, elapsed = cpu_seconds(server.proc.pid), time.monotonic() - started
        result["server_cpu_cores"] = (
            (after - before) / elapsed if before is not None and after is not None else None
        )
        if result["errors"] or not (result["ok"] or result["unfinished"]):
            raise RuntimeError(f"GET /api/v1/me failed: {result}\n{server.log_tail()}")
        return result

    def flood(self, server: Server, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The reads while the login clients run: (reads, logins)."""
        args = self.args
        body_file = self.work_dir / "login.json"
        body_file.write_text(json.dumps({"email": EMAIL, "password": WRONG_PASSWORD}))
        # Longer than the reads by the lead and a margin for the reader's start-up, so the
        # whole read window falls inside the flood; every login is counted (no warm-up).
        seconds = args.lead + args.warmup + args.duration + 1.0
        flood = self.children.start(
            loadgen_cmd(
                server,
                method="POST",
                path="/api/v1/auth/login",
                headers=["Content-Type: application/json"],
                connections=args.flood_clients,
                warmup=0,
                duration=seconds,
                body_file=body_file,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            time.sleep(args.lead)
            if flood.poll() is not None:
                raise RuntimeError(f"the login flood stopped early: {flood.communicate()}")
            reads = self.reads(server, token)
            logins = loadgen_result(flood, seconds + 60, "login flood")
        finally:
            self.children.stop(flood)
        unexpected = {
            k: v for k, v in logins["statuses"].items() if k not in EXPECTED_LOGIN_STATUSES
        }
        if unexpected or logins["socket_errors"]:
            raise RuntimeError(
                f"logins answered with {unexpected or 'no unexpected status'} and "
                f"{logins['socket_errors']} socket errors:\n{server.log_tail()}"
            )
        return reads, logins

    def scenario(self, key: str, data_dir: Path) -> dict[str, Any]:
        label, overrides = SCENARIOS[key]
        extra = dict(self.args.server_env)
        env = {**server_env(data_dir), **overrides, **extra}
        print(f"{label}: starting atelier serve ...", flush=True)
        server = start_atelier(self.children, key, env, self.work_dir)
        try:
            auth = api(
                "POST",
                f"{server.base_url}/api/v1/auth/signup",
                {"email": EMAIL, "name": "Flood Target", "password": PASSWORD},
            )
            token = auth["token"]
            print(f"{label}: /me alone ...", flush=True)
            alone = self.reads(server, token)
            print(
                f"{label}: /me under {self.args.flood_clients} wrong-password login clients ...",
                flush=True,
            )
            flooded, logins = self.flood(server, token)
            if server.proc.poll() is not None:
                raise RuntimeError(f"the server died:\n{server.log_tail()}")
        finally:
            self.children.stop(server.proc)
        ratio = flooded["p99_ms"] / alone["p99_ms"]
        return {
            "label": label,
            "server_env": {**overrides, **extra},
            "alone": alone,
            "flood": flooded,
            "logins": logins,
            "p99_ratio": ratio,
            "pass": ratio <= TARGET_RATIO,
        }


def throttling_known() -> bool | None:
    """Whether this build's settings have the login throttling (else the variables are
    ignored and both scenarios run the same server)."""
    try:
        from atelier.config import Settings
    except ImportError:
        return None
    return "login_address_max_failures" in Settings.model_fields


def print_report(report: dict[str, Any]) -> None:
    print()
    print(
        f"Login flood: atelier serve (1 worker), SQLite, {report['machine']['cpus']} CPUs; "
        f"GET /api/v1/me on {report['me_connections']} connections, {report['duration_s']:g} s "
        f"(+{report['warmup_s']:g} s warm-up); {report['flood_clients']} wrong-password "
        "login clients (closed loop)"
    )
    if report["quick"]:
        print("quick mode: windows too short to read; this checks that the benchmark runs")
    if report["throttling_known"] is False:
        print("note: this build has no ATELIER_LOGIN_* settings; both scenarios are the same")
    print()
    header = (
        f"{'scenario':<30} {'p50 ms':>7} {'p99 ms':>7} {'reads/s':>8} {'unans':>5}"
        f" {'srv cpu':>7} {'p99 x':>6} {'target':>7} {'logins/s':>9} {'401':>6} {'429':>6}"
    )
    print(header)
    print("-" * len(header))
    for result in report["scenarios"].values():
        for phase in ("alone", "flood"):
            r = result[phase]
            cpu = r["server_cpu_cores"]
            line = (
                f"{result['label'] + ' ' + phase:<30} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f}"
                f" {r['ok_per_s']:8.0f} {r['unfinished']:5d}"
                f" {'n/a' if cpu is None else f'{cpu:.2f}':>7}"
            )
            if phase == "flood":
                logins = result["logins"]
                verdict = "PASS" if result["pass"] else "MISS"
                line += (
                    f" {result['p99_ratio']:6.2f} {verdict:>7}"
                    f" {logins['req_per_s']:9.0f} {logins['statuses'].get('401', 0):6d}"
                    f" {logins['statuses'].get('429', 0):6d}"
                )
            print(line)
    print()
    print(
        f"p99 x = /me p99 under the flood / /me p99 alone, same server; target <= "
        f"{TARGET_RATIO:g}. unans: reads still unanswered when the window closed (counted"
        " with their wait so far).\n401: the password was checked (hashed); 429: refused"
        " without hashing."
    )
    for result in report["scenarios"].values():
        env = " ".join(f"{k}={v}" for k, v in result["server_env"].items()) or "(none)"
        print(f"  {result['label']}: server environment {env}")
    print(f"results written to {report['results_file']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI's check that it runs: 2.5 s windows"
    )
    parser.add_argument("--duration", type=float, default=None, help="read window, s (10; 2.5)")
    parser.add_argument("--warmup", type=float, default=None, help="uncounted reads, s (1; 0.5)")
    parser.add_argument(
        "--lead", type=float, default=None, help="flood before the reads start, s (2; 1)"
    )
    parser.add_argument("--me-connections", type=int, default=2)
    parser.add_argument("--flood-clients", type=int, default=32)
    parser.add_argument(
        "--scenario", choices=sorted(SCENARIOS), action="append", help="default: both"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for both servers, e.g. ATELIER_PASSWORD_HASH_CONCURRENCY=1",
    )
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--keep-data", action="store_true", help="keep data dir and server logs")
    args = parser.parse_args(argv)
    defaults = (2.5, 0.5, 1.0) if args.quick else (10.0, 1.0, 2.0)
    for name, default in zip(("duration", "warmup", "lead"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.output is None:
        args.output = QUICK_RESULTS_FILE if args.quick else RESULTS_FILE
    if args.duration <= 0 or args.warmup < 0 or args.lead < 0:
        parser.error("--duration must be > 0, --warmup and --lead >= 0")
    if args.me_connections < 1 or args.flood_clients < 1:
        parser.error("--me-connections and --flood-clients must be >= 1")
    pairs = []
    for item in args.server_env:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("ATELIER_"):
            parser.error(f"--server-env wants ATELIER_NAME=VALUE, not {item!r}")
        pairs.append((name, value))
    args.server_env = pairs
    return args


def run(args: argparse.Namespace, children: Children, work_dir: Path) -> dict[str, Any]:
    template = work_dir / "template"
    print(f"migrating a fresh SQLite database in {template} ...", flush=True)
    subprocess.run(
        [*atelier_command(), "db", "upgrade"],
        env=server_env(template),
        check=True,
        capture_output=True,
    )
    bench = Bench(args, children, work_dir)
    results = {}
    for key in args.scenario or list(SCENARIOS):
        # A copy of the migrated database per server: no state (failures, lockouts,
        # sessions) carried from one scenario to the next.
        data_dir = work_dir / key
        shutil.copytree(template, data_dir)
        results[key] = bench.scenario(key, data_dir)
    return {
        "benchmark": "login_flood",
        "quick": args.quick,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "throttling_known": throttling_known(),
        "me_connections": args.me_connections,
        "flood_clients": args.flood_clients,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "lead_s": args.lead,
        "target_ratio_max": TARGET_RATIO,
        "scenarios": results,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    children = Children()

    def on_term(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    work_dir = Path(tempfile.mkdtemp(prefix="atelier-login-flood-"))
    try:
        report = run(args, children, work_dir)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        report["results_file"] = str(args.output)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print_report(report)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None)
        print(f"benchmark failed: {exc}", file=sys.stderr)
        if detail:
            print(detail.decode(errors="replace")[-2000:], file=sys.stderr)
        return 1
    finally:
        children.stop_all()
        if args.keep_data:
            print(f"data and server logs kept in {work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
