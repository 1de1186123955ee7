"""Uploads benchmark: text extraction of PDFs and OCR of a screenshot, against baselines.

One command: ``.venv/bin/python bench/uploads.py``. Options: ``--pages N`` (text PDF, 50),
``--scan-pages N`` (scanned PDF, 10), ``--runs N`` (5; the scanned PDF gets one run
after the warm-up, it is long enough to be steady), ``--threads N`` (onnxruntime's intra-op
threads; by default the engine's own: one per CPU), ``--output``; ``--quick`` (what CI
runs through bench/run_all.py): a 5-page PDF, a 2-page scan and one OCR run, figures to
bench/results/quick/uploads.json, to check that every row still runs.

Every file is made on the spot, as the tests make them (tests/uploads/files.py): nothing
is downloaded, and the OCR models are the ones inside the rapidocr wheel.

* ``pdf/text``: ``extract`` of an N-page PDF with a text layer (reportlab, a paragraph of
  business prose per page), target <= 1 s for 50 pages. Baseline: pypdf's own
  ``extract_text`` over the same pages, i.e. what reading the text layer costs; the ratio
  is what the extraction adds (page bookkeeping, scan detection, language, counts).
* ``pdf/scan``: ``extract`` of an N-page scan (page images only, no text layer): every
  page drawn by pdfium at 200 dpi and read by OCR; reported per page. Baseline: OCR of the
  same pages already drawn, so the ratio is what drawing and parsing add to OCR.
* ``ocr/form``: ``ocr_image`` of a 1280 x 800 screenshot of a business form drawn by
  Debian's chromium, the models loaded, target <= 1.5 s. Baseline: the same screenshot
  at half size (640 x 400), the least work the engine does on that page; the ratio is
  what the full resolution costs.
* accuracy: the OCR text of each screenshot against the text of the page's own DOM
  (``inner_text("body")``), whitespace normalised, 1 - edit distance / length, target
  >= 97 % at full size. The half-size figure shows how much resolution matters.

* ``upload``: a 1 MB and a 10 MB file (``--quick``: 2 MB) through ``POST /api/v1/uploads``
  of a real server process (``atelier serve``, SQLite, local storage, jobs off): seconds,
  MB/s, and the server's peak RSS above its idle RSS, target < 30 MB (the body is
  streamed to disk, never held). Baseline: copying the same file on the same disk.

The models are loaded before any timing; that time is reported apart ("model load").
Timings depend on the CPU and on what else runs on it (on a 2-core machine with a
benchmark busy on one core, every OCR figure is about twice its idle value); ratios are
steadier. A MISS is reported, not raised: the exit status is 0 either way, unless
something fails. Results go to bench/results/uploads.json with the machine's details.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.uploads.files: the files the tests make

import onnxruntime  # noqa: E402
import pypdfium2  # noqa: E402
from PIL import Image  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from tests.uploads.files import (  # noqa: E402
    character_accuracy,
    chromium_available,
    form_html,
    png_of_html,
    scanned_pdf,
    text_pdf,
)

from atelier.uploads import ocr, sniff  # noqa: E402
from atelier.uploads.extract import ExtractOptions, extract  # noqa: E402

TEXT_PDF_TARGET_MS = 1000.0  # for 50 pages
OCR_TARGET_MS = 1500.0
ACCURACY_TARGET = 0.97
UPLOAD_MEMORY_TARGET_MB = 30
SCAN_DPI = 200

PROSE = (
    "The regional office reviewed the supplier contracts signed during the quarter. "
    "Delivery times improved by four days on average, and two carriers were replaced "
    "after repeated delays. The finance team will publish the updated cost model before "
    "the board meeting, together with the forecast for the next two quarters."
)


def median_ms(func: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls, after one call that is not counted."""
    func()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def page_text(number: int, width: int = 80) -> str:
    """A page of prose broken into lines, as a report is laid out."""
    words = f"Page {number}. {PROSE} {PROSE}".split()
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def scan_text(number: int) -> str:
    return f"Page {number}. {PROSE}"


def rgb(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB")


def rendered_pages(pdf: Path) -> list[Image.Image]:
    """The scan's pages drawn as ``extract`` draws them (200 dpi)."""
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return [
            document[i].render(scale=SCAN_DPI / 72, grayscale=True).to_pil().convert("RGB")
            for i in range(len(document))
        ]
    finally:
        document.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI's check that it runs: small files, 1 run"
    )
    parser.add_argument("--pages", type=int, default=None, help="text PDF pages, 50 (quick 5)")
    parser.add_argument(
        "--scan-pages", type=int, default=None, help="scanned PDF pages, 10 (quick 2)"
    )
    parser.add_argument("--runs", type=int, default=None, help="5 (quick 1)")
    parser.add_argument("--threads", type=int, default=None, help="default: one per CPU")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    results_dir = REPO / "bench" / "results"
    args.pages = args.pages or (5 if args.quick else 50)
    args.scan_pages = args.scan_pages or (2 if args.quick else 10)
    args.runs = args.runs or (1 if args.quick else 5)
    if args.output is None:
        args.output = results_dir / ("quick/uploads.json" if args.quick else "uploads.json")
    if min(args.pages, args.scan_pages, args.runs) < 1:
        parser.error("--pages, --scan-pages and --runs must be >= 1")
    if not chromium_available():
        sys.exit("bench/uploads.py: Debian's chromium is needed (make system-deps installs it)")
    if args.quick:
        print("quick mode: sizes too small to read; this checks that the benchmark runs")
    ocr.use_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as folder:
        record = run(args, Path(folder))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    shown = args.output.resolve()
    print(f"\nresults: {shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench/uploads.py: the server exited with status {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit(f"bench/uploads.py: no answer from {url} in {seconds:.0f} s")


def write_random_text(path: Path, size: int) -> None:
    """Text (so that the sniffer accepts it) that does not compress into nothing."""
    rng = random.Random(size)
    words = [f"{rng.getrandbits(40):x}" for _ in range(4096)]
    with path.open("w") as handle:
        written = 0
        while written < size:
            line = " ".join(rng.choices(words, k=12)) + "\n"
            handle.write(line[: size - written])
            written += len(line[: size - written])


def rss_kb(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the peak since the last reset) of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    # Writing 5 resets VmHWM to the current RSS (Linux >= 4.0).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def upload_throughput(folder: Path, sizes_mb: tuple[int, ...]) -> dict[str, Any]:
    """Files of ``sizes_mb`` through ``POST /api/v1/uploads`` of a real server process
    (uvicorn, SQLite, local storage, jobs off so that processing does not blur the
    figure): seconds, MB/s, and the server's peak RSS above its idle RSS (VmHWM after a
    reset through /proc/<pid>/clear_refs). Baseline: copying the same file on the same disk."""
    import httpx

    port = free_port()
    data_dir = folder / "server"
    env = {
        **os.environ,
        "ATELIER_DATA_DIR": str(data_dir),
        "ATELIER_PORT": str(port),
        "ATELIER_RUN_JOBS_IN_PROCESS": "false",
        "ATELIER_UPLOAD_MAX_BYTES": str(max(sizes_mb) * 1024 * 1024 + 1),
        "ATELIER_LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "atelier.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*cli, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    rows: dict[str, Any] = {}
    try:
        wait_for(f"{base}/healthz", server)
        with httpx.Client(base_url=base, timeout=120) as http:
            r = http.post(
                "/api/v1/auth/signup",
                json={"email": "bench@example.com", "name": "Bench", "password": "x" * 16},
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            # One small upload first: imports and pools warm, as on a server in use.
            http.post("/api/v1/uploads", files={"file": ("w.txt", b"warm")}, headers=headers)
            for size in sizes_mb:
                path = folder / f"upload-{size}mb.bin"
                write_random_text(path, size * 1024 * 1024)
                start = time.perf_counter()
                shutil.copyfile(path, folder / "copy.bin")
                copy_s = time.perf_counter() - start
                idle = rss_kb(server.pid, "VmRSS")
                reset_peak(server.pid)
                with path.open("rb") as handle:
                    start = time.perf_counter()
                    r = http.post(
                        "/api/v1/uploads",
                        files={"file": (path.name, handle, "application/octet-stream")},
                        headers=headers,
                    )
                    seconds = time.perf_counter() - start
                r.raise_for_status()
                peak = rss_kb(server.pid, "VmHWM")
                rows[f"{size} MB"] = {
                    "seconds": round(seconds, 3),
                    "mb_per_s": round(size / seconds, 1),
                    "copy_mb_per_s": round(size / copy_s, 1),
                    "peak_above_idle_mb": round((peak - idle) / 1024, 1),
                }
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    options = ExtractOptions()
    threads = args.threads or os.cpu_count() or 1

    # The screenshot first: it needs chromium, and its OCR loads the models.
    page = png_of_html(form_html(), 1280, 800)
    full = rgb(page.png)
    half = full.resize((640, 400), Image.Resampling.LANCZOS)
    start = time.perf_counter()
    ocr.engine()  # the three models loaded, as on a worker's first image
    load_ms = (time.perf_counter() - start) * 1000
    first = ocr.ocr_image(full)
    ocr_ms = median_ms(lambda: ocr.ocr_image(full), args.runs)
    half_ms = median_ms(lambda: ocr.ocr_image(half), args.runs)
    accuracy = character_accuracy(first["fullText"], page.text)
    half_accuracy = character_accuracy(ocr.ocr_image(half)["fullText"], page.text)

    text_path = folder / "text.pdf"
    text_path.write_bytes(text_pdf([page_text(n) for n in range(1, args.pages + 1)]))
    text_ms = median_ms(lambda: extract(text_path, sniff.PDF, options), args.runs)
    pypdf_ms = median_ms(lambda: [p.extract_text() for p in PdfReader(text_path).pages], args.runs)
    text_target = TEXT_PDF_TARGET_MS * args.pages / 50

    scan_path = folder / "scan.pdf"
    scan_path.write_bytes(scanned_pdf([scan_text(n) for n in range(1, args.scan_pages + 1)]))
    start = time.perf_counter()
    scanned = extract(scan_path, sniff.PDF, options)
    scan_ms = (time.perf_counter() - start) * 1000
    assert scanned.metadata["ocr_pages"] == args.scan_pages, scanned.metadata
    images = rendered_pages(scan_path)
    start = time.perf_counter()
    for image in images:
        ocr.ocr_image(image)
    scan_ocr_ms = (time.perf_counter() - start) * 1000
    scan_accuracy = statistics.mean(
        character_accuracy(read, scan_text(n))
        for n, read in enumerate(scanned.text.split("\n\n"), start=1)
    )

    # Upload throughput: files through the HTTP API, the server's memory above idle.
    uploads = upload_throughput(folder, (2,) if args.quick else (1, 10))

    n = args.scan_pages
    rows = [
        ("pdf/text", text_ms, pypdf_ms, text_target, f"pypdf extract_text, {args.pages} pages"),
        ("pdf/scan", scan_ms / n, scan_ocr_ms / n, None, "OCR of the pages already drawn"),
        ("ocr/form", ocr_ms, half_ms, OCR_TARGET_MS, "the same screenshot at half size"),
    ]
    print(
        f"\ntext PDF: {args.pages} pages; scan: {n} pages at {SCAN_DPI} dpi; screenshot: "
        f"1280 x 800 ({len(first['words'])} words); onnxruntime {onnxruntime.__version__}, "
        f"{threads} intra-op thread(s), {os.cpu_count()} CPUs; model load {load_ms:.0f} ms"
    )
    print()
    header = ("stage", "median", "baseline", "ratio", "target", "result", "baseline is")
    print("{:<9} {:>11} {:>11} {:>6} {:>12}  {:<6}  {}".format(*header))
    timings: dict[str, Any] = {}
    for name, ms, base, target, what in rows:
        verdict = "-" if target is None else ("PASS" if ms <= target else "MISS")
        shown = "" if target is None else f"<= {target:g} ms"
        unit = "ms/p" if name == "pdf/scan" else "ms"
        print(
            f"{name:<9} {ms:>7.0f} {unit:<4}{base:>7.0f} {unit:<4}{ms / base:>6.2f} "
            f"{shown:>12}  {verdict:<6}  {what}"
        )
        timings[name] = {
            "median_ms": round(ms, 1),
            "baseline_ms": round(base, 1),
            "ratio": round(ms / base, 3),
            "target_ms": target,
            "pass": None if target is None else ms <= target,
            "baseline": what,
        }
    timings["pdf/scan"]["per"] = "page"

    print()
    print("{:<22} {:>9} {:>9}  {}".format("OCR accuracy", "measured", "target", "result"))
    accuracies = [
        ("form 1280 x 800", accuracy, ACCURACY_TARGET),
        ("form 640 x 400", half_accuracy, None),
        (f"scan, {SCAN_DPI} dpi (mean)", scan_accuracy, None),
    ]
    for name, value, target in accuracies:
        verdict = "-" if target is None else ("PASS" if value >= target else "MISS")
        shown = "" if target is None else f">= {target:.0%}"
        print(f"{name:<22} {value:>9.2%} {shown:>9}  {verdict}")
    print(f"\n(median of {args.runs} run(s) after a warm-up; the scan: one run, per page)")

    print()
    print(
        "{:<8} {:>9} {:>9} {:>12} {:>17}  {}".format(
            "upload", "seconds", "MB/s", "copy MB/s", "peak above idle", "result"
        )
    )
    for name, row in uploads.items():
        verdict = "PASS" if row["peak_above_idle_mb"] < UPLOAD_MEMORY_TARGET_MB else "MISS"
        print(
            f"{name:<8} {row['seconds']:>9.2f} {row['mb_per_s']:>9.1f} "
            f"{row['copy_mb_per_s']:>12.1f} {row['peak_above_idle_mb']:>14.1f} MB  {verdict}"
            f" (< {UPLOAD_MEMORY_TARGET_MB} MB)"
        )

    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "onnxruntime": onnxruntime.__version__,
            "rapidocr": metadata.version("rapidocr"),
            "intra_op_threads": threads,
        },
        "runs": args.runs,
        "model_load_ms": round(load_ms, 1),
        "timings": timings,
        "uploads": uploads,
        "accuracy": {
            "form_full": round(accuracy, 4),
            "form_half": round(half_accuracy, 4),
            "scan_mean": round(scan_accuracy, 4),
            "target": ACCURACY_TARGET,
            "pass": accuracy >= ACCURACY_TARGET,
        },
    }


if __name__ == "__main__":
    main()
