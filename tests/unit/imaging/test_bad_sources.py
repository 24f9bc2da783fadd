"""Refusing bad sources: too many pixels, damaged, not images, missing; always one line."""

from __future__ import annotations

import errno
import io
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import files_under, opts

from thumbgen.errors import (
    CorruptImage,
    NotAnImage,
    OutputError,
    SourceMissing,
    ThumbgenError,
    TooManyPixels,
    TransientError,
)
from thumbgen.options import Options
from thumbgen.storage.local import source_error
from thumbgen.thumbnailing import make_thumbnails


def test_huge_header_is_refused_without_decoding(tmp_path: Path) -> None:
    src = imagegen.huge_header_png(tmp_path / "bomb.png")
    started = time.monotonic()
    with pytest.raises(TooManyPixels) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert time.monotonic() - started < 1.0
    assert str(info.value) == (
        f"Too many pixels: {src} is 100000x100000 (10,000,000,000 pixels, limit 178,956,970); "
        "raise --max-pixels if you trust this file"
    )
    assert not info.value.transient
    assert files_under(tmp_path / "out") == []


def test_over_pillows_own_limit_gives_thumbgens_message(tmp_path: Path) -> None:
    # 200 MP is past Pillow's DecompressionBombError line; the user must see
    # thumbgen's one-line --max-pixels advice, not Pillow's exception.
    src = imagegen.huge_header_png(tmp_path / "big.png", 20_000, 10_000)
    with pytest.raises(TooManyPixels, match="raise --max-pixels"):
        make_thumbnails(str(src), opts(tmp_path))
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's global left as it was


@pytest.mark.parametrize(("limit", "refused"), [(4096, False), (4095, True)])
def test_max_pixels_boundary(tmp_path: Path, limit: int, refused: bool) -> None:
    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    options = opts(tmp_path, ("32",), max_pixels=limit)
    if refused:
        with pytest.raises(TooManyPixels):
            make_thumbnails(str(tmp_path / "a.png"), options)
    else:
        assert len(make_thumbnails(str(tmp_path / "a.png"), options)) == 1


def _corrupt_png(path: Path) -> Path:
    buf = io.BytesIO()
    Image.effect_noise((200, 200), 50).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    start = data.index(b"IDAT") + 40
    data[start : start + 200] = bytes(200)  # damaged compressed data (and a wrong CRC)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "make",
    [imagegen.truncated_jpeg, _corrupt_png],
    ids=["truncated-jpeg", "corrupt-png"],
)
def test_damaged_image_fails_cleanly_and_leaves_nothing(tmp_path: Path, make: Any) -> None:
    src = make(tmp_path / "damaged.img")
    with pytest.raises(CorruptImage) as info:
        make_thumbnails(str(src), opts(tmp_path, ("64", "128")))
    assert str(info.value).startswith(f"Corrupt image: {src} (")
    assert not info.value.transient
    assert files_under(tmp_path / "out") == []  # no thumbnail, no temporary file


def test_text_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    src = imagegen.text_as_jpg(tmp_path / "photo.jpg")
    with pytest.raises(NotAnImage, match=r"^Not an image thumbgen can read: .*photo\.jpg \("):
        make_thumbnails(str(src), opts(tmp_path))


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(SourceMissing, match=r"Source file not found: .*gone\.jpg"):
        make_thumbnails(str(tmp_path / "gone.jpg"), opts(tmp_path))


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _error_for(source: Path, options: Options) -> ThumbgenError:
    with pytest.raises(ThumbgenError) as info:
        make_thumbnails(str(source), options)
    return info.value


@pytest.mark.parametrize(
    "make",
    [
        lambda d: d / "missing.jpg",
        lambda d: _folder(d / "folder.jpg"),
        lambda d: _empty(d / "empty.jpg"),
        lambda d: imagegen.text_as_jpg(d / "text.jpg"),
        lambda d: imagegen.text_as_jpg(d / "new\nline.jpg"),
        lambda d: imagegen.truncated_jpeg(d / "cut.jpg", (400, 300)),
        lambda d: imagegen.huge_header_png(d / "bomb.png"),
        lambda d: imagegen.huge_header_png(d / "tab\there.png"),
    ],
    ids=["missing", "folder", "empty", "text", "newline-name", "truncated", "bomb", "tab-name"],
)
def test_every_error_is_one_line_naming_the_file(tmp_path: Path, make: Any) -> None:
    src = make(tmp_path)
    assert isinstance(src, Path)
    error = _error_for(src, opts(tmp_path))
    message = str(error)
    assert message.isprintable()  # one line: no newline, tab or other control character
    assert repr(str(src))[1:-1] in message
    assert not error.transient
    assert files_under(tmp_path / "out") == []


def test_read_errors_are_transient() -> None:
    exc = source_error("/mnt/nas/a.jpg", OSError(errno.EIO, "Input/output error"))
    assert isinstance(exc, TransientError)
    assert str(exc) == "Cannot read /mnt/nas/a.jpg: Input/output error"


@pytest.mark.usefixtures("temp_files")
def test_encoder_refusal_is_an_output_error_and_leaves_nothing(tmp_path: Path) -> None:
    # WebP cannot store more than 16383 pixels on a side: the encoder fails
    # after the temporary file was created, which must then be removed.
    Image.new("RGB", (4, 4)).save(tmp_path / "tiny.png")
    options = opts(tmp_path, ("16384x1",), fit="fill", upscale=True, format="webp")
    with pytest.raises(OutputError, match=r"^Cannot encode .*tiny_16384x1\.webp: .*16383"):
        make_thumbnails(str(tmp_path / "tiny.png"), options)
    assert files_under(tmp_path / "out") == []
