"""PDF rendering in a child process of its own.

WeasyPrint spends seconds of pure-Python CPU time on a document. On a thread of the
server process it shared the GIL with the event loop, and a server busy answering
requests starved it: a 20-artifact project export that takes 3.7 s took 36 s while eight
clients kept reading (``bench/export_under_load.py``). In a process of its own it took
4.0 s under the same reads, on the other core, and the reads were not slowed by it.

One process, started on first use with "spawn" (a process running an event loop and
threads must not be forked), renders one document at a time, as the thread did. If it
dies (killed, out of memory) or takes longer than ``timeout`` seconds (a layout that never
ends would otherwise hold up every later export), that export fails with a clear error,
the process is killed, and the next export starts a new one. If the server itself dies,
even by SIGKILL, the process notices within a second and exits rather than live on
(``atelier.core.child_process``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from atelier.core.child_process import exit_with_parent
from atelier.core.errors import AtelierError
from atelier.exports.pdf import PdfJob

T = TypeVar("T")

# How a PDF gets rendered: by the renderer process (the server), or in this one (the CLI).
Render = Callable[[PdfJob], Awaitable[bytes]]


class PdfRenderFailed(AtelierError):
    status_code = 503
    code = "pdf_render_failed"


def _start(parent_pid: int) -> None:
    """The renderer's start: tied to the server's life first (a server killed while
    WeasyPrint loads must not leave it behind), then WeasyPrint imported, which is most
    of a first render's time."""
    exit_with_parent(parent_pid)
    import weasyprint  # noqa: F401


def _render(job: PdfJob) -> bytes:
    return job.render()


class PdfProcess:
    """The renderer process, started when first needed and replaced when it dies."""

    def __init__(self, timeout: float = 600.0) -> None:
        self.timeout = timeout
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
                    initargs=(os.getpid(),),
                )
            return self._pool

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in the renderer process (both must pickle)."""
        pool = self._executor()
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(pool.submit(func, *args)), self.timeout
            )
        except BrokenProcessPool:
            self._discard(pool)
            raise PdfRenderFailed(
                "the PDF renderer stopped before it finished (killed, or out of memory); try again"
            ) from None
        except TimeoutError:
            self._discard(pool, kill=True)
            raise PdfRenderFailed(
                f"the PDF took longer than {self.timeout:g} s to render and was given up"
            ) from None

    async def render(self, job: PdfJob) -> bytes:
        return await self.run(_render, job)

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
        """Stop the process (at server shutdown); a later render starts a new one."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


renderer = PdfProcess()


async def in_this_process(job: PdfJob) -> bytes:
    """For the command line: one export and done, no server to keep responsive, so no
    second process to start."""
    return await asyncio.to_thread(job.render)
