"""Web formats against the browser: thumbgen's pixels match what Debian's chromium decodes.

For GIF, PNG and BMP files that real software writes and that thumbgen once
got wrong, the expected picture is chromium's own decode of the same file
(:mod:`support.browser`), read back from a canvas at the file's own size;
thumbgen makes a PNG thumbnail of that same size. Transparency must agree
exactly; colours within a level or two (chromium premultiplies).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support import formatgen
from support.browser import Reference, chromium
from support.thumbs import load, one, opts


@pytest.fixture(scope="module")
def reference() -> Iterator[Reference]:
    with chromium() as ref:
        yield ref


def thumbgen_rgba(src: Path, tmp_path: Path, size: tuple[int, int]) -> Image.Image:
    """thumbgen's PNG thumbnail of ``src`` at ``size``, as RGBA."""
    out = load(one(src, opts(tmp_path, (f"{size[0]}x{size[1]}",), format="png")).path)
    assert out.size == size
    return out.convert("RGBA")


def assert_same_picture(got: Image.Image, expected: Image.Image, tolerance: int = 2) -> None:
    """Equal alpha everywhere; equal colour (within ``tolerance``) wherever a pixel shows."""
    assert got.size == expected.size
    for y in range(got.height):
        for x in range(got.width):
            g = got.getpixel((x, y))
            e = expected.getpixel((x, y))
            assert isinstance(g, tuple)
            assert isinstance(e, tuple)
            assert abs(g[3] - e[3]) <= 1, f"alpha at {(x, y)}: {g} != {e}"
            if e[3] == 255:
                assert all(abs(a - b) <= tolerance for a, b in zip(g[:3], e[:3], strict=True)), (
                    f"colour at {(x, y)}: {g} != {e}"
                )


# --- grey PNG with a transparent colour (tRNS) -----------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 16])
def test_grey_png_with_a_transparent_colour(
    tmp_path: Path, reference: Reference, bits: int
) -> None:
    top = (1 << bits) - 1
    if bits == 16:
        # The key and its neighbour share their high byte: only a decoder that
        # compares all 16 bits makes one transparent and not the other.
        levels, key = [0x1200, 0x1234, 0x12FF, 0xFFFF], 0x1234
    else:
        levels, key = sorted({0, top // 3, 2 * top // 3, top}), top // 3 if top > 1 else 1
    rows = [[levels[(x + y) % len(levels)] for x in range(8)] for y in range(6)]
    src = formatgen.grey_png_keyed(tmp_path / f"grey{bits}.png", rows, bits, key)
    expected = reference.render(src)
    assert expected is not None
    assert expected.getchannel("A").getextrema() == (0, 255)  # the reference shows the key
    assert_same_picture(thumbgen_rgba(src, tmp_path, (8, 6)), expected)


# --- GIF whose first frame does not cover the canvas -----------------------------------


def test_gif_frame_smaller_than_its_canvas_leaves_the_rest_transparent(
    tmp_path: Path, reference: Reference
) -> None:
    frame = Image.new("P", (6, 4), 1)
    frame.putpalette([200, 30, 30, 30, 30, 200, 30, 180, 60] + [0] * (256 * 3 - 9))
    frame.paste(2, (0, 0, 3, 2))
    frame.paste(0, (3, 2, 6, 4))  # the background colour used inside the frame stays opaque
    src = formatgen.gif_partial_frame(tmp_path / "layer.gif", (12, 10), frame, (4, 3))
    expected = reference.render(src)
    assert expected is not None
    assert expected.getpixel((0, 0)) == (0, 0, 0, 0)
    assert_same_picture(thumbgen_rgba(src, tmp_path, (12, 10)), expected)


def test_gif_frame_covering_its_canvas_stays_opaque(tmp_path: Path, reference: Reference) -> None:
    frame = Image.new("P", (6, 4), 1)
    frame.putpalette([200, 30, 30, 30, 30, 200] + [0] * (256 * 3 - 6))
    src = formatgen.gif_partial_frame(tmp_path / "full.gif", (6, 4), frame, (0, 0))
    expected = reference.render(src)
    assert expected is not None
    (thumb,) = [one(src, opts(tmp_path, ("6x4",)))]
    assert thumb.format.value == "jpeg"  # nothing transparent: auto stays JPEG
    assert_same_picture(thumbgen_rgba(src, tmp_path, (6, 4)), expected)


# --- BMP with bitfields ----------------------------------------------------------------

#: Opaque, half-transparent-ish and clear pixels, in colours every field width can hold.
BMP_PIXELS = [(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 0), (255, 255, 255, 255),
              (0, 0, 0, 255), (255, 255, 0, 0), (0, 255, 255, 255), (255, 0, 255, 255)]  # fmt: skip
BITFIELDS = {
    "A1R5G5B5": (16, (0x7C00, 0x3E0, 0x1F, 0x8000), 56),
    "A1R5G5B5-v5": (16, (0x7C00, 0x3E0, 0x1F, 0x8000), 124),
    "A4R4G4B4": (16, (0xF00, 0xF0, 0xF, 0xF000), 108),
    "X4R4G4B4": (16, (0xF00, 0xF0, 0xF, 0), 40),
    "R5G5B5-alphabitfields": (16, (0x7C00, 0x3E0, 0x1F, 0x8000), 40),
    "B5G6R5": (16, (0x1F, 0x7E0, 0xF800, 0), 40),
    "R10G10B10A2": (32, (0x3FF00000, 0xFFC00, 0x3FF, 0xC0000000), 124),
    "A8B8G8R8-swapped": (32, (0xFF00, 0xFF0000, 0xFF000000, 0xFF), 108),
}


@pytest.mark.parametrize("layout", list(BITFIELDS))
def test_bmp_bitfields_as_the_browser_reads_them(
    tmp_path: Path, reference: Reference, layout: str
) -> None:
    bits, masks, header = BITFIELDS[layout]
    pixels = [p if masks[3] else (*p[:3], 255) for p in BMP_PIXELS] * 3
    src = formatgen.bmp_bitfields(tmp_path / "b.bmp", pixels, 4, bits=bits, masks=masks,
                                  header=header)  # fmt: skip
    expected = reference.render(src)
    assert expected is not None
    assert_same_picture(thumbgen_rgba(src, tmp_path, (4, 6)), expected)
