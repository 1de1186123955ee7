"""Work that runs in a child process of its own: CPU-heavy or crash-prone library code
(WeasyPrint for PDF exports, PDF parsers and OCR for uploads) kept away from the server.

One process per ``ChildProcess``, started on first use with "spawn" (a process running
an event loop and threads must not be forked), one call at a time. If it dies (killed,
out of memory, a crash in C code) or a call takes longer than ``timeout`` seconds, that
call fails with ``ChildDied`` or ``ChildTimedOut``, the process is killed, and the next
call starts a new one; the server itself never goes down with it. If the server dies,
even by SIGKILL, the child notices within a second and exits rather than live on
(``atelier.core.child_process``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from atelier.core.child_process import exit_with_parent

T = TypeVar("T")


class ChildFailed(Exception):
    """The child process could not finish the call."""


class ChildDied(ChildFailed):
    """The process ended mid-call (killed, out of memory, a crash in C code)."""


class ChildTimedOut(ChildFailed):
    """The call took longer than the timeout; its process was killed."""


def _start(parent_pid: int, warm_up: Callable[[], None] | None) -> None:
    """The child's start: tied to the server's life first (a server killed while the
    child loads its libraries must not leave it behind), then the slow imports."""
    exit_with_parent(parent_pid)
    if warm_up is not None:
        warm_up()


class ChildProcess:
    """A process started when first needed and replaced when it dies.

    ``warm_up`` (a module-level function: it is pickled by reference) runs once in each
    new process, e.g. to import a library whose import is most of a first call's time.
    """

    def __init__(self, *, timeout: float, warm_up: Callable[[], None] | None = None) -> None:
        self.timeout = timeout
        self.warm_up = warm_up
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start,
                    # This process's pid, taken now: the one that starts the worker.
                    initargs=(os.getpid(), self.warm_up),
                )
            return self._pool

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in the child process (both must pickle); the call's own
        exceptions come back as they are."""
        pool = self._executor()
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(pool.submit(func, *args)), self.timeout
            )
        except BrokenProcessPool:
            self._discard(pool)
            raise ChildDied("the process stopped before it finished") from None
        except TimeoutError:
            self._discard(pool, kill=True)
            raise ChildTimedOut(f"longer than {self.timeout:g} s") from None

    def _discard(self, pool: ProcessPoolExecutor, *, kill: bool = False) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        if kill:
            # The executor cannot stop a call that is running: its process has to go.
            # ``_processes`` is the executor's own record of them (CPython 3.8 and later).
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """Stop the process (at server shutdown); a later call starts a new one."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
