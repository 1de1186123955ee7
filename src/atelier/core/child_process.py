"""Child processes that do not outlive the process that started them.

A worker started with multiprocessing's "spawn" (the PDF renderer) is an ordinary child
process: when the server is killed with SIGKILL, nothing runs in it to stop its children,
and the child is re-parented (to PID 1 or a subreaper) and lives on, idle and holding its
memory, for good.

``exit_with_parent`` is called first thing in such a child. It checks at once whether
the parent is still its parent (it may have died while the child was starting), then
leaves a daemon thread that checks again every ``POLL_SECONDS`` and ends the child with
``os._exit`` when it is not. The check is ``os.getppid() != parent_pid``: the parent pid
of an orphan changes to its new parent's and never changes back, so one mismatch is
final. It costs one wake-up every half second in a process that is otherwise idle, and
works on every POSIX system. A child busy in C code that holds the GIL exits when that
call returns.

Linux's ``prctl(PR_SET_PDEATHSIG)`` is not used, not even as an extra layer: it fires
when the *thread* that started the child exits, not the process, and
ProcessPoolExecutor starts its worker from whichever thread calls ``submit`` (an
``asyncio.to_thread`` worker, for instance, retired when idle), so a healthy renderer
would be killed mid-render by an ordinary thread ending.

Call it with the pid of the process that starts the child directly: with the
"forkserver" method that is the fork server, not the server (the child would exit at
once). On Windows ``os.getppid`` keeps the dead parent's pid, so there it never fires.
"""

from __future__ import annotations

import os
import threading
import time

POLL_SECONDS = 0.5
# The exit status of a child that ended because its parent had gone (nobody is left to
# read it; it shows in a supervisor's log of the reaped process).
ORPHANED = 75


def exit_with_parent(parent_pid: int, *, interval: float = POLL_SECONDS) -> None:
    """End this process soon after ``parent_pid``, its parent, has gone; at once if it
    already has."""
    if os.getppid() != parent_pid:
        os._exit(ORPHANED)
    threading.Thread(
        target=_watch, args=(parent_pid, interval), name="exit-with-parent", daemon=True
    ).start()


def _watch(parent_pid: int, interval: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval)
    # os._exit, not sys.exit: this is not the main thread, and there is nobody left to
    # flush output or run clean-up for.
    os._exit(ORPHANED)
