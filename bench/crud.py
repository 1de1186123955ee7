"""CRUD throughput of the Atelier API on SQLite, against a bare baseline in the same run.

What it does (one command: ``.venv/bin/python bench/crud.py``, or ``make bench``):

1. Migrates a fresh SQLite database in a temporary data dir (``atelier db upgrade``) and
   serves the app with uvicorn (1 worker, uvloop + httptools when installed, no access
   log, ``ATELIER_LOG_LEVEL=WARNING``).
2. Through the API: signs a user up, creates a project and one ``value_proposition``
   artifact with a few hundred bytes of JSON input and output.
3. From a separate process (``wrk`` if ``/usr/bin/wrk`` exists, else bench/loadgen.py),
   with 32 keep-alive connections and one request in flight on each, for ``--duration``
   seconds after ``--warmup`` seconds that are not counted, drives:

   * ``GET /api/v1/artifacts/{id}`` on the app (authenticated with the session token);
   * ``GET /artifacts/{id}`` on bench/bare_app.py: a bare Starlette app, served the same
     way, doing the same SQLite read (one SELECT of the row by primary key, through
     aiosqlite, on the same database file) and returning it as JSON;
   * ``POST /api/v1/projects/{id}/artifacts`` on the app (each creates an artifact and its
     first version).

4. Prints req/s, p50 and p99 latency and errors for each, and writes them with the
   machine's details to bench/results/crud.json. ``--rounds N`` repeats the three runs
   and reports the median round: absolute figures on a shared VM can move by +-30%
   from one run to the next.

Options: ``--duration`` (10 s), ``--warmup`` (2 s), ``--concurrency`` (32), ``--rounds`` (1),
``--generator auto|wrk|python``, ``--output``, ``--keep-data``; ``--quick`` (what CI runs, via
bench/run_all.py): 1.5 s runs after 0.5 s of warm-up, every scenario, figures to
bench/results/quick/crud.json; its figures are too short to read, it checks that the
benchmark still runs. A request that fails (an HTTP error status or a socket error) fails
the benchmark, in either mode: its figures would not measure what they say.

Reading the ratio: ``app reads/s / bare reads/s`` is the share of the bare read's
throughput that the app keeps once authentication, the access check, the ORM, validation
and serialization are added. Both servers run on the same machine, database file and
uvicorn settings and are measured minutes apart by the same load generator, so the
ratio is far more stable across machines than the raw figures (which depend on the CPU
and on the load generator sharing it). 1.0 would mean the framework costs nothing; 0.5
means each app read costs about twice the bare one. The targets (reads ratio >= 0.5 with
app p99 <= 25 ms; creates >= 1000/s) are informational: a miss is reported, not an error.

Columns "srv cpu" and "gen cpu" are the CPU used by the server and by the load generator
during the measurement, in cores: a server near 1.0 is saturated (one worker, one core);
a load generator near the number of cores would mean it, not the server, is the limit.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "crud.json"
QUICK_RESULTS_FILE = BENCH_DIR / "results" / "quick" / "crud.json"
WRK = Path("/usr/bin/wrk")
HOST = "127.0.0.1"

TARGET_READ_RATIO = 0.5
TARGET_READ_P99_MS = 25.0
TARGET_CREATES_PER_S = 1000.0

# A value proposition canvas, a few hundred bytes each way. The input must satisfy the
# tool's input model (packs/strategy/value_proposition.py), which the API enforces on
# create; the output is stored as given (the API does not validate it against the tool).
VP_INPUT: dict[str, Any] = {
    "offering": "Atelier for consultancies",
    "customer_segment": "Independent strategy consultants with 2-10 active clients",
    "known_jobs": ["prepare client workshops", "turn interviews into structured findings"],
    "known_pains": ["hours lost reformatting notes", "no single history of what changed and why"],
    "known_gains": ["reusable canvases", "versioned deliverables the client can trust"],
}
VP_OUTPUT: dict[str, Any] = {
    "value_map": {
        "products_services": ["guided canvases", "AI drafts from interview notes"],
        "pain_relievers": ["one-click structured export", "full version history per artifact"],
        "gain_creators": ["templates shared across the organization"],
    },
    "fit": {"score": 0.72, "notes": "strong on pains, weaker on gains for solo consultants"},
    "summary": "Structured, versioned client deliverables without the formatting grind.",
}


# --------------------------------------------------------------------------- processes


@dataclass
class Children:
    """Every subprocess started here, so that each is stopped whatever happens."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        # A session of its own: Ctrl-C reaches us only, and we stop the child in order.
        proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_options() -> list[str]:
    opts = ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    if importlib.util.find_spec("uvloop"):
        opts += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools"):
        opts += ["--http", "httptools"]
    return opts


def start_server(
    children: Children, name: str, target: list[str], env: dict[str, str], log_dir: Path
) -> Server:
    port = free_port()
    log_path = log_dir / f"{name}.log"
    cmd = [sys.executable, "-m", "uvicorn", *target, "--host", HOST, "--port", str(port)]
    with log_path.open("wb") as log:
        proc = children.start(
            [*cmd, *uvicorn_options()], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(name=name, proc=proc, port=port, log_path=log_path)
    wait_healthy(server)
    return server


def wait_healthy(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} server exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} server not healthy after {timeout:.0f}s")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux /proc), or None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- data setup


def api(method: str, url: str, body: Any, token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return dict(json.load(resp))
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {url} -> {exc.code}: {exc.read()[:500]!r}") from None


@dataclass
class Fixture:
    token: str
    project_id: str
    artifact_id: str
    create_body: bytes


def set_up_data(app: Server) -> Fixture:
    base = f"{app.base_url}/api/v1"
    auth = api(
        "POST",
        f"{base}/auth/signup",
        {"email": "bench@example.com", "name": "Bench User", "password": "correct horse battery"},
    )
    token = auth["token"]
    project = api("POST", f"{base}/projects", {"name": "Benchmark project"}, token)
    payload = {
        "type": "value_proposition",
        "name": "VP",
        "input_data": VP_INPUT,
        "output_data": VP_OUTPUT,
    }
    artifact = api("POST", f"{base}/projects/{project['id']}/artifacts", payload, token)
    return Fixture(
        token=token,
        project_id=project["id"],
        artifact_id=artifact["id"],
        create_body=json.dumps({**payload, "name": "VP (bench)"}).encode(),
    )


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    label: str
    server: Server
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


class LoadGenerator:
    name = "?"

    def __init__(self, children: Children, concurrency: int, warmup: float, duration: float):
        self.children = children
        self.concurrency = concurrency
        self.warmup = warmup
        self.duration = duration

    def run(self, load: Load, work_dir: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _run_process(
        self, cmd: list[str], server: Server, measure_from: float
    ) -> tuple[str, dict[str, Any]]:
        """Run one load process; CPU of server and generator over the measured window."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = self.children.start(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(measure_from)
        srv_a, srv_t = cpu_seconds(server.proc.pid), time.monotonic()
        time.sleep(self.duration)
        srv_b, srv_t2 = cpu_seconds(server.proc.pid), time.monotonic()
        out, err = proc.communicate(timeout=self.duration + 60)
        elapsed = time.monotonic() - started
        self.children.procs.remove(proc)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed ({proc.returncode}): {err.decode()}")
        if b"Traceback" in err:
            raise RuntimeError(f"load generator error:\n{err.decode()[-3000:]}")
        gen_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cpu = {
            "server_cpu_cores": (srv_b - srv_a) / (srv_t2 - srv_t)
            if srv_a is not None and srv_b is not None
            else None,
            "generator_cpu_cores": gen_cpu / elapsed,
        }
        return out.decode(), cpu


class PythonLoadGenerator(LoadGenerator):
    name = "python (bench/loadgen.py: asyncio + uvloop, keep-alive)"

    def run(self, load: Load, work_dir: Path) -> dict[str, Any]:
        cmd = [
            sys.executable,
            str(BENCH_DIR / "loadgen.py"),
            "--host",
            HOST,
            "--port",
            str(load.server.port),
            "--method",
            load.method,
            "--path",
            load.path,
            "--connections",
            str(self.concurrency),
            "--warmup",
            str(self.warmup),
            "--duration",
            str(self.duration),
        ]
        for name, value in load.headers.items():
            cmd += ["--header", f"{name}: {value}"]
        if load.body:
            body_file = work_dir / "body.json"
            body_file.write_bytes(load.body)
            cmd += ["--body-file", str(body_file)]
        out, cpu = self._run_process(cmd, load.server, measure_from=self.warmup)
        result = dict(json.loads(out.strip().splitlines()[-1]))
        return {**result, **cpu}


WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "duration_us": %d, "status_errors": %d, "connect": %d, '
    .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f}}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


class WrkLoadGenerator(LoadGenerator):
    name = "wrk"

    def __init__(self, children: Children, concurrency: int, warmup: float, duration: float):
        super().__init__(children, concurrency, warmup, duration)
        self.threads = max(1, min(2, os.cpu_count() or 1))
        self.name = f"wrk ({self.threads} threads, {WRK})"

    def _cmd(self, load: Load, script: Path, seconds: float) -> list[str]:
        # wrk reads whole seconds only ("0.5s" is refused).
        seconds = max(1, math.ceil(seconds))
        return [
            str(WRK),
            "-t",
            str(self.threads),
            "-c",
            str(self.concurrency),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            f"{load.server.base_url}{load.path}",
        ]

    def run(self, load: Load, work_dir: Path) -> dict[str, Any]:
        headers = "\n".join(
            f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in load.headers.items()
        )
        # A Lua long string takes the JSON body verbatim.
        body = f"[==[{load.body.decode()}]==]" if load.body else "nil"
        script = work_dir / "wrk.lua"
        script.write_text(WRK_SCRIPT.format(method=load.method, body=body, headers=headers))
        if self.warmup > 0:
            subprocess.run(self._cmd(load, script, self.warmup), capture_output=True, check=True)
        out, cpu = self._run_process(self._cmd(load, script, self.duration), load.server, 0.05)
        line = next(ln for ln in out.splitlines() if ln.startswith("BENCH "))
        raw = json.loads(line[len("BENCH ") :])
        seconds = raw["duration_us"] / 1e6
        socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
        return {
            "generator": "wrk",
            "connections": self.concurrency,
            "duration_s": seconds,
            "requests": raw["requests"],
            "ok": raw["requests"] - raw["status_errors"],
            "errors": raw["status_errors"] + socket_errors,
            "bad_status": raw["status_errors"],
            "socket_errors": socket_errors,
            "req_per_s": raw["requests"] / seconds,
            "ok_per_s": (raw["requests"] - raw["status_errors"]) / seconds,
            "p50_ms": raw["p50_us"] / 1000,
            "p90_ms": raw["p90_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["max_us"] / 1000,
            "mean_ms": raw["mean_us"] / 1000,
            **cpu,
        }


# --------------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt_cores(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.2f}"


def print_report(report: dict[str, Any]) -> None:
    res = report["results"]
    print()
    print(
        f"Atelier CRUD benchmark: SQLite, uvicorn {' '.join(report['uvicorn_options'])}; "
        f"{report['concurrency']} connections, {report['duration_s']:g} s "
        f"(+{report['warmup_s']:g} s warm-up) each"
        + (f"; median of {report['rounds']} rounds" if report["rounds"] > 1 else "")
    )
    print(f"load generator: {report['generator']}")
    if report["quick"]:
        print("quick mode: runs too short to read; this checks that the benchmark runs")
    print()
    header = (
        f"{'scenario':<44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}"
        f" {'srv cpu':>7} {'gen cpu':>7}"
    )
    print(header)
    print("-" * len(header))
    for key, label in (
        ("app_read", "GET  app  /api/v1/artifacts/{id}"),
        ("bare_read", "GET  bare /artifacts/{id} (baseline)"),
        ("floor_read", "GET  FastAPI floor /artifacts/{id}"),
        ("app_create", "POST app  /api/v1/projects/{id}/artifacts"),
    ):
        r = res[key]
        print(
            f"{label:<44} {r['ok_per_s']:8.0f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f}"
            f" {r['errors']:7d}   {fmt_cores(r['server_cpu_cores'])}"
            f"   {fmt_cores(r['generator_cpu_cores'])}"
        )
    t = report["targets"]
    print()
    print(
        f"reads ratio app/bare = {report['reads_ratio']:.3f}"
        f"   target >= {TARGET_READ_RATIO} with app p99 <= {TARGET_READ_P99_MS:g} ms:"
        f" {verdict(t['reads']['pass'])}"
    )
    print(
        f"framework floor: FastAPI doing the same read = {report['floor_ratio']:.3f} of bare;"
        f" the app = {report['app_vs_floor']:.3f} of that floor"
    )
    print(
        f"creates = {res['app_create']['ok_per_s']:.0f}/s"
        f"   target >= {TARGET_CREATES_PER_S:g}/s: {verdict(t['creates']['pass'])}"
    )
    print(f"results written to {report['results_file']}")


# --------------------------------------------------------------------------- main


def median_by(rounds: list[dict[str, Any]], key: str, metric: str) -> dict[str, Any]:
    """The result of the round whose `metric` is the median (the lower one if even)."""
    ordered = sorted((r[key] for r in rounds), key=lambda result: float(result[metric]))
    return dict(ordered[(len(ordered) - 1) // 2])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Atelier CRUD benchmark (app vs bare Starlette baseline, SQLite)."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI's check that it runs: 1.5 s runs, 0.5 s warm-up, results/quick/crud.json",
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="measured seconds per run (10, quick 1.5)"
    )
    parser.add_argument(
        "--warmup", type=float, default=None, help="uncounted seconds per run (2, quick 0.5)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat the three runs; report the median round (steadier on a noisy machine)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="connections")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk if /usr/bin/wrk exists, else the Python generator",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON results file")
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the temporary data dir (and server logs)"
    )
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1.5 if args.quick else 10.0
    if args.warmup is None:
        args.warmup = 0.5 if args.quick else 2.0
    if args.output is None:
        args.output = QUICK_RESULTS_FILE if args.quick else RESULTS_FILE
    if args.duration <= 0 or args.warmup < 0 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --rounds and --concurrency >= 1")
    return args


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env.update(
        ATELIER_ENV="development",
        ATELIER_DATA_DIR=str(data_dir),
        ATELIER_LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run(args: argparse.Namespace, children: Children, work_dir: Path) -> dict[str, Any]:
    data_dir = work_dir / "data"
    env = server_env(data_dir)
    print(f"migrating a fresh SQLite database in {data_dir} ...", flush=True)
    cli = Path(sys.executable).parent / "atelier"
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "atelier.cli"]
    subprocess.run(
        [*command, "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    db_path = data_dir / "atelier.db"

    use_wrk = args.generator == "wrk" or (args.generator == "auto" and WRK.exists())
    if args.generator == "wrk" and not WRK.exists():
        raise SystemExit(f"{WRK} not found (apt-get install wrk)")
    generator_cls = WrkLoadGenerator if use_wrk else PythonLoadGenerator
    generator = generator_cls(children, args.concurrency, args.warmup, args.duration)

    print("starting the app ...", flush=True)
    app = start_server(children, "app", ["atelier.app:create_app", "--factory"], env, work_dir)
    fixture = set_up_data(app)
    bare_env = {**env, "BENCH_DB_PATH": str(db_path)}
    print("starting the bare baseline ...", flush=True)
    bare = start_server(
        children,
        "bare",
        ["bare_app:create_app", "--factory", "--app-dir", str(BENCH_DIR)],
        bare_env,
        work_dir,
    )
    print("starting the FastAPI floor ...", flush=True)
    floor = start_server(
        children,
        "floor",
        ["bare_app:create_fastapi_app", "--factory", "--app-dir", str(BENCH_DIR)],
        bare_env,
        work_dir,
    )
    auth = {"Authorization": f"Bearer {fixture.token}"}
    for server in (bare, floor):
        check = urllib.request.Request(f"{server.base_url}/artifacts/{fixture.artifact_id}")
        with urllib.request.urlopen(check, timeout=10) as resp:
            if json.load(resp)["name"] != "VP":
                raise RuntimeError(f"the {server.name} app does not read the app's artifact")

    loads = {
        "app_read": Load("app reads", app, "GET", f"/api/v1/artifacts/{fixture.artifact_id}", auth),
        "bare_read": Load("bare reads", bare, "GET", f"/artifacts/{fixture.artifact_id}", auth),
        "floor_read": Load(
            "FastAPI floor reads", floor, "GET", f"/artifacts/{fixture.artifact_id}", auth
        ),
        "app_create": Load(
            "app creates",
            app,
            "POST",
            f"/api/v1/projects/{fixture.project_id}/artifacts",
            {**auth, "Content-Type": "application/json"},
            fixture.create_body,
        ),
    }
    rounds: list[dict[str, Any]] = []
    for number in range(1, args.rounds + 1):
        results: dict[str, Any] = {}
        for key, load in loads.items():
            print(
                f"{f'round {number}/{args.rounds}: ' if args.rounds > 1 else ''}"
                f"{load.label}: {args.warmup:g} s warm-up + {args.duration:g} s "
                f"at {args.concurrency} connections ...",
                flush=True,
            )
            results[key] = generator.run(load, work_dir)
            if not results[key]["ok"] or results[key]["errors"]:
                raise RuntimeError(f"{load.label}: failed requests: {results[key]}")
            for server in (app, bare, floor):
                if server.proc.poll() is not None:
                    raise RuntimeError(f"{server.name} server died:\n{server.log_tail()}")
        bare_rate = results["bare_read"]["ok_per_s"]
        results["reads_ratio"] = results["app_read"]["ok_per_s"] / bare_rate if bare_rate else 0.0
        rounds.append(results)

    # Several rounds: each scenario's figures are those of its median round.
    results = {key: median_by(rounds, key, "ok_per_s") for key in loads}
    app_read, bare_read, create = results["app_read"], results["bare_read"], results["app_create"]
    ratio = app_read["ok_per_s"] / bare_read["ok_per_s"]
    reads_pass = ratio >= TARGET_READ_RATIO and app_read["p99_ms"] <= TARGET_READ_P99_MS
    return {
        "benchmark": "crud",
        "quick": args.quick,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generator": generator.name,
        "concurrency": args.concurrency,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "uvicorn_options": uvicorn_options(),
        "payload_bytes": len(fixture.create_body),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "rounds": len(rounds),
        "results": results,
        "reads_ratio": ratio,
        "floor_ratio": results["floor_read"]["ok_per_s"] / bare_read["ok_per_s"],
        "app_vs_floor": app_read["ok_per_s"] / results["floor_read"]["ok_per_s"],
        "all_rounds": rounds if len(rounds) > 1 else None,
        "targets": {
            "reads": {
                "ratio_min": TARGET_READ_RATIO,
                "p99_ms_max": TARGET_READ_P99_MS,
                "ratio": ratio,
                "p99_ms": app_read["p99_ms"],
                "pass": reads_pass,
            },
            "creates": {
                "per_s_min": TARGET_CREATES_PER_S,
                "per_s": create["ok_per_s"],
                "pass": create["ok_per_s"] >= TARGET_CREATES_PER_S,
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    children = Children()

    def on_term(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    work_dir = Path(tempfile.mkdtemp(prefix="atelier-bench-"))
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
