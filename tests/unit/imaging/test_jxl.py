"""JPEG XL: files made with pillow-jxl-plugin's encoder; sizes read before the plugin decodes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from support import formatgen, imagegen
from support.thumbs import UPRIGHT, close, load, mean_difference, one, opts, rgb_at, sniff_file

from thumbgen.errors import TooManyPixels, UnsupportedImage
from thumbgen.imaging import jxl
from thumbgen.imaging.sniff import NotImage
from thumbgen.options import Format
from thumbgen.thumbnailing import make_thumbnails

pytest.importorskip("pillow_jxl")


def test_a_jpeg_xl_becomes_a_thumbnail_of_the_same_pixels(tmp_path: Path) -> None:
    picture = imagegen.asymmetric((120, 80))
    src = formatgen.jxl(tmp_path / "p.jxl", picture)
    assert sniff_file(str(src)) == "JXL"
    out = load(one(src, opts(tmp_path, ("120",), format="png")).path)
    assert out.size == (120, 80)
    assert mean_difference(out, picture) < 1


@pytest.mark.parametrize("size", [(120, 80), (64, 64), (1000, 37), (16, 16), (8, 2048), (33, 17)])
@pytest.mark.parametrize("container", [False, True])
def test_the_declared_size_is_read_from_the_header(
    tmp_path: Path, size: tuple[int, int], container: bool
) -> None:
    src = formatgen.jxl(
        tmp_path / "s.jxl", Image.new("RGB", size, (9, 9, 9)), use_container=container
    )
    with open(src, "rb") as f:
        assert jxl.header_size(f) == size


def _codestream_claiming(width: int, height: int) -> bytes:
    # SizeHeader, LSB first: small=0, height as U32 selector 3 (30 bits), ratio 0,
    # width likewise; then junk that no decoder should ever be asked to read.
    value, pos = 0, 0
    for bits, field in ((1, 0), (2, 3), (30, height - 1), (3, 0), (2, 3), (30, width - 1)):
        value |= field << pos
        pos += bits
    return b"\xff\x0a" + value.to_bytes((pos + 7) // 8, "little") + bytes(64)


def test_a_jpeg_xl_bomb_is_refused_before_the_plugin_decodes_it(tmp_path: Path) -> None:
    src = tmp_path / "bomb.jxl"
    src.write_bytes(_codestream_claiming(100_000, 100_000))
    with open(src, "rb") as f:
        assert jxl.header_size(f) == (100_000, 100_000)
    with pytest.raises(TooManyPixels, match=r"is 100000x100000 \(10,000,000,000 pixels"):
        make_thumbnails(str(src), opts(tmp_path))


def test_an_exif_orientation_inside_a_jpeg_xl_does_not_turn_it(tmp_path: Path) -> None:
    # The codestream's own orientation is normative; an Exif box is informative.
    exif = Image.Exif()
    exif[imagegen.ORIENTATION] = 6
    picture = imagegen.asymmetric((120, 80))
    src = formatgen.jxl(tmp_path / "p.jxl", picture, exif=exif.tobytes())
    with Image.open(src) as im:
        assert im.getexif().get(imagegen.ORIENTATION) == 6  # the box is there
    out = load(one(src, opts(tmp_path, ("120",), format="png")).path)
    assert out.size == (120, 80)
    assert imagegen.quadrants(out) == UPRIGHT


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_a_recompressed_jpeg_is_turned_by_its_exif(tmp_path: Path, orientation: int) -> None:
    jpeg = imagegen.save_with_orientation(
        imagegen.asymmetric((120, 80)), tmp_path / "p.jpg", orientation
    )
    src = formatgen.jxl_from_jpeg(tmp_path / "p.jxl", jpeg)
    out = load(one(src, opts(tmp_path, ("120",), format="png")).path)
    assert out.size == (120, 80)
    assert imagegen.quadrants(out) == UPRIGHT


def test_a_jpeg_xl_with_alpha_keeps_it(tmp_path: Path) -> None:
    picture = Image.new("RGBA", (64, 64), (255, 0, 255, 0))
    picture.paste((0, 0, 255, 255), (32, 0, 64, 64))
    src = formatgen.jxl(tmp_path / "a.jxl", picture)
    (thumb,) = make_thumbnails(str(src), opts(tmp_path, ("32",)))
    assert thumb.format is Format.PNG
    out = load(thumb.path)
    assert rgb_at(out, 0.1, 0.5)[3] == 0
    assert close(rgb_at(out, 0.9, 0.5), (0, 0, 255, 255), 2)


def test_without_the_plugin_a_jpeg_xl_is_skipped_naming_the_extra(
    tmp_path: Path, without_module: Callable[[str], None]
) -> None:
    src = formatgen.jxl(tmp_path / "p.jxl", imagegen.asymmetric((32, 24)))
    without_module("pillow_jxl")
    line = (
        "JPEG XL needs the jxl extra: from the thumbgen checkout, pipx install --force '.[jxl]', "
        "or pipx inject thumbgen-cli 'pillow-jxl-plugin>=1.3' (in a virtual environment: "
        "pip install '.[jxl]')"
    )
    with pytest.raises(NotImage, match=r"^JPEG XL needs the jxl extra"):
        sniff_file(str(src))
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == f"Cannot read {src}: {line}"


class _Bits:
    """LSB-first bit writer, as JPEG XL packs its headers."""

    def __init__(self) -> None:
        self.value, self.pos = 0, 0

    def bits(self, n: int, v: int) -> _Bits:
        assert 0 <= v < (1 << n) or n == 0 == v
        self.value |= v << self.pos
        self.pos += n
        return self

    def u32(self, selector: int, n: int, v: int) -> _Bits:
        return self.bits(2, selector).bits(n, v)

    def codestream(self) -> bytes:
        return b"\xff\x0a" + self.value.to_bytes((self.pos + 7) // 8, "little") + bytes(32)


def _metadata_with_every_optional_field() -> _Bits:
    w = _Bits()
    w.bits(1, 0).u32(0, 9, 79).bits(3, 0).u32(0, 9, 119)  # SizeHeader 120x80
    w.bits(1, 0).bits(1, 1).bits(3, 5)  # not all default; extra fields; orientation 6
    w.bits(1, 1).bits(1, 0).u32(0, 9, 79).bits(3, 1)  # intrinsic size, ratio 1:1
    w.bits(1, 1).bits(1, 0).u32(1, 8, 10).bits(3, 0).u32(0, 6, 5)  # preview 6x75
    w.bits(1, 1).u32(2, 10, 23).bits(2, 0).u32(1, 3, 2).bits(1, 1)  # animation
    w.bits(1, 1).bits(2, 1).bits(4, 4)  # 16-bit float samples, 5 exponent bits
    w.bits(1, 0)  # modular_16_bit_buffer_sufficient
    w.u32(2, 4, 2)  # four extra channels
    # A spot colour named "gold" (type 2), with its four half floats.
    w.bits(1, 0).u32(2, 4, 0).bits(1, 0).bits(2, 0).bits(2, 0).u32(1, 4, 4)
    for c in b"gold":
        w.bits(8, c)
    w.bits(64, 0x3C00_3C00_3800_0000)
    # A CFA channel (type 5), 1/8 the size, its channel index.
    w.bits(1, 0).u32(2, 4, 3).bits(1, 0).bits(2, 0).bits(2, 1).bits(2, 0).u32(2, 4, 0)
    # Black (type 4), 10 bits; then an all-default channel, which is alpha.
    w.bits(1, 0).u32(2, 4, 2).bits(1, 0).bits(2, 1).bits(2, 0).bits(2, 0)
    w.bits(1, 1)
    return w


def test_extra_channels_are_read_past_every_optional_header_field() -> None:
    data = _metadata_with_every_optional_field().codestream()
    assert jxl.extra_channels(io.BytesIO(data)) == (2, 5, 4, 0)
    assert jxl.header_size(io.BytesIO(data)) == (120, 80)
    # Cut inside the channel list: unreadable, never a guess.
    assert jxl.extra_channels(io.BytesIO(data[:20])) is None


@pytest.mark.parametrize(
    ("mode", "expected"), [("RGB", ()), ("RGBA", (0,)), ("L", ()), ("LA", (0,))]
)
@pytest.mark.parametrize("container", [False, True])
def test_extra_channels_of_files_the_plugin_writes(
    tmp_path: Path, mode: str, expected: tuple[int, ...], container: bool
) -> None:
    src = formatgen.jxl(tmp_path / "e.jxl", Image.new(mode, (33, 17)), use_container=container)
    with open(src, "rb") as f:
        assert jxl.extra_channels(f) == expected
        assert f.tell() == 0


def test_the_memory_budget_is_checked_from_the_header_without_decoding(tmp_path: Path) -> None:
    # The plugin decodes the whole picture while opening: the budget check used to
    # open it, spending the memory it guards (and decoding every JPEG XL twice).
    import tracemalloc

    from thumbgen.imaging import budget

    big = Image.linear_gradient("L").resize((3000, 3000)).convert("RGB")
    src = formatgen.jxl(tmp_path / "big.jxl", big)  # a few KB for 27 MB of samples
    options = opts(tmp_path)
    tracemalloc.start()
    try:
        with open(src, "rb") as f:
            budget.check(f, str(src), options, budget.MAX_MEMORY)
            assert f.tell() == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak:,} bytes traced: the picture was decoded"
    with open(src, "rb") as f, pytest.raises(TooManyPixels, match=r"big.jxl \(3000x3000\)"):
        budget.check(f, str(src), options, 64 << 20)
