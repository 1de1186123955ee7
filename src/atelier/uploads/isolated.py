"""Text extraction in a child process of its own (``atelier.core.child_pool``).

PDF parsers, pdfium and onnxruntime are large C and Python libraries fed with files from
anyone: a file that crashes one of them, or makes it spin, must cost one upload, not the
server (on SQLite the job runner lives in the server process). Pure-Python parsing also
holds the GIL for seconds, which a thread of the server would take from its requests.

The child loads the OCR models once when it starts and keeps them for the next files.
It reports progress by rewriting a small file in the job's temporary folder, which the
parent reads every half second: nothing to set up between the two, and nothing left
over if either dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from atelier.core.child_pool import ChildProcess
from atelier.uploads.extract import Extracted, ExtractOptions, extract

POLL_SECONDS = 0.5
Progress = Callable[[float, str], Awaitable[None]]


def _load_models() -> None:
    from atelier.uploads import ocr

    ocr.engine()


def extract_to_file_progress(
    path: str, mime_type: str, options: ExtractOptions, progress_path: str
) -> Extracted:
    """Runs in the child: ``extract`` with its progress written to ``progress_path``."""

    def progress(fraction: float, stage: str) -> None:
        partial = f"{progress_path}.part"
        Path(partial).write_text(f"{fraction:.3f} {stage}")
        os.replace(partial, progress_path)

    return extract(Path(path), mime_type, options, progress)


# The function the child runs; tests put a crashing one in its place.
TARGET: Callable[[str, str, ExtractOptions, str], Extracted] = extract_to_file_progress

extractor = ChildProcess(timeout=600.0, warm_up=_load_models)


async def extract_isolated(
    path: Path, mime_type: str, options: ExtractOptions, *, limit_seconds: float, progress: Progress
) -> Extracted:
    """``extract`` in the child; raises ``ChildDied``/``ChildTimedOut`` when the child
    could not finish, and ``ExtractionFailed`` (and the parsers' own errors) as they are."""
    extractor.timeout = limit_seconds
    progress_path = path.parent / "progress"
    watcher = asyncio.create_task(_follow(progress_path, progress))
    try:
        return await extractor.run(TARGET, str(path), mime_type, options, str(progress_path))
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _follow(progress_path: Path, progress: Progress) -> None:
    seen = ""
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            text = await asyncio.to_thread(progress_path.read_text)
        except OSError:
            continue
        if text and text != seen:
            seen = text
            fraction, _, stage = text.partition(" ")
            with contextlib.suppress(ValueError):
                await progress(float(fraction), stage)
