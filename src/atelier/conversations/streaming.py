"""A reply's text on its way to the job's events ("token" events), as it arrives.

The provider's ``on_text`` only appends to a buffer and wakes a writer task, so a
provider is never held up by the database. The writer sends the first delta at once
(the time to the first token is what a user feels) and then coalesces what arrives
within ``COALESCE_SECONDS`` into one event: a fast hosted model streams 50-100 deltas
a second, and one committed row per delta would slow it down.
"""

from __future__ import annotations

import asyncio
from typing import Any

from atelier.jobs.runner import JobControl

COALESCE_SECONDS = 0.05


class TokenStream:
    def __init__(
        self,
        control: JobControl,
        *,
        coalesce: float = COALESCE_SECONDS,
        after: asyncio.Future[None] | None = None,
    ) -> None:
        self.control = control
        self.coalesce = coalesce
        # An event still being written that must come first (the reply's "calling").
        self._after = after
        self.attempt = 1
        self.text: list[str] = []  # everything of the current attempt
        self._buffer: list[str] = []
        self._wake = asyncio.Event()
        # Held while a delta taken from the buffer is being written: closing and
        # draining wait for it, so no token event ever lands after the reply's own.
        self._lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    async def on_text(self, delta: str) -> None:
        if not delta:
            return
        self.text.append(delta)
        self._buffer.append(delta)
        self._wake.set()

    @property
    def so_far(self) -> str:
        return "".join(self.text)

    async def _ready(self) -> None:
        """Wait for the event that must come before any of ours (shielded: a writer
        cancelled while it waits does not cancel that write, and the next caller waits
        for it in turn)."""
        if self._after is not None and not self._after.done():
            await asyncio.shield(self._after)

    async def flush(self) -> None:
        """Write what is buffered now, without waiting for the coalescing pause: the
        provider has finished, nothing more is coming to coalesce with."""
        await self._ready()
        async with self._lock:
            if self._buffer:
                text, self._buffer = "".join(self._buffer), []
                await self.control.emit("token", {"text": text, "attempt": self.attempt})

    async def drain(self) -> None:
        """Wait until everything buffered so far is written."""
        while self._buffer and self._writer is not None and not self._writer.done():
            self._wake.set()
            await asyncio.sleep(self.coalesce / 5)
        # A write in flight holds the lock: taking it once waits for that write to end.
        await self._lock.acquire()
        self._lock.release()

    async def retry(self, data: dict[str, Any]) -> None:
        """An attempt failed: what it streamed is discarded (the event says so, after
        the last of its tokens), and the next attempt starts from nothing."""
        await self.drain()
        await self._ready()
        await self.control.emit(
            "attempt_failed", {**data, "attempt": self.attempt, "discard_text": True}
        )
        self.attempt += 1
        self.text = []

    async def close(self) -> str:
        """Stop the writer; returns what it had not written yet (the caller writes it in
        its own final transaction, so the reply and its last tokens commit together)."""
        writer = self._writer
        if writer is not None:
            async with self._lock:
                writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        await self._ready()
        rest, self._buffer = "".join(self._buffer), []
        return rest

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            async with self._lock:
                await self._ready()
                if not self._buffer:
                    continue
                text, self._buffer = "".join(self._buffer), []
                await self.control.emit("token", {"text": text, "attempt": self.attempt})
            await asyncio.sleep(self.coalesce)
