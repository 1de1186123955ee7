"""The PDF renderer process: renders away from the server process, and survives its own
death."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atelier.exports.pdf import PdfJob
from atelier.exports.pdf_process import PdfProcess, PdfRenderFailed
from tests.exports.test_pdf import needs_poppler, pages_of

pytestmark = pytest.mark.anyio

JOB = PdfJob(
    md="# Harbour Tide\n\n## Brief\n\nA tide table for small harbours.\n",
    title="Harbour Tide",
    subtitle="General pack",
    footer_left="Harbour Tide · 22 November 2026",
    date="22 November 2026",
    section_level=2,
)


@pytest.fixture
async def process() -> AsyncIterator[PdfProcess]:
    renderer = PdfProcess()
    try:
        yield renderer
    finally:
        renderer.shutdown()


@needs_poppler
async def test_it_renders_in_another_process(process: PdfProcess, tmp_path: Path) -> None:
    assert await process.run(os.getpid) != os.getpid()
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(await process.render(JOB))
    text = " ".join(" ".join(pages_of(pdf)).split())
    assert "Harbour Tide" in text and "A tide table for small harbours." in text


async def test_a_renderer_that_dies_fails_that_export_and_the_next_one_works(
    process: PdfProcess,
) -> None:
    first = await process.run(os.getpid)
    with pytest.raises(PdfRenderFailed) as failure:
        await process.run(os._exit, 3)
    assert failure.value.code == "pdf_render_failed" and failure.value.status_code == 503
    assert await process.run(os.getpid) not in (first, os.getpid())
    assert (await process.render(JOB)).startswith(b"%PDF-")


async def test_an_error_while_rendering_is_the_renderers_own(process: PdfProcess) -> None:
    with pytest.raises(ValueError):
        await process.run(int, "not a number")
    assert (await process.render(JOB)).startswith(b"%PDF-")  # and it goes on


async def test_a_render_that_takes_too_long_is_given_up_and_its_process_killed() -> None:
    # Generous while a process starts (WeasyPrint loads then), 1 s for the stuck call.
    process = PdfProcess(timeout=120)
    try:
        stuck = await process.run(os.getpid)
        process.timeout = 1
        with pytest.raises(PdfRenderFailed, match="longer than 1 s"):
            await process.run(time.sleep, 60)
        with pytest.raises(ProcessLookupError):
            for _ in range(100):  # killed: gone within moments
                os.kill(stuck, 0)
                await asyncio.sleep(0.05)
        process.timeout = 120
        assert (await process.render(JOB)).startswith(b"%PDF-")
    finally:
        process.shutdown()
