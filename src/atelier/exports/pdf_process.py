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
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from atelier.core.child_pool import ChildDied, ChildProcess, ChildTimedOut
from atelier.core.errors import AtelierError
from atelier.exports.pdf import PdfJob

T = TypeVar("T")

# How a PDF gets rendered: by the renderer process (the server), or in this one (the CLI).
Render = Callable[[PdfJob], Awaitable[bytes]]


class PdfRenderFailed(AtelierError):
    status_code = 503
    code = "pdf_render_failed"


def _import_weasyprint() -> None:
    # Most of a first render's time: done when the process starts, not on the first call.
    import weasyprint  # noqa: F401


def _render(job: PdfJob) -> bytes:
    return job.render()


class PdfProcess(ChildProcess):
    """The renderer process (``atelier.core.child_pool``), its failures as 503s."""

    def __init__(self, timeout: float = 600.0) -> None:
        super().__init__(timeout=timeout, warm_up=_import_weasyprint)

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        try:
            return await super().run(func, *args)
        except ChildDied:
            raise PdfRenderFailed(
                "the PDF renderer stopped before it finished (killed, or out of memory); try again"
            ) from None
        except ChildTimedOut:
            raise PdfRenderFailed(
                f"the PDF took longer than {self.timeout:g} s to render and was given up"
            ) from None

    async def render(self, job: PdfJob) -> bytes:
        return await self.run(_render, job)


renderer = PdfProcess()


async def in_this_process(job: PdfJob) -> bytes:
    """For the command line: one export and done, no server to keep responsive, so no
    second process to start."""
    return await asyncio.to_thread(job.render)
