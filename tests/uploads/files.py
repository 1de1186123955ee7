"""Files to upload, made on the spot: nothing is downloaded, every byte is known.

Each function returns the bytes of one file of a type the engine extracts: PDFs with and
without a text layer, an encrypted PDF, DOCX, XLSX, CSV, and screenshots of HTML pages
drawn by Debian's chromium, together with the text the page itself holds (the ground
truth OCR is measured against). The benchmark (bench/uploads.py) uses them too.
"""

from __future__ import annotations

import csv
import functools
import io
import shutil
import struct
import textwrap
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Scans: a page drawn at 150 dpi (A4), large type, as a flatbed scanner would give it.
SCAN_DPI = 150
SCAN_SIZE = (1240, 1754)
SCAN_FONT_SIZE = 30
SCAN_MARGIN = 110


def text_pdf(pages: list[str]) -> bytes:
    """A PDF with a text layer: one page per string, one line of text per line of it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    _, height = A4
    for page in pages:
        y = height - 72
        for line in page.split("\n"):
            pdf.setFont("Helvetica", 11)
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def scanned_pdf(pages: list[str]) -> bytes:
    """A PDF of page images only, no text layer: what a scanner or a phone produces."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=SCAN_FONT_SIZE)
    images = []
    for page in pages:
        image = Image.new("L", SCAN_SIZE, 255)
        draw = ImageDraw.Draw(image)
        y = SCAN_MARGIN
        for paragraph in page.split("\n"):
            for line in textwrap.wrap(paragraph, width=60) or [""]:
                draw.text((SCAN_MARGIN, y), line, fill=0, font=font)
                y += int(SCAN_FONT_SIZE * 1.6)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="PDF", save_all=True, append_images=images[1:], resolution=SCAN_DPI
    )
    return buffer.getvalue()


def text_png(
    lines: list[str], width: int = 900, height: int | None = None, font_size: int = 28
) -> bytes:
    """Dark lines of text on white, drawn by Pillow (its own font: no system font needed).
    With ``height`` larger than the text needs, the lines are spread down the image."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=font_size)
    spacing = int(font_size * 1.8)
    needed = 2 * spacing + spacing * len(lines)
    total = max(height or needed, needed)
    step = (total - 2 * spacing) // max(len(lines), 1)
    image = Image.new("RGB", (width, total), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((40, spacing + index * step), line, fill=(20, 20, 20), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG of a few dozen bytes whose header claims ``width`` x ``height`` pixels (a
    decompression bomb's header; its pixel data is a stub that would not even decode)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def encrypted_pdf(text: str, password: str) -> bytes:
    """A text PDF that opens only with ``password``."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(text_pdf([text]))))
    writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_bytes(paragraphs: list[str], table_rows: list[list[str]]) -> bytes:
    """A Word document: the paragraphs, a table, and one more paragraph after it."""
    from docx import Document

    document = Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table_rows:
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for row, values in zip(table.rows, table_rows, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    document.add_paragraph("End of document.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with one sheet per key, its rows as given."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(title=name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "cp1252", delimiter: str = ",") -> bytes:
    """A CSV file in ``encoding`` (Excel on Windows still saves cp1252)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A screenshot and the text the page shows, read from its DOM."""

    png: bytes
    text: str
    width: int
    height: int


def chromium_available() -> bool:
    return CHROMIUM.exists() or shutil.which("chromium") is not None


def png_of_html(html: str, width: int = 1280, height: int = 800) -> RenderedPage:
    """The page drawn by headless chromium at ``width`` x ``height`` (CSS px = pixels).

    In a thread of its own: Playwright's sync API refuses to run where an event loop is
    running, and the browser tests of this suite keep one in the main thread.
    """
    result: list[RenderedPage] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            result.append(_render(html, width, height))
        except BaseException as error:  # handed to the caller's thread
            errors.append(error)

    worker = threading.Thread(target=render, name="png-of-html")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return result[0]


def _render(html: str, width: int, height: int) -> RenderedPage:
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if CHROMIUM.exists() else Path(shutil.which("chromium") or CHROMIUM)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            page: Any = browser.new_page(
                viewport={"width": width, "height": height}, device_scale_factor=1
            )
            page.set_content(html, wait_until="load")
            text = page.inner_text("body")
            png = page.screenshot(full_page=False, type="png")
        finally:
            browser.close()
    return RenderedPage(png=png, text=text, width=width, height=height)


@functools.cache
def rendered_form() -> RenderedPage:
    """The form of ``form_html`` drawn at 1280 x 800, once per process (chromium takes
    seconds to start; the tests of several modules read the same picture)."""
    return png_of_html(form_html())


def form_html() -> str:
    """A filled-in purchase request as a business app shows it: header, labelled fields,
    line items, totals, buttons. No <input> elements: their values are not part of the
    DOM's text, and the test needs the page's text to hold everything the picture shows."""
    fields = [
        ("Requester", "Margaret Okafor"),
        ("Department", "Facilities and Operations"),
        ("Cost center", "CC-4471 Building Services"),
        ("Email", "m.okafor@northwind-example.com"),
        ("Request date", "March 14, 2025"),
        ("Needed by", "April 2, 2025"),
        ("Supplier", "Brightline Office Supply Ltd."),
    ]
    items = [
        ("Ergonomic office chair, mesh back", "12", "$189.00", "$2,268.00"),
        ("Adjustable standing desk frame", "6", "$342.50", "$2,055.00"),
        ("LED desk lamp with USB charging", "18", "$27.90", "$502.20"),
        ("Cable management tray, steel", "24", "$14.75", "$354.00"),
    ]
    field_rows = "\n".join(
        f'<div class="row"><label>{label}</label><div class="value">{value}</div></div>'
        for label, value in fields
    )
    item_rows = "\n".join(
        f"<tr><td>{name}</td><td>{qty}</td><td>{price}</td><td>{total}</td></tr>"
        for name, qty, price, total in items
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Purchase request</title>
<style>
  body {{ font-family: "DejaVu Sans", sans-serif; font-size: 15px; color: #1f2933;
         margin: 0; background: #f4f6f8; }}
  header {{ background: #1d4ed8; color: #ffffff; padding: 14px 32px; font-size: 20px;
           font-weight: bold; }}
  main {{ background: #ffffff; margin: 18px 32px; padding: 16px 28px;
         border: 1px solid #d9dee3; border-radius: 6px; }}
  h1 {{ font-size: 20px; margin: 0 0 12px 0; }}
  .row {{ display: flex; margin: 6px 0; }}
  label {{ width: 170px; color: #52606d; }}
  .value {{ border: 1px solid #cbd2d9; border-radius: 4px; padding: 3px 10px;
           min-width: 360px; }}
  table {{ border-collapse: collapse; margin-top: 14px; width: 900px; }}
  th, td {{ border-bottom: 1px solid #e4e7eb; text-align: left; padding: 5px 10px; }}
  th {{ color: #52606d; }}
  .total {{ margin-top: 12px; font-weight: bold; }}
  .actions {{ margin-top: 14px; }}
  button {{ font-size: 15px; padding: 6px 18px; margin-right: 12px; border-radius: 4px;
           border: 1px solid #1d4ed8; background: #ffffff; color: #1d4ed8; }}
  button.primary {{ background: #1d4ed8; color: #ffffff; }}
</style></head>
<body>
<header>Northwind Procurement Portal</header>
<main>
<h1>Purchase Request PR-2025-0318</h1>
{field_rows}
<table>
<tr><th>Item</th><th>Quantity</th><th>Unit price</th><th>Line total</th></tr>
{item_rows}
</table>
<div class="total">Order total: $5,179.20</div>
<div class="actions"><button class="primary">Submit for approval</button>
<button>Save draft</button></div>
</main>
</body></html>
"""


def character_accuracy(recognised: str, truth: str) -> float:
    """1 - (edit distance / length of the truth), on whitespace-normalised text: the
    share of the true characters OCR got right (1.0: every one; 0: none)."""
    got, want = " ".join(recognised.split()), " ".join(truth.split())
    if not want:
        return 1.0 if not got else 0.0
    previous = list(range(len(got) + 1))
    for i, expected in enumerate(want, start=1):
        current = [i]
        for j, found in enumerate(got, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (expected != found))
            )
        previous = current
    return max(0.0, 1.0 - previous[-1] / len(want))
