"""Child processes of ours end when their parent dies (issue 13): a server killed with
SIGKILL must not leave its PDF renderer (some 110 MB) running for good."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from atelier.core.child_process import ORPHANED

ROOT = Path(__file__).resolve().parents[1]
# A bound for correctness, not a timing: the watchdog looks every half second.
GONE_WITHIN = 10.0
# Starting the renderer imports WeasyPrint: seconds, more on a loaded machine.
STARTED_WITHIN = 120.0

SERVER = """
import asyncio, os
from atelier.exports.pdf_process import PdfProcess

async def main():
    renderer = PdfProcess()
    print(await renderer.run(os.getpid), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs. An ended child nobody reaps stays a zombie (where PID 1
    is not an init that reaps orphans), and a zombie has ended."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel (a zombie then counts as alive)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (none found without /proc)."""
    found = set()
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.add(int(entry.parent.name))
    return found


def first_line(stream: IO[str], timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def test_the_pdf_renderer_exits_when_the_server_is_killed(tmp_path: Path) -> None:
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER], cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr,
            text=True,
        )  # fmt: skip
    children: set[int] = set()
    try:
        assert server.stdout is not None
        line = first_line(server.stdout, STARTED_WITHIN)
        assert line.strip().isdigit(), (line, errors.read_text()[-2000:])
        renderer = int(line)
        children = {renderer}
        assert renderer != server.pid and alive(renderer)
        # Multiprocessing's resource tracker too: it ends when the last of its users has.
        children |= children_of(server.pid)

        server.send_signal(signal.SIGKILL)
        server.wait(GONE_WITHIN)
        deadline = time.monotonic() + GONE_WITHIN
        while any(map(alive, children)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if alive(pid)], "outlived the server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    script = "import os, time\nfrom atelier.core.child_process import exit_with_parent\n" + code
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_a_child_whose_parent_is_already_gone_exits_at_once() -> None:
    # Its own pid is never its parent's: as if the parent had died while it started.
    done = _run("exit_with_parent(os.getpid())\nprint('lived on')")
    assert done.returncode == ORPHANED and "lived on" not in done.stdout


def test_a_child_whose_parent_lives_goes_on() -> None:
    done = _run("exit_with_parent(os.getppid(), interval=0.05)\ntime.sleep(0.5)\nprint('done')")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
