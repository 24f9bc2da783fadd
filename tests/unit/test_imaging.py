"""The imaging core end to end: real files in, real thumbnails out.

Every picture is generated into ``tmp_path`` (tests/imagegen.py, tests/iccgen.py).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from support import iccgen, imagegen

from thumbgen.errors import (
    CorruptImage,
    NotAnImage,
    OutputError,
    SourceMissing,
    ThumbgenError,
    TooManyPixels,
    TransientError,
)
from thumbgen.imaging import atomic, colour, reading
from thumbgen.imaging import pipeline as imaging
from thumbgen.imaging.decode import decode
from thumbgen.imaging.pipeline import Thumbnail, make_thumbnails
from thumbgen.imaging.sniff import sniff
from thumbgen.options import Format, Options, build_options

UPRIGHT = ("red", "green", "blue", "yellow")


def opts(tmp_path: Path, sizes: tuple[str, ...] = ("256",), **kwargs: Any) -> Options:
    return build_options(list(sizes), out_dir=tmp_path / "out", **kwargs)


def one(source: Path, options: Options, rel_dir: str = "") -> Thumbnail:
    (thumb,) = make_thumbnails(str(source), options, rel_dir=rel_dir)
    return thumb


def load(path: str | Path) -> Image.Image:
    """The file's pixels, with the file closed again (no ResourceWarning)."""
    with Image.open(path) as im:
        im.load()
        return im.copy()


def rgb_at(im: Image.Image, fx: float, fy: float) -> tuple[int, ...]:
    """Pixel at a fraction of the width and height."""
    px = im.getpixel(
        (min(im.width - 1, int(fx * im.width)), min(im.height - 1, int(fy * im.height)))
    )
    assert isinstance(px, tuple)
    return px


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return float(
        sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3
    )


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (temporary ones included), relative to it."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- EXIF orientation ---------------------------------------------------------------


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_every_exif_orientation_comes_out_upright(tmp_path: Path, orientation: int) -> None:
    picture = imagegen.asymmetric((120, 80))
    reference = one(
        imagegen.save_with_orientation(picture, tmp_path / "ref.jpg", 1), opts(tmp_path)
    )
    src = imagegen.save_with_orientation(picture, tmp_path / f"o{orientation}.jpg", orientation)
    thumb = one(src, opts(tmp_path))
    out = load(thumb.path)
    assert (thumb.width, thumb.height) == (120, 80)
    assert imagegen.quadrants(out) == UPRIGHT
    assert mean_difference(out, load(reference.path)) < 3  # equal within JPEG noise


@pytest.mark.parametrize("orientation", [0, 9, "missing", "garbage"])
def test_unknown_or_broken_orientation_counts_as_upright(tmp_path: Path, orientation: Any) -> None:
    src = imagegen.save_with_orientation(
        imagegen.asymmetric((120, 80)), tmp_path / "o.jpg", orientation
    )
    assert imagegen.quadrants(load(one(src, opts(tmp_path)).path)) == UPRIGHT


@pytest.mark.parametrize("orientation", [3, 5, 6, 8])
def test_orientation_survives_shrink_on_load(tmp_path: Path, orientation: int) -> None:
    # Large enough for DCT scaling, so the swapped box and the transpose of the
    # small decoded image are both exercised.
    picture = imagegen.asymmetric((2000, 1200))
    src = imagegen.save_with_orientation(picture, tmp_path / "big.jpg", orientation)
    assert decode(str(src), opts(tmp_path)).image.size == (1000, 600)
    thumb = one(src, opts(tmp_path))
    assert (thumb.width, thumb.height) == (256, 154)
    assert imagegen.quadrants(load(thumb.path)) == UPRIGHT


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_orientation_is_honoured_in_other_formats(tmp_path: Path, fmt: str) -> None:
    exif = Image.Exif()
    exif[imagegen.ORIENTATION] = 6
    stored = imagegen.asymmetric((120, 80)).transpose(Image.Transpose.ROTATE_90)
    src = tmp_path / f"o6.{fmt.lower()}"
    stored.save(src, fmt, exif=exif, **({"lossless": True} if fmt == "WEBP" else {}))
    thumb = one(src, opts(tmp_path))
    assert (thumb.width, thumb.height) == (120, 80)
    assert imagegen.quadrants(load(thumb.path)) == UPRIGHT


# --- decode small, once ------------------------------------------------------------


def test_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (2400, 1600))
    decoded = decode(str(src), opts(tmp_path))
    # 1/4 scale: still at least twice the 256x171 output, 16x fewer pixels than the source
    assert decoded.image.size == (600, 400)
    assert decoded.source_size == (2400, 1600)


def test_progressive_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (2400, 1600), progressive=True)
    assert decode(str(src), opts(tmp_path)).image.size == (600, 400)


def test_the_largest_size_decides_the_decode_scale(tmp_path: Path) -> None:
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (2400, 1600))
    image = decode(str(src), opts(tmp_path, ("64", "512"))).image
    assert image.size == (1200, 800)  # 1/2: 1/4 would leave less than 2x for 512 px
    thumbs = make_thumbnails(str(src), opts(tmp_path, ("64", "512")))
    assert [(t.width, t.height) for t in thumbs] == [(64, 43), (512, 341)]


def test_decode_box_is_swapped_for_rotated_sources(tmp_path: Path) -> None:
    # Stored 800x3200 with orientation 6 displays as 3200x800: the 256x64 output
    # needs 64x256 stored pixels, so 1/4 scale is fine. An unswapped box would
    # ask for 256 stored pixels across 800 and decode at full size.
    stored = Image.new("RGB", (800, 3200), (90, 120, 150))
    exif = Image.Exif()
    exif[imagegen.ORIENTATION] = 6
    stored.save(tmp_path / "tall.jpg", "JPEG", exif=exif)
    decoded = decode(str(tmp_path / "tall.jpg"), opts(tmp_path))
    assert decoded.image.size == (800, 200)
    assert decoded.source_size == (3200, 800)


def test_formats_without_reduced_decoding_decode_at_full_size(tmp_path: Path) -> None:
    imagegen.asymmetric((1200, 800)).save(tmp_path / "p.png")
    assert decode(str(tmp_path / "p.png"), opts(tmp_path)).image.size == (1200, 800)


def test_output_size_follows_the_source_not_the_decode_scale(tmp_path: Path) -> None:
    # 1025x600 decodes at 1/4 as 257x150; 100 px wide gives 58.4 -> 58 from that,
    # but the source's ratio says 58.5 -> 59. A PNG of the same picture gives 59.
    picture = imagegen.asymmetric((1025, 600))
    picture.save(tmp_path / "a.jpg", quality=90)
    picture.save(tmp_path / "a.png")
    jpeg = one(tmp_path / "a.jpg", opts(tmp_path, ("100",), format="png"))
    png = one(tmp_path / "a.png", opts(tmp_path, ("100",), format="png", name="{stem}_png.{ext}"))
    assert (jpeg.width, jpeg.height) == (png.width, png.height) == (100, 59)


def test_source_is_opened_once_for_all_sizes(tmp_path: Path) -> None:
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (1200, 800))
    opened: list[str] = []

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and str(args[0]) == str(src):
            opened.append(event)

    # Audit hooks cannot be removed; this one only records opens of this test's file.
    sys.addaudithook(hook)
    thumbs = make_thumbnails(str(src), opts(tmp_path, ("64", "128", "320x240", "x100")))
    assert len(thumbs) == 4
    assert len(opened) == 1


def test_downscaling_averages_instead_of_aliasing(tmp_path: Path) -> None:
    # A 1-pixel checkerboard must become flat mid-grey; nearest-neighbour or a
    # plain decimation would give black, white or stripes.
    imagegen.checkerboard((512, 512)).save(tmp_path / "check.png")
    out = load(one(tmp_path / "check.png", opts(tmp_path, ("64",), format="png")).path)
    low, high = out.getextrema()
    assert isinstance(low, int)
    assert isinstance(high, int)
    assert 120 <= low <= high <= 135


# --- sizes, fits, crops ------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "fit", "expected"),
    [
        ("100", "contain", (100, 50)),
        ("80x", "contain", (80, 40)),
        ("x30", "contain", (60, 30)),
        ("100x100", "cover", (100, 100)),
        ("100x100", "pad", (100, 100)),
        ("100x100", "fill", (100, 100)),
        ("500", "contain", (200, 100)),  # never enlarged by default
    ],
)
def test_sizes_and_fits(tmp_path: Path, size: str, fit: str, expected: tuple[int, int]) -> None:
    imagegen.asymmetric((200, 100)).save(tmp_path / "a.png")
    thumb = one(tmp_path / "a.png", opts(tmp_path, (size,), fit=fit))
    assert (thumb.width, thumb.height) == expected
    assert load(thumb.path).size == expected


def test_upscale_when_asked(tmp_path: Path) -> None:
    imagegen.asymmetric((200, 100)).save(tmp_path / "a.png")
    thumb = one(tmp_path / "a.png", opts(tmp_path, ("500",), upscale=True))
    assert (thumb.width, thumb.height) == (500, 250)


def test_pad_fills_the_box_with_the_background(tmp_path: Path) -> None:
    imagegen.asymmetric((200, 100)).save(tmp_path / "a.png")
    out = load(
        one(
            tmp_path / "a.png",
            opts(tmp_path, ("100",), fit="pad", background="#ff00ff", format="png"),
        ).path
    )
    assert out.size == (100, 100)
    assert rgb_at(out, 0.5, 0.05)[:3] == (255, 0, 255)  # band above the picture
    assert rgb_at(out, 0.5, 0.95)[:3] == (255, 0, 255)  # band below
    assert imagegen.quadrants(out.crop((0, 25, 100, 75))) == UPRIGHT


def test_fill_stretches(tmp_path: Path) -> None:
    imagegen.asymmetric((200, 100)).save(tmp_path / "a.png")
    out = load(one(tmp_path / "a.png", opts(tmp_path, ("50x100",), fit="fill", format="png")).path)
    assert out.size == (50, 100)
    assert imagegen.quadrants(out) == UPRIGHT  # whole picture, squeezed


@pytest.mark.parametrize(
    ("crop", "left", "right"),
    [("center", "red", "yellow"), ("0,0.5", "red", "blue"), ("1,0.5", "green", "yellow")],
)
def test_cover_crops_where_asked(tmp_path: Path, crop: str, left: str, right: str) -> None:
    # Quadrants of a 400x100 picture: red | green above, blue | yellow below.
    # A 100x100 window shows two of the four colours side by side or stacked.
    imagegen.asymmetric((400, 100)).save(tmp_path / "wide.png")
    out = load(
        one(
            tmp_path / "wide.png", opts(tmp_path, ("100",), fit="cover", crop=crop, format="png")
        ).path
    )
    assert out.size == (100, 100)
    names = imagegen.quadrants(out)
    if crop == "center":
        assert names == ("red", "green", "blue", "yellow")
    else:
        assert names[0] == left
        assert names[3] == right


def test_entropy_crop_keeps_the_detail(tmp_path: Path) -> None:
    picture = Image.new("RGB", (300, 100), (128, 128, 128))
    picture.paste(Image.merge("RGB", [Image.effect_noise((100, 100), 90)] * 3), (200, 0))
    picture.save(tmp_path / "detail.png")
    out = load(
        one(
            tmp_path / "detail.png",
            opts(tmp_path, ("100",), fit="cover", crop="entropy", format="png"),
        ).path
    )
    assert ImageStat.Stat(out.convert("L")).stddev[0] > 20  # the noisy third, not flat grey


# --- colour ----------------------------------------------------------------------------


@pytest.mark.parametrize("make_profile", [iccgen.display_p3, iccgen.adobe_rgb], ids=["p3", "adobe"])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_tagged_colour_comes_out_as_the_same_srgb_colour(
    tmp_path: Path, make_profile: Any, fmt: str
) -> None:
    icc = make_profile()
    encoded = iccgen.from_srgb((220, 30, 40), icc)
    src = imagegen.tagged(
        Image.new("RGB", (64, 64), encoded), tmp_path / f"c.{fmt.lower()}", icc, fmt
    )
    out = load(one(src, opts(tmp_path, ("32",), format="png")).path)
    assert close(rgb_at(out, 0.5, 0.5), (220, 30, 40), 4)
    assert "icc_profile" not in out.info


def test_broken_profile_gives_the_plain_pixels(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), (200, 10, 10)).save(
        tmp_path / "b.png", icc_profile=b"not a profile" * 10
    )
    out = load(one(tmp_path / "b.png", opts(tmp_path, ("32",), format="png")).path)
    assert rgb_at(out, 0.5, 0.5) == (200, 10, 10)


def test_transform_cache_is_hit_across_files(tmp_path: Path) -> None:
    colour._transform.cache_clear()
    icc = iccgen.display_p3()
    for n in range(3):
        imagegen.tagged(Image.new("RGB", (32, 32), (200, 30, 40)), tmp_path / f"{n}.png", icc)
        one(tmp_path / f"{n}.png", opts(tmp_path, ("16",)))
    info = colour._transform.cache_info()
    assert (info.misses, info.hits) == (1, 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: imagegen.cmyk_jpeg(p),
        lambda p: imagegen.cmyk_jpeg(p, icc=iccgen.cmyk_profile()),
        lambda p: imagegen.cmyk_jpeg_plain(p),
    ],
    ids=["adobe-inverted", "adobe-inverted+profile", "plain-no-adobe-marker"],
)
def test_cmyk_red_stays_red(tmp_path: Path, make: Any) -> None:
    src = make(tmp_path / "cmyk.jpg")
    out = load(one(src, opts(tmp_path, ("32",), format="png")).path)
    assert out.mode == "RGB"
    assert close(rgb_at(out, 0.5, 0.5), (255, 0, 0), 8)


def test_16_bit_gradient_spans_the_full_8_bit_range(tmp_path: Path) -> None:
    src = imagegen.png16_gray(tmp_path / "g16.png", (256, 8))
    out = load(one(src, opts(tmp_path, ("256",), format="png")).path)
    assert out.mode == "L"
    assert out.getextrema() == (0, 255)
    assert [out.getpixel((x, 4)) for x in (0, 64, 128, 192, 255)] == [0, 64, 128, 192, 255]


def test_16_bit_rgb_keeps_its_levels(tmp_path: Path) -> None:
    src = imagegen.png16_rgb(tmp_path / "rgb16.png", (256, 8))
    out = load(one(src, opts(tmp_path, ("256",), format="png")).path)
    red, green, blue = out.split()
    assert red.getextrema() == (0, 255)
    assert green.getextrema() == (0x40, 0x40)
    assert blue.getextrema() == (0xC0, 0xC0)


def test_one_bit_source(tmp_path: Path) -> None:
    src = imagegen.one_bit_png(tmp_path / "bw.png")
    out = load(one(src, opts(tmp_path, ("32",), format="png")).path)
    assert out.mode == "L"
    assert (rgb_at(out.convert("RGB"), 0.1, 0.5), rgb_at(out.convert("RGB"), 0.9, 0.5)) == (
        (0, 0, 0),
        (255, 255, 255),
    )


# --- transparency --------------------------------------------------------------------


def test_transparent_png_as_jpeg_shows_the_background(tmp_path: Path) -> None:
    src = imagegen.transparent_png(tmp_path / "t.png")
    thumb = one(src, opts(tmp_path, ("64",), format="jpeg", background="#3366cc"))
    out = load(thumb.path)
    assert out.mode == "RGB"
    assert close(rgb_at(out, 0.2, 0.5), (0x33, 0x66, 0xCC), 6)  # not the hidden magenta
    assert close(rgb_at(out, 0.8, 0.5), (0, 0, 255), 6)


def test_auto_format_is_png_for_real_transparency(tmp_path: Path) -> None:
    thumb = one(imagegen.transparent_png(tmp_path / "t.png"), opts(tmp_path, ("64",)))
    assert thumb.format is Format.PNG
    assert thumb.path.endswith("t_64x64.png")
    out = load(thumb.path)
    assert rgb_at(out, 0.2, 0.5)[3] == 0
    assert rgb_at(out, 0.8, 0.5) == (0, 0, 255, 255)


def test_auto_format_is_jpeg_for_an_opaque_alpha_channel(tmp_path: Path) -> None:
    Image.new("RGBA", (64, 64), (10, 200, 30, 255)).save(tmp_path / "opaque.png")
    thumb = one(tmp_path / "opaque.png", opts(tmp_path, ("32",)))
    assert thumb.format is Format.JPEG
    assert sniff(thumb.path) == "JPEG"


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_alpha_is_kept_where_the_format_has_it(tmp_path: Path, fmt: str) -> None:
    thumb = one(imagegen.transparent_png(tmp_path / "t.png"), opts(tmp_path, ("64",), format=fmt))
    out = load(thumb.path).convert("RGBA")
    assert rgb_at(out, 0.2, 0.5)[3] <= 5
    assert rgb_at(out, 0.8, 0.5)[3] >= 250


def test_palette_transparency(tmp_path: Path) -> None:
    thumb = one(imagegen.palette_transparent_png(tmp_path / "p.png"), opts(tmp_path, ("32",)))
    assert thumb.format is Format.PNG
    out = load(thumb.path).convert("RGBA")
    assert rgb_at(out, 0.2, 0.5)[3] == 0
    assert rgb_at(out, 0.8, 0.5) == (0, 200, 0, 255)


def test_grey_with_alpha(tmp_path: Path) -> None:
    src = imagegen.la_png(tmp_path / "la.png")
    png = load(one(src, opts(tmp_path, ("64",))).path)
    assert png.mode == "LA"
    jpeg = load(one(src, opts(tmp_path, ("64",), format="jpeg", background="black")).path)
    # grey 128 over black, with alpha ramping 0 -> 255 from left to right
    assert rgb_at(jpeg.convert("L").convert("RGB"), 0.0, 0.5)[0] <= 6
    assert abs(rgb_at(jpeg.convert("RGB"), 0.99, 0.5)[0] - 128) <= 6


# --- metadata, animation ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_no_exif_gps_or_xmp_in_outputs(tmp_path: Path, fmt: str) -> None:
    src = imagegen.jpeg_with_gps(tmp_path / "gps.jpg")
    with Image.open(src) as im:  # guard: the source really carries them
        assert im.getexif().get_ifd(0x8825)
    thumb = one(src, opts(tmp_path, ("64",), format=fmt))
    data = Path(thumb.path).read_bytes()
    for needle in (b"Exif", b"ThumbgenTestCam", imagegen.XMP_MARKER.encode(), b"ns.adobe.com/xap"):
        assert needle not in data
    with Image.open(thumb.path) as out:
        assert not out.getexif()
        assert "xmp" not in out.info
        assert "exif" not in out.info


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animations_give_their_first_frame(tmp_path: Path, fmt: str) -> None:
    src = imagegen.animated(tmp_path / f"anim.{fmt.lower()}", fmt)  # type: ignore[arg-type]
    thumb = one(src, opts(tmp_path, ("32",), format="png"))
    with Image.open(thumb.path) as out:
        assert getattr(out, "n_frames", 1) == 1
        assert close(rgb_at(out.convert("RGB"), 0.5, 0.5), (255, 0, 0), 2)


# --- formats, quality, names ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "sniffed", "ext"),
    [
        ("jpeg", "JPEG", "jpg"),
        ("jpg", "JPEG", "jpg"),
        ("png", "PNG", "png"),
        ("webp", "WEBP", "webp"),
        ("avif", "AVIF", "avif"),
    ],
)
def test_output_formats(tmp_path: Path, fmt: str, sniffed: str, ext: str) -> None:
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    thumb = one(tmp_path / "a.png", opts(tmp_path, ("64",), format=fmt))
    assert thumb.path == str(tmp_path / "out" / f"a_64x64.{ext}")
    assert sniff(thumb.path) == sniffed
    assert imagegen.quadrants(load(thumb.path)) == UPRIGHT


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_quality_is_applied(tmp_path: Path, fmt: str) -> None:
    noise = Image.merge("RGB", [Image.effect_noise((128, 128), 60) for _ in range(3)])
    noise.save(tmp_path / "noise.png")
    sizes = []
    for q in (20, 95):
        thumb = one(
            tmp_path / "noise.png",
            opts(tmp_path, ("128",), format=fmt, quality=q, name=f"{{stem}}_{q}.{{ext}}"),
        )
        sizes.append(os.path.getsize(thumb.path))
    assert sizes[0] * 1.5 < sizes[1]


def test_png_named_jpg_works(tmp_path: Path) -> None:
    thumb = one(imagegen.png_named_jpg(tmp_path / "photo.jpg"), opts(tmp_path, ("64",)))
    assert imagegen.quadrants(load(thumb.path)) == UPRIGHT


def test_names_keep_the_relative_folder_and_folders_are_made(tmp_path: Path) -> None:
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    rel = os.path.join("2024", "trip")
    thumbs = make_thumbnails(str(tmp_path / "a.png"), opts(tmp_path, ("64", "32x")), rel_dir=rel)
    assert [t.path for t in thumbs] == [
        str(tmp_path / "out" / "2024" / "trip" / "a_64x64.jpg"),
        str(tmp_path / "out" / "2024" / "trip" / "a_32x.jpg"),
    ]
    assert files_under(tmp_path / "out") == [
        os.path.join(rel, "a_32x.jpg"),
        os.path.join(rel, "a_64x64.jpg"),
    ]


def test_width_and_height_in_names_are_the_actual_pixels(tmp_path: Path) -> None:
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    thumb = one(tmp_path / "a.png", opts(tmp_path, ("64",), name="{stem}-{width}x{height}.{ext}"))
    assert os.path.basename(thumb.path) == "a-64x43.jpg"


# --- atomic writes -------------------------------------------------------------------


@pytest.fixture(params=["unnamed", "named"])
def temp_files(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with both ways of writing: Linux unnamed files and the hidden-name fallback."""
    if request.param == "unnamed" and not atomic.UNNAMED_FILES:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(atomic, "UNNAMED_FILES", request.param == "unnamed")
    return str(request.param)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask_022", "temp_files")
def test_thumbnails_get_ordinary_permissions(tmp_path: Path) -> None:
    # Temporary files are private (0600) by default; a thumbnail must not be.
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    thumb = one(tmp_path / "a.png", opts(tmp_path, ("64",)))
    assert os.stat(thumb.path).st_mode & 0o777 == 0o644


@pytest.mark.usefixtures("temp_files")
def test_rewrite_replaces_the_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    first = one(tmp_path / "a.png", opts(tmp_path, ("64",)))
    inode = os.stat(first.path).st_ino
    Image.new("RGB", (120, 80), (0, 0, 0)).save(tmp_path / "a.png")
    second = one(tmp_path / "a.png", opts(tmp_path, ("64",)))
    assert second.path == first.path
    assert os.stat(second.path).st_ino != inode  # a new file moved in, not rewritten in place
    assert rgb_at(load(second.path), 0.5, 0.5) == (0, 0, 0)
    assert files_under(tmp_path / "out") == ["a_64x64.jpg"]


def _slow_to_encode(tmp_path: Path) -> Path:
    """A tiny source whose 2048 px upscaled thumbnail takes a while to encode."""
    Image.merge("RGB", [Image.effect_noise((64, 64), 60) for _ in range(3)]).save(
        tmp_path / "n.png"
    )
    return tmp_path / "n.png"


def test_nothing_partial_is_ever_visible(tmp_path: Path) -> None:
    # Watch the output folder while a slow thumbnail is written: the only name
    # that may ever appear is the finished thumbnail's.
    src = _slow_to_encode(tmp_path)
    options = opts(tmp_path, ("2048",), upscale=True, format="webp")
    out = tmp_path / "out"
    worker = threading.Thread(target=make_thumbnails, args=(str(src), options))
    seen: set[str] = set()
    worker.start()
    while worker.is_alive():  # the encoder releases the GIL, so this keeps polling
        with contextlib.suppress(FileNotFoundError):
            seen.update(os.listdir(out))
    worker.join()
    seen.update(os.listdir(out))
    assert seen == {"n_2048x2048.webp"}


@pytest.mark.skipif(not atomic.UNNAMED_FILES, reason="needs O_TMPFILE (Linux)")
def test_a_writer_killed_mid_write_leaves_nothing(tmp_path: Path) -> None:
    src = _slow_to_encode(tmp_path)
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        from thumbgen import build_options, make_thumbnails
        options = build_options(["2048"], upscale=True, format="png", out_dir={str(out)!r})
        make_thumbnails({str(src)!r}, options)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        # The folder is made right before the file; encoding then takes about a second.
        deadline = time.monotonic() + 30
        while not out.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.1)
        assert child.poll() is None, "finished before it could be killed"
        child.kill()
    finally:
        child.wait(30)
    assert out.is_dir()
    assert files_under(out) == []


def test_unwritable_output_is_a_clear_permanent_error(tmp_path: Path) -> None:
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    (tmp_path / "blocker").write_text("a file where the output folder should be")
    options = build_options(["64"], out_dir=tmp_path / "blocker" / "out")
    with pytest.raises(OutputError) as info:
        make_thumbnails(str(tmp_path / "a.png"), options)
    message = str(info.value)
    assert message.startswith(f"Cannot write {tmp_path / 'blocker' / 'out' / 'a_64x64.jpg'}: ")
    assert "check --out" in message
    assert not info.value.transient


@pytest.mark.parametrize(
    ("err", "kind", "transient"),
    [
        (errno.ENOSPC, TransientError, True),
        (errno.EIO, TransientError, True),
        (errno.EACCES, OutputError, False),
        (errno.EROFS, OutputError, False),
    ],
)
def test_output_errors_are_told_apart(err: int, kind: type[ThumbgenError], transient: bool) -> None:
    exc = imaging._output_error("/out/a.jpg", OSError(err, os.strerror(err)))
    assert type(exc) is kind
    assert isinstance(exc, ThumbgenError)
    assert exc.transient is transient
    assert "/out/a.jpg" in str(exc)


# --- refusing bad sources -------------------------------------------------------------


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


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_huge_header_stays_small_in_memory(tmp_path: Path) -> None:
    # In a fresh process: decoding 10^10 RGB pixels would need 30 GB. VmHWM is
    # that process's own peak; ru_maxrss would also count the pytest process
    # it was forked from (Linux keeps the high-water mark across exec).
    src = imagegen.huge_header_png(tmp_path / "bomb.png")
    script = textwrap.dedent(
        f"""
        from thumbgen import build_options, make_thumbnails
        from thumbgen.errors import TooManyPixels
        try:
            make_thumbnails({str(src)!r}, build_options(out_dir={str(tmp_path / "out")!r}))
        except TooManyPixels as exc:
            print(str(exc).split(":")[0])
        with open("/proc/self/status") as f:
            print(next(line.split()[1] for line in f if line.startswith("VmHWM:")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    refusal, peak_kib = result.stdout.split("\n")[:2]
    assert refusal == "Too many pixels"
    assert int(peak_kib) < 150 * 1024


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
    exc = reading._source_error("/mnt/nas/a.jpg", OSError(errno.EIO, "Input/output error"))
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
