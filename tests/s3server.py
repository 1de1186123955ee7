"""A real S3-compatible server for the tests: moto's standalone server, in a subprocess.

A subprocess rather than moto's in-process mocks: obstore talks HTTP from Rust, which
moto's mocks (they patch botocore) cannot see. One server per test session, and so one
per pytest-xdist worker, each on a free port of its own. Tests isolate themselves by
creating their own bucket (`make_bucket`).
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

STARTUP_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_answering(endpoint: str, process: subprocess.Popen[bytes]) -> bool:
    """True once the server answers HTTP; False if it exited first (a port taken since
    `_free_port` let it go, say)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            httpx.get(endpoint, timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return True
    raise RuntimeError(f"moto's S3 server did not answer on {endpoint} within {STARTUP_SECONDS}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL ("http://127.0.0.1:<port>") of a running moto S3 server."""
    missing = [name for name in ("moto", "flask") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"moto[server] is not installed: no module {', '.join(missing)}")
    log_path = tmp_path_factory.mktemp("s3server") / "moto.log"
    for _attempt in range(3):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        # Output to a file, not a pipe nobody reads: a full pipe would block the server.
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            started = _wait_until_answering(endpoint, process)
        except BaseException:
            _stop(process)
            raise
        if started:
            break
    else:
        log_text = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"moto's S3 server would not start:\n{log_text}")
    try:
        yield endpoint
    finally:
        _stop(process)


def make_bucket(endpoint: str, name: str) -> None:
    """Create a bucket (moto takes an unsigned PUT, as S3 would from an allowed client)."""
    response = httpx.put(f"{endpoint}/{name}", timeout=10.0)
    response.raise_for_status()
