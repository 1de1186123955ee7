"""Text out of an uploaded file, whatever its type: the processing job's one call.

``extract(path, mime_type, options, progress)`` reads the file (already sniffed: the
MIME type comes from its bytes, see ``sniff``) and returns its text with metadata. A
file that cannot be read raises ``ExtractionFailed`` with a reason in words the user
can act on; the parsers' own exceptions never leave this module for a damaged file.
"""

from __future__ import annotations

import csv
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from PIL import Image

from atelier.uploads import sniff
from atelier.uploads.images import ImageRejected, dominant_colors, open_image, thumbnail_png
from atelier.uploads.language import guess_language
from atelier.uploads.ocr import ocr_image

Progress = Callable[[float, str], None]

# A page whose text layer has fewer visible characters than this and draws an image is a
# scan (perhaps with a stamped page number): it gets OCR. A page with no text at all gets
# OCR whatever it draws (text turned into outlines has no text layer either).
SCAN_TEXT_CHARS = 40
# Scans are drawn at 200 dpi for OCR, the longest side capped: a page the size of a
# poster would otherwise be a decompression bomb of its own making.
RENDER_DPI = 200
MAX_RENDER_SIDE = 2400
# Office files are zip archives: what they unpack to is capped before a parser unpacks
# it (a zip bomb). A Word document is parsed whole in memory, a workbook streamed.
MAX_DOCX_UNPACKED = 256 * 1024 * 1024
MAX_XLSX_UNPACKED = 1024 * 1024 * 1024
CSV_SNIFF_CHARS = 64 * 1024

# pdfium is not thread-safe, and uploads are processed on several threads at once.
_PDFIUM_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    max_ocr_pages: int = 50
    max_image_pixels: int = 100_000_000


@dataclass(slots=True)
class Extracted:
    text: str
    page_starts: list[int] | None  # character offset where each page starts (PDF), else None
    metadata: dict[str, Any]
    thumbnail_png: bytes | None = None


class ExtractionFailed(Exception):
    """The file cannot be read; ``reason`` is a sentence the user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def extract(
    path: Path,
    mime_type: str,
    options: ExtractOptions,
    progress: Progress | None = None,
) -> Extracted:
    """The text and metadata of the file at ``path``, of type ``mime_type``."""
    report: Progress = progress or _no_progress
    if mime_type == sniff.PDF:
        extracted = _pdf(path, options, report)
    elif mime_type == sniff.DOCX:
        extracted = _docx(path)
    elif mime_type == sniff.XLSX:
        extracted = _xlsx(path)
    elif mime_type in sniff.TEXT_TYPES:
        extracted = _text(path, mime_type)
    elif mime_type in sniff.IMAGE_TYPES:
        extracted = _image(path, options, report)
    else:
        raise ExtractionFailed(f"files of type {mime_type} cannot be read")
    text = extracted.text
    extracted.metadata.update(
        characters=len(text), words=len(text.split()), language=guess_language(text)
    )
    return extracted


def _no_progress(fraction: float, stage: str) -> None:
    return None


# PDF


def _pdf(path: Path, options: ExtractOptions, progress: Progress) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            # Encrypted with an empty user password (only the owner's), a PDF opens for
            # anyone; otherwise it takes a password we do not have.
            raise ExtractionFailed(_PASSWORD)
        count = len(reader.pages)
    except ExtractionFailed:
        raise
    except FileNotDecryptedError:
        raise ExtractionFailed(_PASSWORD) from None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise ExtractionFailed(_damaged("PDF", error)) from None
    if count == 0:
        raise ExtractionFailed("the PDF has no pages: it may be damaged or incomplete")

    texts: list[str] = []
    ocr_pages = skipped = 0
    renderer = _PageRenderer(path)
    try:
        for index in range(count):
            page = reader.pages[index]
            text = _page_text(page)
            if _needs_ocr(page, text):
                if ocr_pages < options.max_ocr_pages:
                    scanned = renderer.ocr(index)
                    ocr_pages += 1
                    if len(scanned.strip()) > len(text.strip()):
                        text = scanned
                else:
                    skipped += 1
            texts.append(text.strip())
            progress((index + 1) / count, "pages")
    finally:
        renderer.close()

    page_starts = []
    offset = 0
    for text in texts:
        page_starts.append(offset)
        offset += len(text) + 2  # the "\n\n" between pages
    metadata: dict[str, Any] = {"pages": count, "ocr_pages": ocr_pages}
    if skipped:
        metadata["ocr_pages_skipped"] = skipped
    return Extracted(text="\n\n".join(texts), page_starts=page_starts, metadata=metadata)


_PASSWORD = "the PDF is password-protected: upload a copy without the password"


def _page_text(page: Any) -> str:
    try:
        return str(page.extract_text())
    except Exception:
        # A broken content stream on one page: pdfium may still draw it, and OCR read it.
        return ""


def _needs_ocr(page: Any, text: str) -> bool:
    visible = sum(1 for character in text if not character.isspace())
    return visible == 0 or (visible < SCAN_TEXT_CHARS and _draws_image(page))


def _draws_image(page: Any) -> bool:
    """Whether the page's resources hold an image (directly or one form deep): read from
    the page's dictionaries only, nothing is decoded."""
    try:
        for xobject in _xobjects(page.get("/Resources")):
            subtype = xobject.get("/Subtype")
            if subtype == "/Image":
                return True
            if subtype == "/Form" and any(
                inner.get("/Subtype") == "/Image" for inner in _xobjects(xobject.get("/Resources"))
            ):
                return True
    except Exception:
        return True  # unreadable resources: let OCR have a look
    return False


def _xobjects(resources: Any) -> Iterator[Any]:
    if resources is None:
        return
    xobjects = resources.get_object().get("/XObject")
    if xobjects is None:
        return
    xobjects = xobjects.get_object()
    for name in xobjects:
        yield xobjects[name].get_object()


class _PageRenderer:
    """Pages drawn by pdfium for OCR; the document opened on the first scan only."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._document: Any = None

    def ocr(self, index: int) -> str:
        with _PDFIUM_LOCK:
            image = self._render(index)
        return str(ocr_image(image)["fullText"])

    def _render(self, index: int) -> Image.Image:
        import pypdfium2 as pdfium  # type: ignore[import-untyped]

        try:
            if self._document is None:
                self._document = pdfium.PdfDocument(str(self._path))
            page = self._document[index]
            try:
                width, height = page.get_size()  # points, 1/72 inch
                scale = min(RENDER_DPI / 72, MAX_RENDER_SIDE / max(width, height, 1.0))
                bitmap = page.render(scale=scale, grayscale=True)
                image: Image.Image = bitmap.to_pil().convert("RGB")
            finally:
                page.close()
        except pdfium.PdfiumError as error:
            raise ExtractionFailed(
                f"page {index + 1} of the PDF could not be drawn for OCR ({error}): "
                "it may be damaged"
            ) from None
        return image

    def close(self) -> None:
        if self._document is not None:
            with _PDFIUM_LOCK:
                self._document.close()
            self._document = None


# Word


def _docx(path: Path) -> Extracted:
    _check_unpacked(path, MAX_DOCX_UNPACKED, "Word document")
    try:
        from docx import Document
        from docx.table import Table

        document = Document(str(path))
        lines: list[str] = []
        tables = 0
        # Paragraphs and tables in the order they stand in the body.
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                tables += 1
                lines.extend(_table_lines(block))
            elif block.text.strip():
                lines.append(block.text)
    except Exception as error:
        if isinstance(error, MemoryError):
            raise
        raise ExtractionFailed(_damaged("Word document", error)) from None
    return Extracted(text="\n".join(lines), page_starts=None, metadata={"tables": tables})


def _table_lines(table: Any) -> list[str]:
    lines = []
    for row in table.rows:
        cells = []
        previous = None
        for cell in row.cells:
            # A cell merged across columns comes back once per column it spans.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append("\t".join(cells))
    return lines


# Excel


def _xlsx(path: Path) -> Extracted:
    _check_unpacked(path, MAX_XLSX_UNPACKED, "workbook")
    try:
        from openpyxl import load_workbook  # type: ignore[import-untyped]

        # An open file, not the path: given a path, openpyxl insists on an .xlsx name, and
        # the stored original has none.
        with path.open("rb") as handle:
            workbook = load_workbook(handle, read_only=True, data_only=True)
            try:
                blocks, sheets = [], []
                for sheet in workbook.worksheets:
                    block, shape = _sheet(sheet)
                    blocks.append(block)
                    sheets.append(shape)
            finally:
                workbook.close()
    except Exception as error:
        if isinstance(error, MemoryError):
            raise
        raise ExtractionFailed(_damaged("workbook", error)) from None
    return Extracted(text="\n\n".join(blocks), page_starts=None, metadata={"sheets": sheets})


def _sheet(sheet: Any) -> tuple[str, dict[str, Any]]:
    """ "## <name>" and the sheet's rows, tab-separated; its used rows and columns (up to
    the last row and the widest column that hold a value)."""
    rows: list[str] = []
    used_rows = columns = 0
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append("\t".join(cells))
            used_rows, columns = number, max(columns, len(cells))
    text = "\n".join([f"## {sheet.title}", *rows])
    return text, {"name": sheet.title, "rows": used_rows, "columns": columns}


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # Tabs and newlines inside a cell would break the row into cells or lines.
    return " ".join(str(value).split())


def _check_unpacked(path: Path, limit: int, what: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ExtractionFailed(_damaged(what, error)) from None
    if unpacked > limit:
        raise ExtractionFailed(
            f"the {what} unpacks to {unpacked // (1024 * 1024)} MB, more than the "
            f"{limit // (1024 * 1024)} MB that can be read: split it into smaller files"
        )


# Text


def _text(path: Path, mime_type: str) -> Extracted:
    text, charset = sniff.decode_text(path.read_bytes())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    metadata: dict[str, Any] = {"charset": charset}
    if mime_type == sniff.CSV:
        metadata.update(_csv_shape(text))
    return Extracted(text=text, page_starts=None, metadata=metadata)


def _csv_shape(text: str) -> dict[str, Any]:
    sample = text[:CSV_SNIFF_CHARS]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","  # one column, or too irregular to tell: the standard's
    rows = columns = 0
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if any(field.strip() for field in row):
                rows += 1
                columns = max(columns, len(row))
    except csv.Error:
        # A field past the csv module's size limit, or a stray NUL: lines, not fields.
        return {
            "rows": sum(1 for line in text.splitlines() if line.strip()),
            "columns": None,
            "delimiter": delimiter,
        }
    return {"rows": rows, "columns": columns, "delimiter": delimiter}


# Images


def _image(path: Path, options: ExtractOptions, progress: Progress) -> Extracted:
    try:
        image = open_image(path, max_pixels=options.max_image_pixels)
    except ImageRejected as rejected:
        raise ExtractionFailed(rejected.message) from None
    progress(0.1, "ocr")
    text = ocr_image(image)
    progress(0.9, "ocr")
    colors = dominant_colors(image)
    thumbnail = thumbnail_png(image)
    width, height = image.size
    details = {"width": width, "height": height, "dominantColors": colors}
    metadata: dict[str, Any] = {
        **details,
        "analysisResult": {"text": text, "objects": [], "metadata": dict(details)},
    }
    progress(1.0, "ocr")
    return Extracted(
        text=text["fullText"], page_starts=None, metadata=metadata, thumbnail_png=thumbnail
    )


def _damaged(what: str, error: BaseException) -> str:
    detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    reason = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    return f"the {what} could not be read ({reason}): it may be damaged or incomplete"
