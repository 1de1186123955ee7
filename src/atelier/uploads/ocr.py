"""OCR of images and scanned pages: RapidOCR (PP-OCRv6 detection and recognition, ONNX)
on onnxruntime, with the models that ship inside the rapidocr wheel.

One engine per process, made on first use: loading the three models takes about a
second and some 100 MB, so every upload of the process shares it. The engine never
reaches for the network: each model is named by its path inside the installed package
(with no path, rapidocr looks the model up in its catalogue and downloads it when the
file is missing or its checksum differs), the recognition model carries its own
character table (so no dictionary is fetched), and images are handed over as Pillow
images, never as strings (a string that looks like an address is downloaded).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rapidocr
from PIL import Image

MODELS_DIR = Path(rapidocr.__file__).resolve().parent / "models"
DET_MODEL = MODELS_DIR / "PP-OCRv6_det_small.onnx"
CLS_MODEL = MODELS_DIR / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
REC_MODEL = MODELS_DIR / "PP-OCRv6_rec_small.onnx"

DET_SIDE = 1024

_engine: Any = None
_engine_lock = threading.Lock()
# One recognition at a time: each already uses every core (intra-op threads), and two at
# once would only take turns on them while holding twice the memory.
_run_lock = threading.Lock()
_threads: int | None = None


class OcrUnavailable(RuntimeError):
    """The OCR models are not where the rapidocr wheel puts them."""


def use_threads(threads: int | None) -> None:
    """Intra-op threads of the engine made next (None: one per CPU). For benchmarks."""
    global _threads, _engine
    with _engine_lock:
        _threads = threads
        _engine = None


def engine() -> Any:
    """The process's engine, made on first use (thread-safe)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = _build_engine(_threads or os.cpu_count() or 1)
    return _engine


def _build_engine(threads: int) -> Any:
    from rapidocr import RapidOCR

    missing = [path.name for path in (DET_MODEL, CLS_MODEL, REC_MODEL) if not path.is_file()]
    if missing:
        # Better a clear error than rapidocr's fallback, a download.
        raise OcrUnavailable(f"the OCR models are missing from the rapidocr package: {missing}")
    params: dict[str, Any] = {
        "Global.log_level": "warning",
        # Word boxes: rapidocr places each word of a line from the recogniser's own
        # character positions (CTC columns), better than splitting a line by length.
        "Global.return_word_box": True,
        "Det.model_path": str(DET_MODEL),
        "Cls.model_path": str(CLS_MODEL),
        "Rec.model_path": str(REC_MODEL),
        # Each text line is recognised alone (batch of 1) at its own width (at least
        # 64 px). rapidocr pads every line of a batch to the widest and to at least
        # 320 px: on a screen of short labels and numbers, most of the work was padding.
        # Measured on a form screenshot (1 thread): 2.6 s of recognition down to 1.1 s,
        # the same text.
        "Rec.rec_batch_num": 1,
        "Rec.rec_img_shape": [3, 48, 64],
        # Detection on the image shrunk to DET_SIDE on its longest side (rapidocr's
        # default instead enlarges it to 736 on its shortest): a 1280 x 800 screenshot
        # is found in 0.4 s instead of 0.75 s, its 12 px text still read in full. Lines
        # are cut out of the full-size image, so recognition loses nothing.
        "Det.limit_type": "max",
        "Det.limit_side_len": DET_SIDE,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    engine = RapidOCR(params=params)
    _load_models_without_spinning(engine)
    return engine


def _load_models_without_spinning(engine: Any) -> None:
    """Loads the three models now (not on the first image), their onnxruntime sessions
    told not to spin.

    By default onnxruntime's idle threads spin, waiting for work: on a machine whose
    cores are busy with something else (the app, another job) the spinning threads take
    turns with the working ones, and a 1280 x 800 screenshot took 3.5 s instead of 1.7 s
    (2 threads, one core busy). rapidocr has no setting for it, so its session options
    are extended while the models load; if a later rapidocr changes those internals,
    the models load with its defaults, lazily as before.
    """
    try:
        from rapidocr.inference_engine.onnxruntime.main import OrtInferSession

        original = OrtInferSession._init_sess_opts
        loaders = (engine._load_det_model, engine._load_cls_model, engine._load_rec_model)
    except (ImportError, AttributeError):
        return

    def options(cfg: Any) -> Any:
        session_options = original(cfg)
        session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return session_options

    OrtInferSession._init_sess_opts = staticmethod(options)  # type: ignore[method-assign]
    try:
        for load in loaders:
            load()
    finally:
        OrtInferSession._init_sess_opts = staticmethod(original)  # type: ignore[method-assign]


@dataclass(slots=True)
class _Segment:
    """A detected text line (or a part of one), with its words."""

    left: float
    top: float
    right: float
    bottom: float
    words: list[dict[str, Any]]

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


def ocr_image(image: Image.Image) -> dict[str, Any]:
    """The words of the image with their boxes, in reading order, and the full text.

    ``{"fullText": "...", "words": [{"text", "confidence", "boundingBox": {"x", "y",
    "width", "height"}}]}``: the words of a line joined by spaces, lines by newlines.
    """
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    ocr = engine()
    segments: list[_Segment] = []
    for top, bottom, own_top, own_bottom in _tiles(rgb.width, rgb.height):
        tile = rgb if (top, bottom) == (0, rgb.height) else rgb.crop((0, top, rgb.width, bottom))
        with _run_lock:
            result = ocr(tile)
        for segment in _segments(result, tile.width, tile.height):
            segment.top += top
            segment.bottom += top
            for word in segment.words:
                word["boundingBox"]["y"] += top
            # A line in the overlap of two tiles is read twice: the tile whose own part
            # holds its middle keeps it (there it is whole, being shorter than the overlap).
            if own_top <= (segment.top + segment.bottom) / 2 < own_bottom:
                segments.append(segment)
    lines = _reading_order(segments)
    words = [word for line in lines for segment in line for word in segment.words]
    full_text = "\n".join(
        " ".join(word["text"] for segment in line for word in segment.words) for line in lines
    )
    return {"fullText": full_text, "words": words}


def _tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """(top, bottom, own top, own bottom) of each horizontal band the image is read in.

    Detection sees the image shrunk to DET_SIDE pixels on its longest side: a full-page
    screenshot (1280 x 6000) would lose its text to that, so a tall image is read in
    bands about as high as it is wide, overlapping by more than a line of text.
    """
    band = max(width, DET_SIDE)
    if height <= band * 1.6:
        return [(0, height, 0, height)]
    overlap = min(256, max(96, band // 8))
    step = band - overlap
    tiles = []
    top = 0
    while True:
        bottom = min(top + band, height)
        last = bottom == height
        own_top = 0 if top == 0 else top + overlap // 2
        own_bottom = height if last else bottom - overlap // 2
        tiles.append((top, bottom, own_top, own_bottom))
        if last:
            return tiles
        top += step


def _segments(result: Any, width: int, height: int) -> list[_Segment]:
    boxes = getattr(result, "boxes", None)
    texts = getattr(result, "txts", None)
    scores = getattr(result, "scores", None)
    if boxes is None or texts is None or scores is None or len(texts) == 0:
        return []
    word_results = getattr(result, "word_results", None) or ()
    # rapidocr drops the word list of a line it could not place, which shifts the lists
    # that follow; they are used only when there is one per line and each spells its line.
    aligned = len(word_results) == len(texts)
    segments = []
    for index, (box, text, score) in enumerate(zip(boxes, texts, scores, strict=True)):
        text = str(text).strip()
        if not text:
            continue
        left, top, right, bottom = _bounds(box, width, height)
        words = None
        if aligned:
            words = _engine_words(word_results[index], text, width, height)
        if words is None:
            words = _split_line(text, float(score), left, top, right, bottom)
        segments.append(_Segment(left, top, right, bottom, words))
    return segments


def _engine_words(
    line_words: Any, text: str, width: int, height: int
) -> list[dict[str, Any]] | None:
    """rapidocr's word boxes for a line, or None when they do not spell the line."""
    try:
        items = [(str(word), float(score), box) for word, score, box in line_words]
    except (TypeError, ValueError):
        return None
    if not items or "".join(word for word, _, _ in items) != text.replace(" ", ""):
        return None
    words = []
    for word, score, box in items:
        if box is None:
            return None
        left, top, right, bottom = _bounds(box, width, height)
        words.append(_word(word, score, left, top, right, bottom))
    return words


def _split_line(
    text: str, score: float, left: float, top: float, right: float, bottom: float
) -> list[dict[str, Any]]:
    """The fallback: a line's box cut between its words in proportion to their
    characters (spaces included), each word with the line's confidence."""
    span = right - left
    total = max(len(text), 1)
    words = []
    position = 0
    for part in text.split(" "):
        if part:
            start = left + span * position / total
            end = left + span * (position + len(part)) / total
            words.append(_word(part, score, start, top, end, bottom))
        position += len(part) + 1
    return words


def _word(
    text: str, score: float, left: float, top: float, right: float, bottom: float
) -> dict[str, Any]:
    x, y = round(left), round(top)
    return {
        "text": text,
        "confidence": round(min(max(score, 0.0), 1.0), 3),
        "boundingBox": {
            "x": x,
            "y": y,
            "width": max(round(right) - x, 1),
            "height": max(round(bottom) - y, 1),
        },
    }


def _bounds(box: Any, width: int, height: int) -> tuple[float, float, float, float]:
    """The upright rectangle around a quadrilateral, inside the image."""
    xs = [float(point[0]) for point in box]
    ys = [float(point[1]) for point in box]
    return (
        min(max(min(xs), 0.0), float(width - 1)),
        min(max(min(ys), 0.0), float(height - 1)),
        min(max(max(xs), 0.0), float(width)),
        min(max(max(ys), 0.0), float(height)),
    )


def _reading_order(segments: list[_Segment]) -> list[list[_Segment]]:
    """Segments grouped into lines (top to bottom), each line left to right.

    A segment joins the line it overlaps most vertically, if that overlap is at least
    half the smaller height: a label and the value box beside it, or the cells of a
    table row, are one line even when their boxes are a few pixels apart.
    """
    lines: list[list[_Segment]] = []
    for segment in sorted(segments, key=lambda s: (s.top + s.bottom, s.left)):
        best, best_overlap = None, 0.0
        for line in lines[-4:]:  # lines far above cannot be the same line
            top = sum(s.top for s in line) / len(line)
            bottom = sum(s.bottom for s in line) / len(line)
            overlap = min(bottom, segment.bottom) - max(top, segment.top)
            needed = 0.5 * min(segment.height, max(bottom - top, 1.0))
            if overlap >= needed and overlap > best_overlap:
                best, best_overlap = line, overlap
        if best is None:
            lines.append([segment])
        else:
            best.append(segment)
    for line in lines:
        line.sort(key=lambda s: s.left)
    lines.sort(key=lambda line: sum(s.top + s.bottom for s in line) / len(line))
    return lines
