"""HEIC/HEIF: upright exactly once, 10-bit, Display P3, alpha, several images, embedded thumbnails.

Every source is made here with pillow-heif's encoder and every thumbnail is
compared pixel by pixel with the upright picture it was made from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from support import formatgen, iccgen, imagegen
from support.thumbs import (
    UPRIGHT,
    close,
    decode_file,
    load,
    mean_difference,
    one,
    opts,
    rgb_at,
    sniff_file,
)

from thumbgen.options import Format
from thumbgen.thumbnailing import make_thumbnails

pytest.importorskip("pillow_heif")

PICTURE = formatgen.asymmetric_heic_source()  # 128x96, distinct under all 8 turns


def thumb_of(src: Path, tmp_path: Path, size: str = "128") -> Image.Image:
    return load(one(src, opts(tmp_path, (size,), format="png")).path)


@pytest.mark.parametrize("irot", range(1, 9))
@pytest.mark.parametrize("exif", range(1, 9))
def test_every_exif_orientation_with_every_irot_comes_out_upright(
    tmp_path: Path, irot: int, exif: int
) -> None:
    # The pixels are stored turned back; irot/imir boxes for ``irot`` turn them
    # upright (libheif applies them) and the EXIF inside claims ``exif``. An
    # iPhone writes irot == exif; applying the EXIF as well would turn twice.
    src = formatgen.heic_rotated(tmp_path / "p.heic", PICTURE, irot, exif_orientation=exif)
    out = thumb_of(src, tmp_path)
    assert out.size == PICTURE.size
    assert imagegen.quadrants(out) == UPRIGHT
    assert mean_difference(out, PICTURE) < 3


def test_the_decoded_size_is_the_displayed_one(tmp_path: Path) -> None:
    src = formatgen.heic_rotated(tmp_path / "p.heic", PICTURE, 6)
    decoded = decode_file(str(src), opts(tmp_path))
    assert decoded.source_size == (128, 96)


def test_heic_is_sniffed_by_content(tmp_path: Path) -> None:
    src = formatgen.heic(tmp_path / "photo.jpg", PICTURE)  # the name is wrong
    assert sniff_file(str(src)) == "HEIF"


def test_10_bit_heic_keeps_its_levels(tmp_path: Path) -> None:
    # Red runs 0..65535 across the picture, green and blue sit at half (0x8000).
    src = formatgen.heic_10bit(tmp_path / "deep.heic", (256, 16))
    out = thumb_of(src, tmp_path, "256").convert("RGB")
    reds = [rgb_at(out, x / 256, 0.5)[0] for x in (0, 64, 128, 192, 255)]
    assert all(abs(r - x) <= 3 for r, x in zip(reds, (0, 64, 128, 192, 255), strict=True)), reds
    for band in out.split()[1:]:
        low, high = band.getextrema()
        assert isinstance(low, int)
        assert isinstance(high, int)
        assert 125 <= low <= high <= 131


def test_display_p3_heic_shows_the_same_srgb_colour(tmp_path: Path) -> None:
    icc = iccgen.display_p3()
    encoded = iccgen.from_srgb((220, 30, 40), icc)
    src = formatgen.heic(
        tmp_path / "p3.heic", Image.new("RGB", (64, 64), encoded), quality=-1, icc_profile=icc
    )
    with Image.open(src) as im:
        assert im.info.get("icc_profile") == icc  # the encoder kept it
    out = thumb_of(src, tmp_path, "32")
    assert close(rgb_at(out, 0.5, 0.5), (220, 30, 40), 4)
    assert not close(encoded, (220, 30, 40), 10)  # the conversion mattered


def test_heic_with_alpha_keeps_it(tmp_path: Path) -> None:
    picture = Image.new("RGBA", (64, 64), (255, 0, 255, 0))
    picture.paste((0, 0, 255, 255), (32, 0, 64, 64))
    src = formatgen.heic(tmp_path / "alpha.heic", picture, quality=-1)
    (thumb,) = make_thumbnails(str(src), opts(tmp_path, ("32",)))
    assert thumb.format is Format.PNG
    out = load(thumb.path)
    assert out.mode == "RGBA"
    assert rgb_at(out, 0.1, 0.5)[3] == 0
    assert close(rgb_at(out, 0.9, 0.5), (0, 0, 255, 255), 3)


COLOURS = [(220, 30, 40), (30, 180, 60), (40, 60, 220)]


def test_a_sequence_gives_its_first_image(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (48, 32), c) for c in COLOURS]
    src = formatgen.heic_sequence(tmp_path / "burst.heic", frames, quality=-1)
    assert close(rgb_at(thumb_of(src, tmp_path, "32"), 0.5, 0.5), COLOURS[0], 4)


def test_a_file_of_several_images_gives_the_primary_one(tmp_path: Path) -> None:
    # What viewers show when the writer marked another image as primary.
    frames = [Image.new("RGB", (48, 32), c) for c in COLOURS]
    src = formatgen.heic_sequence(tmp_path / "set.heic", frames, quality=-1, primary_index=1)
    assert close(rgb_at(thumb_of(src, tmp_path, "32"), 0.5, 0.5), COLOURS[1], 4)


def test_an_embedded_thumbnail_large_enough_is_decoded_instead(tmp_path: Path) -> None:
    picture = imagegen.asymmetric((1200, 800))
    src = formatgen.heic(tmp_path / "big.heic", picture, quality=90, thumbnails=[300])
    small = decode_file(str(src), opts(tmp_path, ("128",)))
    assert small.image.size == (300, 200)  # >= twice the 128 px output
    assert small.source_size == (1200, 800)
    large = decode_file(str(src), opts(tmp_path, ("512",)))
    assert large.image.size == (1200, 800)  # the thumbnail would be too small
    thumb = thumb_of(src, tmp_path)
    assert thumb.size == (128, 85)
    assert imagegen.quadrants(thumb) == UPRIGHT
