"""Images: size checks from the header alone (bombs never decoded), upright RGB decode,
thumbnails and dominant colours."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from atelier.uploads.images import (
    ImageRejected,
    check_image,
    dominant_colors,
    open_image,
    thumbnail_png,
)
from tests.uploads.files import bomb_png

MAX = 100_000_000


def _save(tmp_path: Path, image: Image.Image, name: str, **options: Any) -> Path:
    path = tmp_path / name
    image.save(path, **options)
    return path


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels fails the test."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_check_image_reads_the_size(tmp_path: Path) -> None:
    path = _save(tmp_path, Image.new("RGB", (640, 480), "#3366cc"), "a.png")
    assert check_image(path, max_pixels=MAX, min_side=None, max_side=None) == (640, 480)


@pytest.mark.usefixtures("no_decoding")
def test_a_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(30_000, 30_000))
    assert path.stat().st_size < 200
    for call in (
        lambda: check_image(path, max_pixels=MAX, min_side=None, max_side=None),
        lambda: open_image(path, max_pixels=MAX),
    ):
        with pytest.raises(ImageRejected) as caught:
            call()
        assert caught.value.code == "image_too_large"
        assert "100000000 pixels" in caught.value.message


@pytest.mark.usefixtures("no_decoding")
def test_pillows_own_limit_does_not_override_ours(tmp_path: Path) -> None:
    # 90 M pixels: over Pillow's default warning limit (89 M), under our 100 M.
    path = tmp_path / "big.png"
    path.write_bytes(bomb_png(9_500, 9_500))
    assert check_image(path, max_pixels=MAX, min_side=None, max_side=None) == (9_500, 9_500)
    with pytest.raises(ImageRejected) as caught:
        check_image(path, max_pixels=50_000_000, min_side=None, max_side=None)
    assert caught.value.code == "image_too_large"


def test_a_small_limit_applies(tmp_path: Path) -> None:
    path = _save(tmp_path, Image.new("RGB", (100, 100)), "a.png")
    with pytest.raises(ImageRejected) as caught:
        open_image(path, max_pixels=5_000)
    assert caught.value.code == "image_too_large"


@pytest.mark.parametrize(
    ("size", "min_side", "max_side"),
    [((100, 80), 200, 4000), ((5000, 300), 200, 4000), ((100, 80), 200, None)],
)
def test_sides_out_of_bounds(
    tmp_path: Path, size: tuple[int, int], min_side: int | None, max_side: int | None
) -> None:
    path = _save(tmp_path, Image.new("RGB", size), "a.png")
    with pytest.raises(ImageRejected) as caught:
        check_image(path, max_pixels=MAX, min_side=min_side, max_side=max_side)
    assert caught.value.code == "image_dimensions"
    message = caught.value.message
    assert f"{size[0]} x {size[1]}" in message  # the actual size
    assert str(min_side) in message  # and the allowed range
    if max_side is not None:
        assert str(max_side) in message


def test_sides_within_bounds(tmp_path: Path) -> None:
    path = _save(tmp_path, Image.new("RGB", (300, 200)), "a.png")
    assert check_image(path, max_pixels=MAX, min_side=200, max_side=300) == (300, 200)


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"nonsense" * 20)
    with pytest.raises(ImageRejected) as caught:
        check_image(path, max_pixels=MAX, min_side=None, max_side=None)
    assert caught.value.code == "image_unreadable"


def test_a_truncated_image_passes_the_header_check_but_not_the_decode(tmp_path: Path) -> None:
    noise = Image.effect_noise((400, 300), 64).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert check_image(path, max_pixels=MAX, min_side=None, max_side=None) == (400, 300)
    with pytest.raises(ImageRejected) as caught:
        open_image(path, max_pixels=MAX)
    assert caught.value.code == "image_unreadable"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored 200 x 100 (left half red), shown turned a quarter (orientation 6: rotate 90
    # clockwise): 100 x 200, red on top.
    image = Image.new("RGB", (200, 100), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(tmp_path, image, "photo.jpg", exif=exif.tobytes(), quality=95)
    assert check_image(path, max_pixels=MAX, min_side=None, max_side=None) == (100, 200)
    upright = open_image(path, max_pixels=MAX)
    assert (upright.mode, upright.size) == ("RGB", (100, 200))
    red, green, _ = upright.getpixel((50, 40))  # type: ignore[misc]
    assert red > 200 and green < 60


def test_transparency_becomes_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 25, 50))
    path = _save(tmp_path, image, "a.png")
    rgb = open_image(path, max_pixels=MAX)
    assert rgb.mode == "RGB"
    assert rgb.getpixel((40, 10)) == (255, 255, 255)
    assert rgb.getpixel((10, 10)) == (0, 0, 255)


def test_webp_and_palette_images(tmp_path: Path) -> None:
    path = _save(tmp_path, Image.new("RGB", (64, 48), "#336699"), "a.webp", lossless=True)
    assert open_image(path, max_pixels=MAX).getpixel((5, 5)) == (0x33, 0x66, 0x99)
    palette = Image.new("RGB", (64, 48), "#336699").convert("P")
    assert open_image(_save(tmp_path, palette, "p.png"), max_pixels=MAX).mode == "RGB"


def test_thumbnail_keeps_proportions() -> None:
    data = thumbnail_png(Image.new("RGB", (1280, 800), "white"))
    assert data.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(data)) as thumbnail:
        assert thumbnail.size == (320, 200)
    with Image.open(io.BytesIO(thumbnail_png(Image.new("RGB", (100, 60)), 320))) as small:
        assert small.size == (100, 60)  # never enlarged


def test_dominant_colors_most_frequent_first_and_deterministic() -> None:
    image = Image.new("RGB", (400, 300), (255, 255, 255))
    image.paste((0, 123, 255), (0, 0, 400, 100))  # a third blue
    image.paste((33, 37, 41), (0, 280, 400, 300))  # a dark strip
    colors = dominant_colors(image)
    assert colors[:3] == ["#ffffff", "#007bff", "#212529"]
    assert all(len(color) == 7 and color.startswith("#") for color in colors)
    assert dominant_colors(image) == colors
    assert dominant_colors(image, count=1) == ["#ffffff"]
