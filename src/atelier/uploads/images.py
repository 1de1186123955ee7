"""Images in: size checks from the header alone, a safe full decode, thumbnail, colours.

A PNG of a few kilobytes can claim 30000 x 30000 pixels and take gigabytes once
decoded (a decompression bomb), so every size decision is taken on the header, before
any pixel is decoded. Only the formats uploads accept are parsed: Pillow's other
plugins (and their bugs) stay out of reach of user files.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "WEBP")
# EXIF orientations that turn the picture a quarter: width and height swap when applied.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION = 0x0112
# Errors Pillow's decoders raise on damaged or lying files.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)
# Colours nearer than this (Euclidean, 0-255 channels) are one colour to a person.
_SAME_COLOR = 12.0


class ImageRejected(Exception):
    """An image the engine refuses, with a stable ``code`` and a ``message`` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_image(
    path: Path, *, max_pixels: int, min_side: int | None, max_side: int | None
) -> tuple[int, int]:
    """(width, height) as displayed (EXIF orientation applied), from the header only."""
    with _open(path, max_pixels=max_pixels) as image:
        width, height = _oriented_size(image)
    if (min_side is not None and min(width, height) < min_side) or (
        max_side is not None and max(width, height) > max_side
    ):
        raise ImageRejected(
            "image_dimensions", _dimensions_message(width, height, min_side, max_side)
        )
    return width, height


def open_image(path: Path, *, max_pixels: int) -> Image.Image:
    """The whole image, decoded, turned upright by its EXIF orientation, in RGB."""
    with _open(path, max_pixels=max_pixels) as image:
        try:
            _load_whole(image)
            upright = ImageOps.exif_transpose(image)
            return _to_rgb(upright)
        except _DECODE_ERRORS as error:
            raise ImageRejected(
                "image_unreadable", f"the image could not be decoded: it may be damaged ({error})"
            ) from None


def _load_whole(image: Image.Image) -> None:
    """Decode every pixel, refusing a file cut short. Pillow's process-wide
    ``LOAD_TRUNCATED_IMAGES`` (which another library in the process may have turned on)
    would fill the missing part with grey and call the image whole; it is off while
    this decodes (no await in between: nothing else in this thread runs meanwhile)."""
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def thumbnail_png(image: Image.Image, max_side: int = 320) -> bytes:
    """A PNG no larger than ``max_side`` on its longest side, proportions kept."""
    small = image.copy()
    small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def dominant_colors(image: Image.Image, count: int = 5) -> list[str]:
    """Up to ``count`` colours as "#rrggbb", the most frequent first.

    A copy of at most 128 px a side, sampled (nearest pixel, so that no blend of two
    colours appears that the image does not have), cut into 16 colours by median cut
    (no random start, as k-means has: the same image always gives the same colours);
    colours closer than a few steps (anti-aliasing, JPEG noise) count as one, named by
    the most frequent. Ties go to the lower colour value: the order is deterministic too.
    """
    small = image.convert("RGB")
    small.thumbnail((128, 128), Image.Resampling.NEAREST, reducing_gap=None)
    quantized = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT, kmeans=0)
    palette = quantized.getpalette() or []
    counted: list[tuple[int, tuple[int, int, int]]] = []
    for frequency, index in quantized.getcolors(maxcolors=256) or []:
        assert isinstance(index, int)  # a "P" image's colours are palette indexes
        red, green, blue = palette[index * 3 : index * 3 + 3]
        counted.append((frequency, (red, green, blue)))
    counted.sort(key=lambda item: (-item[0], item[1]))
    merged: list[list[Any]] = []  # [frequency, colour], the colour of the first seen
    for frequency, color in counted:
        for group in merged:
            if _distance(group[1], color) <= _SAME_COLOR:
                group[0] += frequency
                break
        else:
            merged.append([frequency, color])
    merged.sort(key=lambda group: (-group[0], group[1]))
    return ["#{:02x}{:02x}{:02x}".format(*color) for _, color in merged[:count]]


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def _open(path: Path, *, max_pixels: int) -> Image.Image:
    """Opens (header only) and refuses a bomb before anything is decoded."""
    # Pillow refuses outright above twice its process-wide limit; raise that limit up to
    # ours (never lower it: other code in the process may rely on it) so that our own,
    # configurable check below is the one that decides and names the error.
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and limit < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow warns between its limit and twice it; the check below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=FORMATS)
    except Image.DecompressionBombError:
        raise _too_large(None, max_pixels) from None
    except _DECODE_ERRORS as error:
        raise ImageRejected(
            "image_unreadable", f"the file is not a readable PNG, JPEG or WebP image ({error})"
        ) from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_large((width, height), max_pixels)
    if width < 1 or height < 1:
        image.close()
        raise ImageRejected("image_unreadable", "the image has no pixels")
    return image


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    # The EXIF block as the header parse found it (JPEG APP1, WebP and PNG chunks before
    # the pixels); ``getexif()`` would decode a PNG's pixels to look for one after them.
    raw = image.info.get("exif")
    if not isinstance(raw, bytes):
        return width, height
    try:
        exif = Image.Exif()
        exif.load(raw)
        orientation = exif.get(_EXIF_ORIENTATION)
    except _DECODE_ERRORS:
        # A damaged EXIF block: the picture is shown as stored.
        return width, height
    if orientation in _QUARTER_TURNS:
        return height, width
    return width, height


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if "A" in image.getbands() or "transparency" in image.info:
        # Transparent areas over white, as a browser shows them: converted straight to
        # RGB they would turn black (the colour stored under the transparency), and dark
        # text on them unreadable.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> ImageRejected:
    actual = f" ({size[0]} x {size[1]} = {size[0] * size[1]} pixels)" if size else ""
    return ImageRejected("image_too_large", f"the image is larger than {max_pixels} pixels{actual}")


def _dimensions_message(width: int, height: int, min_side: int | None, max_side: int | None) -> str:
    if min_side is not None and max_side is not None:
        allowed = f"each side between {min_side} and {max_side} pixels"
    elif min_side is not None:
        allowed = f"each side at least {min_side} pixels"
    else:
        allowed = f"each side at most {max_side} pixels"
    return f"the image is {width} x {height} pixels; allowed: {allowed}"
