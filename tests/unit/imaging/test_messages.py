"""One-line errors that say what the file is and why it failed, not "content is not JPEG, PNG...".

A file whose signature names a format but whose decoder refuses it is not
"not an image"; and running out of memory after the decode (resize, encode)
is the documented "Not enough memory" line, not an internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import formatgen, imagegen
from support.thumbs import files_under, opts

from thumbgen.errors import CorruptImage, SourceError, TooManyPixels, UnsupportedImage
from thumbgen.thumbnailing import make_thumbnails


def test_an_avif_over_max_pixels_is_refused_by_its_header(tmp_path: Path) -> None:
    src = formatgen.avif_claiming(tmp_path / "big.avif", (40000, 40000))
    with pytest.raises(TooManyPixels) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == (
        f"Too many pixels: {src} is 40000x40000 (1,600,000,000 pixels, limit 178,956,970); "
        "raise --max-pixels if you trust this file"
    )


def test_an_avif_too_large_for_its_decoder_says_so(tmp_path: Path) -> None:
    src = formatgen.avif_claiming(tmp_path / "big.avif", (40000, 40000))
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path, max_pixels=2_000_000_000))
    assert str(info.value) == (
        f"Unsupported image: {src} (unsupported: a 40000x40000 AVIF, larger than its decoder "
        "(libavif) accepts: at most 32768 pixels a side and 268,435,456 in all)"
    )


def test_a_damaged_avif_is_corrupt_not_unknown(tmp_path: Path) -> None:
    good = formatgen.avif_claiming(tmp_path / "ok.avif", (64, 64)).read_bytes()
    at = good.index(b"meta")
    src = tmp_path / "broken.avif"
    src.write_bytes(good[:at] + b"\0" * 64 + good[at + 64 :])
    with pytest.raises(CorruptImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    message = str(info.value)
    assert message.startswith(f"Corrupt image: {src} is an AVIF its decoder cannot read (")
    assert "content is not" not in message


@pytest.mark.parametrize(
    ("bits", "photometric", "layout"),
    [([32, 32, 32], 2, "floating-point 32-bit RGB"), ([16], 1, "floating-point 16-bit grey"),
     ([64], 1, "floating-point 64-bit grey")],
    ids=["rgb32", "half", "double"],
)  # fmt: skip
def test_a_float_tiff_pillow_cannot_open_is_unsupported(
    tmp_path: Path, bits: list[int], photometric: int, layout: str
) -> None:
    data = bytes(2 * sum(bits) // 8)
    src = formatgen.tiff(tmp_path / "f.tif", (2, 1), data, bits=bits, photometric=photometric,
                         sample_format=3)  # fmt: skip
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == f"Unsupported image: {src} (unsupported: {layout} TIFF)"


def test_a_damaged_jpeg_xl_says_so_without_its_decoders_advice(tmp_path: Path) -> None:
    good = formatgen.jxl(tmp_path / "ok.jxl", imagegen.asymmetric((64, 48))).read_bytes()
    src = tmp_path / "bad.jxl"
    src.write_bytes(good[:40] + bytes(len(good) - 40))
    with pytest.raises(CorruptImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    message = str(info.value)
    assert message.startswith(f"Corrupt image: {src} (")
    for advice in ("Please", "build", "stderr", "debug mode"):
        assert advice not in message


def test_a_damaged_header_of_a_known_format_is_corrupt(tmp_path: Path) -> None:
    src = tmp_path / "bad.png"
    src.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR" + bytes(37))  # IHDR checksum wrong
    with pytest.raises(CorruptImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == (
        f"Corrupt image: {src} is a PNG its decoder cannot read "
        "(broken PNG file (bad header checksum in b'IHDR'))"
    )


# --- memory ----------------------------------------------------------------------------


def _out_of_memory(*args: Any, **kwargs: Any) -> Any:
    raise MemoryError


@pytest.mark.parametrize("step", ["resize", "save"])
def test_memory_error_after_decoding_is_the_documented_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    # Resampling or encoding a huge but allowed source can fail to allocate;
    # that must read like a decode that ran out of memory, not an internal error.
    src = tmp_path / "a.png"
    imagegen.asymmetric((300, 200)).save(src)
    monkeypatch.setattr(Image.Image, step, _out_of_memory)
    with pytest.raises(TooManyPixels) as info:
        make_thumbnails(str(src), opts(tmp_path, ("128",), format="png"))
    assert str(info.value) == (
        f"Not enough memory to make the 128x128 thumbnail of {src}; run fewer workers (-w), "
        "ask for smaller sizes or lower --max-pixels to refuse such files"
    )
    assert isinstance(info.value, SourceError)
    assert files_under(tmp_path / "out") == []
