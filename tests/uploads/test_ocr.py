"""OCR: words with boxes in reading order, the models from the wheel, no network.

The engine is one per process (atelier.uploads.ocr), so these tests share it; the
offline test runs first and makes it with every socket blocked.
"""

from __future__ import annotations

import io
import itertools
import socket
from typing import Any

import pytest
from PIL import Image

from atelier.uploads import ocr
from tests.uploads.files import (
    character_accuracy,
    chromium_available,
    rendered_form,
    text_png,
)


def _image(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def _assert_boxes_inside(result: dict[str, Any], width: int, height: int) -> None:
    assert result["words"]
    for word in result["words"]:
        box = word["boundingBox"]
        assert word["text"] and " " not in word["text"]
        assert 0 <= word["confidence"] <= 1
        assert box["width"] > 0 and box["height"] > 0
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert box["y"] >= 0 and box["y"] + box["height"] <= height


def test_ocr_works_offline_with_the_packaged_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access during OCR")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    ocr.use_threads(None)  # a fresh engine: the models load with the sockets blocked
    result = ocr.ocr_image(_image(text_png(["Invoice 2025-117", "Total due: 1,240.00 EUR"])))
    assert result["fullText"] == "Invoice 2025-117\nTotal due: 1,240.00 EUR"
    assert [word["text"] for word in result["words"]] == [
        "Invoice", "2025-117", "Total", "due:", "1,240.00", "EUR",
    ]  # fmt: skip


@pytest.mark.skipif(not chromium_available(), reason="Debian's chromium is not installed")
def test_a_screenshot_of_a_form_reads_like_its_dom() -> None:
    page = rendered_form()
    result = ocr.ocr_image(_image(page.png))
    accuracy = character_accuracy(result["fullText"], page.text)
    assert accuracy >= 0.9, (accuracy, result["fullText"])
    _assert_boxes_inside(result, page.width, page.height)
    lines = result["fullText"].split("\n")
    # Reading order: the header first, a label and its value on one line, table rows
    # cell after cell, the buttons last.
    assert lines[0] == "Northwind Procurement Portal"
    assert "Requester Margaret Okafor" in lines
    assert any(line.startswith("Ergonomic office chair") and "$2,268.00" in line for line in lines)
    assert lines[-1] == "Submit for approval Save draft"
    words = [word["text"] for word in result["words"]]
    assert " ".join(words) == " ".join(result["fullText"].split())
    # Word boxes, not line boxes: "Margaret" ends before "Okafor" starts.
    boxes = {word["text"]: word["boundingBox"] for word in result["words"]}
    assert boxes["Margaret"]["x"] + boxes["Margaret"]["width"] <= boxes["Okafor"]["x"] + 2


def test_a_tall_image_is_read_in_bands_without_losing_or_doubling_lines() -> None:
    lines = [f"Section {n} heading text" for n in range(1, 9)]
    image = _image(text_png(lines, width=700, height=2600))
    assert ocr._tiles(image.width, image.height)[1:]  # more than one band
    result = ocr.ocr_image(image)
    assert result["fullText"].split("\n") == lines
    _assert_boxes_inside(result, image.width, image.height)
    tops = [word["boundingBox"]["y"] for word in result["words"] if word["text"] == "Section"]
    assert tops == sorted(tops) and tops[-1] > 2000


def test_an_empty_image_has_no_words() -> None:
    assert ocr.ocr_image(Image.new("RGB", (300, 200), "white")) == {"fullText": "", "words": []}


def test_bands_overlap_and_cover_the_image() -> None:
    assert ocr._tiles(1280, 800) == [(0, 800, 0, 800)]
    tiles = ocr._tiles(1280, 6000)
    assert tiles[0][0] == 0 and tiles[-1][1] == 6000
    for (_, bottom, _, own_bottom), (top, _, own_top, _) in itertools.pairwise(tiles):
        assert top < bottom  # overlapping
        assert own_bottom == own_top  # each point owned by exactly one band


def test_line_split_in_proportion_when_the_engine_gives_no_word_boxes() -> None:
    words = ocr._split_line("Total due", 0.87654, 100, 10, 190, 30)
    assert [w["text"] for w in words] == ["Total", "due"]
    assert words[0]["boundingBox"] == {"x": 100, "y": 10, "width": 50, "height": 20}
    assert words[1]["boundingBox"] == {"x": 160, "y": 10, "width": 30, "height": 20}
    assert words[0]["confidence"] == 0.877


def test_reading_order_groups_lines_by_vertical_overlap() -> None:
    def segment(text: str, left: float, top: float, bottom: float) -> ocr._Segment:
        return ocr._Segment(left, top, left + 10 * len(text), bottom, [{"text": text}])

    segments = [
        segment("value", 230, 122, 148),  # a few pixels lower than its label
        segment("second", 60, 160, 186),
        segment("label", 60, 118, 145),
        segment("cell", 500, 158, 190),
    ]
    lines = ocr._reading_order(segments)
    assert [[s.words[0]["text"] for s in line] for line in lines] == [
        ["label", "value"],
        ["second", "cell"],
    ]
