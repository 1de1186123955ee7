"""Text extraction: every type the engine accepts round-trips, damaged files fail with a
reason in words, and the language guess."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from atelier.uploads import extract as extract_module
from atelier.uploads import sniff
from atelier.uploads.extract import Extracted, ExtractionFailed, ExtractOptions, extract
from atelier.uploads.language import guess_language
from tests.uploads.files import (
    bomb_png,
    character_accuracy,
    chromium_available,
    csv_bytes,
    docx_bytes,
    encrypted_pdf,
    rendered_form,
    scanned_pdf,
    text_pdf,
    text_png,
    xlsx_bytes,
)

PAGES = [
    "Quarterly report for the logistics team\nThe warehouse in Lyon shipped 4,210 parcels.",
    "Costs went up by 3.5 % because of fuel.\nWe expect them to fall in the next quarter.",
    "Appendix: café opening hours\nMonday to Friday, 8:00 to 17:30.",
]
SCANNED = [
    "Delivery note 5521. The pallets were received in good condition and counted twice.",
    "Signed by the warehouse manager on the second of May.",
]

EN = (
    "The committee has reviewed the proposal and it will be presented to the board at "
    "the next meeting, which is planned for the end of the month."
)
FR = (
    "Le comité a examiné la proposition et elle sera présentée au conseil lors de la "
    "prochaine réunion, qui est prévue pour la fin du mois."
)
DE = (
    "Der Ausschuss hat den Vorschlag geprüft und er wird dem Vorstand bei der nächsten "
    "Sitzung vorgelegt, die für das Ende des Monats geplant ist."
)
ES = (
    "El comité ha revisado la propuesta y será presentada a la junta en la próxima "
    "reunión, que está prevista para el final del mes."
)
IT = (
    "Il comitato ha esaminato la proposta che sarà presentata al consiglio nella "
    "prossima riunione, che è prevista per la fine del mese."
)
PT = (
    "O comitê analisou a proposta e ela será apresentada ao conselho na próxima "
    "reunião, que está prevista para o final do mês."
)
NL = (
    "De commissie heeft het voorstel bekeken en het wordt aan het bestuur voorgelegd "
    "tijdens de volgende vergadering, die voor het einde van de maand gepland is."
)


def _extract(
    tmp_path: Path,
    data: bytes,
    mime: str,
    options: ExtractOptions | None = None,
    progress: Any = None,
) -> Extracted:
    path = tmp_path / "original"
    path.write_bytes(data)
    return extract(path, mime, options or ExtractOptions(), progress)


def _fails(tmp_path: Path, data: bytes, mime: str) -> str:
    with pytest.raises(ExtractionFailed) as caught:
        _extract(tmp_path, data, mime)
    reason = caught.value.reason
    assert reason and reason[0].islower() and "Traceback" not in reason
    return reason


def _pages(extracted: Extracted) -> list[str]:
    starts = extracted.page_starts
    assert starts is not None
    ends = [start - 2 for start in starts[1:]] + [len(extracted.text)]
    return [extracted.text[start:end] for start, end in zip(starts, ends, strict=True)]


@pytest.fixture
def no_ocr(monkeypatch: pytest.MonkeyPatch) -> list[Image.Image]:
    """OCR replaced by a stub that records the pages it is given."""
    seen: list[Image.Image] = []

    def fake(image: Image.Image) -> dict[str, Any]:
        seen.append(image)
        return {"fullText": f"scanned page {len(seen)}", "words": []}

    monkeypatch.setattr(extract_module, "ocr_image", fake)
    return seen


# PDF


def test_text_pdf_pages_round_trip(tmp_path: Path, no_ocr: list[Image.Image]) -> None:
    calls: list[tuple[float, str]] = []
    extracted = _extract(
        tmp_path, text_pdf(PAGES), sniff.PDF, progress=lambda f, s: calls.append((f, s))
    )
    assert _pages(extracted) == PAGES
    assert extracted.text == "\n\n".join(PAGES)
    assert extracted.page_starts == [0, len(PAGES[0]) + 2, len(PAGES[0]) + len(PAGES[1]) + 4]
    meta = extracted.metadata
    assert (meta["pages"], meta["ocr_pages"]) == (3, 0)
    assert meta["characters"] == len(extracted.text)
    assert meta["words"] == len(extracted.text.split())
    assert meta["language"] == "en"
    assert calls == [(1 / 3, "pages"), (2 / 3, "pages"), (1.0, "pages")]
    assert not no_ocr and extracted.thumbnail_png is None


def test_scanned_pdf_is_read_by_ocr(tmp_path: Path) -> None:
    extracted = _extract(tmp_path, scanned_pdf(SCANNED), sniff.PDF)
    assert extracted.metadata["ocr_pages"] == 2
    assert extracted.metadata["pages"] == 2
    for read, original in zip(_pages(extracted), SCANNED, strict=True):
        assert character_accuracy(read, original) >= 0.95, read
    assert extracted.metadata["language"] == "en"


def test_only_pages_without_text_get_ocr_up_to_the_limit(
    tmp_path: Path, no_ocr: list[Image.Image]
) -> None:
    writer = PdfWriter()
    for data in (text_pdf(PAGES[:1]), scanned_pdf(SCANNED), text_pdf(PAGES[1:2])):
        writer.append(PdfReader(io.BytesIO(data)))
    buffer = io.BytesIO()
    writer.write(buffer)

    extracted = _extract(tmp_path, buffer.getvalue(), sniff.PDF, ExtractOptions(max_ocr_pages=1))
    assert _pages(extracted) == [PAGES[0], "scanned page 1", "", PAGES[1]]
    assert extracted.metadata["ocr_pages"] == 1
    assert extracted.metadata["ocr_pages_skipped"] == 1
    # Drawn at about 200 dpi (an A4 page is 8.3 x 11.7 inches).
    assert abs(no_ocr[0].width - 8.27 * 200) < 20 and no_ocr[0].mode == "RGB"


def test_a_stamped_page_number_over_a_scan_still_gets_ocr(
    tmp_path: Path, no_ocr: list[Image.Image]
) -> None:
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    scan = ImageReader(io.BytesIO(text_png(["Clause 4.2: the lease ends in June."])))
    pdf.drawImage(scan, 50, 400, 500, 100)
    pdf.drawString(50, 50, "Page 3")
    pdf.showPage()
    pdf.drawString(50, 50, "Page 4")  # short, but no image: nothing to read there
    pdf.showPage()
    pdf.save()
    extracted = _extract(tmp_path, buffer.getvalue(), sniff.PDF)
    assert _pages(extracted) == ["scanned page 1", "Page 4"]
    assert extracted.metadata["ocr_pages"] == 1


def test_encrypted_pdf_asks_for_a_copy_without_password(tmp_path: Path) -> None:
    reason = _fails(tmp_path, encrypted_pdf("Salaries 2025", "s3cret"), sniff.PDF)
    assert "password" in reason


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:400],
        lambda data: b"%PDF-1.7\n" + bytes(range(256)) * 8,
        lambda data: b"%PDF-1.4\n%%EOF\n",
    ],
    ids=["half", "head", "garbage", "empty"],
)
def test_damaged_pdf_fails_with_a_reason(tmp_path: Path, damage: Any) -> None:
    reason = _fails(tmp_path, damage(text_pdf(PAGES)), sniff.PDF)
    assert "PDF" in reason


# Word


def test_docx_paragraphs_and_table_in_document_order(tmp_path: Path) -> None:
    data = docx_bytes(
        [EN, "Line items follow."],
        [["Item", "Quantity", "Price"], ["Desk lamp", "18", "27.90"], ["Chair", "12", "189"]],
    )
    extracted = _extract(tmp_path, data, sniff.DOCX)
    assert extracted.text.split("\n") == [
        EN,
        "Line items follow.",
        "Item\tQuantity\tPrice",
        "Desk lamp\t18\t27.90",
        "Chair\t12\t189",
        "End of document.",
    ]
    assert extracted.page_starts is None
    assert extracted.metadata["tables"] == 1
    assert extracted.metadata["language"] == "en"


@pytest.mark.parametrize(
    "data",
    [
        docx_bytes(["A paragraph."], [])[:1500],
        b"PK\x03\x04" + b"\x00" * 200,
        b"",
    ],
    ids=["truncated", "broken-zip", "empty"],
)
def test_damaged_docx_fails_with_a_reason(tmp_path: Path, data: bytes) -> None:
    assert "Word document" in _fails(tmp_path, data, sniff.DOCX)


def test_docx_without_a_document_fails(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/other.xml", "<x/>")
    assert "Word document" in _fails(tmp_path, buffer.getvalue(), sniff.DOCX)


def test_a_zip_bomb_is_refused_before_unpacking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_module, "MAX_DOCX_UNPACKED", 10_000)
    reason = _fails(tmp_path, docx_bytes([EN * 50], []), sniff.DOCX)
    assert "unpacks to" in reason and "smaller files" in reason


# Excel


def test_xlsx_sheets(tmp_path: Path) -> None:
    data = xlsx_bytes(
        {
            "Sales": [
                ["Region", "Units", "Revenue", "Closed"],
                ["Nord", 120, 4500.5, date(2025, 3, 31)],
                ["Sud", 80, 3000.0, None],
                [None, None, None, None],
                ["Total", 200, 7500.5, datetime(2025, 4, 1, 9, 30)],
            ],
            "Notes": [["Prices include VAT"]],
            "Empty": [],
        }
    )
    extracted = _extract(tmp_path, data, sniff.XLSX)
    assert extracted.text == (
        "## Sales\n"
        "Region\tUnits\tRevenue\tClosed\n"
        "Nord\t120\t4500.5\t2025-03-31\n"
        "Sud\t80\t3000\n"
        "Total\t200\t7500.5\t2025-04-01T09:30:00\n"
        "\n"
        "## Notes\n"
        "Prices include VAT\n"
        "\n"
        "## Empty"
    )
    assert extracted.metadata["sheets"] == [
        {"name": "Sales", "rows": 5, "columns": 4},
        {"name": "Notes", "rows": 1, "columns": 1},
        {"name": "Empty", "rows": 0, "columns": 0},
    ]


def test_damaged_xlsx_fails_with_a_reason(tmp_path: Path) -> None:
    data = xlsx_bytes({"Sheet": [["a", 1]]})
    assert "workbook" in _fails(tmp_path, data[: len(data) // 2], sniff.XLSX)


# Text


FRENCH_ROWS = [
    ["Client", "Adresse", "Commentaire"],
    ["Société Générale", "12 rue de la Paix, Paris", "Livraison prévue la semaine prochaine"],
    ["Café du Marché", "3 place de l'Église, Lyon", "Réglé par chèque à réception"],
    ["Hôtel Bellevue", "45 avenue des Pyrénées, Pau", "Client fidèle depuis l'été dernier"],
    ["Crèmerie Dubois", "8 boulevard Saint-Michel, Paris", "Demande un devis détaillé"],
]


def test_csv_in_cp1252(tmp_path: Path) -> None:
    extracted = _extract(tmp_path, csv_bytes(FRENCH_ROWS, encoding="cp1252"), sniff.CSV)
    assert "Société Générale" in extracted.text
    assert "Réglé par chèque à réception" in extracted.text
    assert "\r" not in extracted.text
    meta = extracted.metadata
    assert meta["charset"] == "cp1252"
    assert (meta["rows"], meta["columns"], meta["delimiter"]) == (5, 3, ",")


def test_csv_with_semicolons_as_excel_saves_it_in_france(tmp_path: Path) -> None:
    data = csv_bytes(FRENCH_ROWS, encoding="utf-8", delimiter=";")
    meta = _extract(tmp_path, data, sniff.CSV).metadata
    assert (meta["rows"], meta["columns"], meta["delimiter"]) == (5, 3, ";")
    assert meta["charset"] == "utf-8"


def test_utf8_markdown(tmp_path: Path) -> None:
    text = f"# Compte rendu\n\n{FR}\n\n- Été 2025 : « naïve » café, 10 €\n"
    extracted = _extract(tmp_path, text.encode("utf-8"), sniff.MARKDOWN)
    assert extracted.text == text
    assert extracted.page_starts is None and extracted.thumbnail_png is None
    meta = extracted.metadata
    assert (meta["charset"], meta["language"]) == ("utf-8", "fr")
    assert meta["characters"] == len(text)
    assert meta["words"] == len(text.split())


def test_plain_text_line_endings_are_unified(tmp_path: Path) -> None:
    extracted = _extract(tmp_path, b"first line\r\nsecond line\rthird\n", sniff.TEXT)
    assert extracted.text == "first line\nsecond line\nthird\n"


# Images


@pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")
def test_png_of_a_form(tmp_path: Path) -> None:
    page = rendered_form()
    calls: list[tuple[float, str]] = []
    extracted = _extract(tmp_path, page.png, sniff.PNG, progress=lambda f, s: calls.append((f, s)))
    assert character_accuracy(extracted.text, page.text) >= 0.9, extracted.text
    meta = extracted.metadata
    assert (meta["width"], meta["height"]) == (1280, 800)
    assert meta["dominantColors"][:3] == ["#ffffff", "#f4f6f8", "#1d4ed8"]
    analysis = meta["analysisResult"]
    assert analysis["text"]["fullText"] == extracted.text
    assert analysis["objects"] == []
    assert analysis["metadata"] == {
        "width": 1280,
        "height": 800,
        "dominantColors": meta["dominantColors"],
    }
    word = analysis["text"]["words"][0]
    assert word["text"] == "Northwind"
    assert set(word) == {"text", "confidence", "boundingBox"}
    assert set(word["boundingBox"]) == {"x", "y", "width", "height"}
    assert extracted.thumbnail_png is not None
    with Image.open(io.BytesIO(extracted.thumbnail_png)) as thumbnail:
        assert thumbnail.size == (320, 200)
    assert calls[-1] == (1.0, "ocr")


def test_image_bomb_fails_before_decoding(tmp_path: Path, no_ocr: list[Image.Image]) -> None:
    reason = _fails(tmp_path, bomb_png(30_000, 30_000), sniff.PNG)
    assert "pixels" in reason and not no_ocr


def test_unknown_type_fails(tmp_path: Path) -> None:
    assert "application/zip" in _fails(tmp_path, b"PK\x03\x04", "application/zip")


# Language


@pytest.mark.parametrize(
    ("text", "language"),
    [(EN, "en"), (FR, "fr"), (DE, "de"), (ES, "es"), (IT, "it"), (PT, "pt"), (NL, "nl")],
)
def test_language_of_a_paragraph(text: str, language: str) -> None:
    assert guess_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Invoice 2025-117",
        "The report is ready.",
        "SKU-1 SKU-2 SKU-3 12.50 13.75 9.99 4.20 7.10 8.80 1.00 2.00 3.00 4.00",
        "def main(): return sorted(items, key=lambda item: item.price) if items else None",
    ],
)
def test_no_language_for_short_or_unclear_text(text: str) -> None:
    assert guess_language(text) is None
