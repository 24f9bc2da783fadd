"""Decoding once and small, through the decoder registered for the source's format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import decode_file, load, one, opts

from thumbgen.errors import CorruptImage
from thumbgen.imaging import decode as decode_mod
from thumbgen.imaging import formats
from thumbgen.imaging.decode import Decoder, Stored
from thumbgen.options import OutputSpec
from thumbgen.thumbnailing import make_thumbnails


def test_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (2400, 1600))
    decoded = decode_file(str(src), opts(tmp_path))
    # 1/4 scale: still at least twice the 256x171 output, 16x fewer pixels than the source
    assert decoded.image.size == (600, 400)
    assert decoded.source_size == (2400, 1600)


def test_progressive_jpeg_is_decoded_at_reduced_scale(tmp_path: Path) -> None:
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (2400, 1600), progressive=True)
    assert decode_file(str(src), opts(tmp_path)).image.size == (600, 400)


def test_the_largest_size_decides_the_decode_scale(tmp_path: Path) -> None:
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (2400, 1600))
    image = decode_file(str(src), opts(tmp_path, ("64", "512"))).image
    assert image.size == (1200, 800)  # 1/2: 1/4 would leave less than 2x for 512 px
    thumbs = make_thumbnails(str(src), opts(tmp_path, ("64", "512")))
    assert [(t.width, t.height) for t in thumbs] == [(64, 43), (512, 341)]


def test_a_phone_photo_decodes_at_one_eighth_for_a_box_a_sixteenth_of_it(tmp_path: Path) -> None:
    # 4032x3024 (a phone's 12 MP) for 256 px, scaled down: 1008x756 for 64 px.
    # 1/8 leaves 1.97x for the last resample, under 2x but enough (decoders._DRAFT_GAP).
    src = imagegen.photo_jpeg(tmp_path / "phone.jpg", (1008, 756))
    assert decode_file(str(src), opts(tmp_path, ("64",))).image.size == (126, 95)
    assert one(src, opts(tmp_path, ("64",))).width == 64


def test_decode_box_is_swapped_for_rotated_sources(tmp_path: Path) -> None:
    # Stored 800x3200 with orientation 6 displays as 3200x800: the 256x64 output
    # needs 64x256 stored pixels, so 1/4 scale is fine. An unswapped box would
    # ask for 256 stored pixels across 800 and decode at full size.
    stored = Image.new("RGB", (800, 3200), (90, 120, 150))
    exif = Image.Exif()
    exif[imagegen.ORIENTATION] = 6
    stored.save(tmp_path / "tall.jpg", "JPEG", exif=exif)
    decoded = decode_file(str(tmp_path / "tall.jpg"), opts(tmp_path))
    assert decoded.image.size == (800, 200)
    assert decoded.source_size == (3200, 800)


def test_formats_without_reduced_decoding_decode_at_full_size(tmp_path: Path) -> None:
    imagegen.asymmetric((1200, 800)).save(tmp_path / "p.png")
    assert decode_file(str(tmp_path / "p.png"), opts(tmp_path)).image.size == (1200, 800)


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


# --- dispatch by format ----------------------------------------------------------------


def _spy(decoder: Decoder, calls: list[str], name: str) -> Decoder:
    def spy(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
        calls.append(name)
        return decoder(im, specs)

    return spy


def test_decoders_are_looked_up_by_the_formats_table() -> None:
    assert decode_mod.decoder_for("JPEG") is decode_mod.decode_reduced
    assert decode_mod.decoder_for("MPO") is decode_mod.decode_reduced  # multi-picture JPEG
    assert decode_mod.decoder_for("WEBP") is decode_mod.decode_full
    assert decode_mod.decoder_for(None) is decode_mod.decode_full
    readable = {f.name for f in formats.INPUTS if f.readable}
    assert set(decode_mod.DECODERS) <= readable


def test_a_jpeg_goes_through_the_reduced_decoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setitem(
        decode_mod.DECODERS, "JPEG", _spy(decode_mod.decode_reduced, calls, "reduced")
    )
    monkeypatch.setattr(decode_mod, "decode_full", _spy(decode_mod.decode_full, calls, "full"))
    src = imagegen.photo_jpeg(tmp_path / "photo.jpg", (2400, 1600))
    decoded = decode_file(str(src), opts(tmp_path))
    assert calls == ["reduced"]
    assert decoded.image.size == (600, 400)
    assert decoded.source_size == (2400, 1600)


def test_a_webp_goes_through_the_full_decoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setitem(
        decode_mod.DECODERS, "JPEG", _spy(decode_mod.decode_reduced, calls, "reduced")
    )
    monkeypatch.setattr(decode_mod, "decode_full", _spy(decode_mod.decode_full, calls, "full"))
    imagegen.asymmetric((1200, 800)).save(tmp_path / "p.webp", lossless=True)
    decoded = decode_file(str(tmp_path / "p.webp"), opts(tmp_path))
    assert calls == ["full"]
    assert decoded.image.size == decoded.source_size == (1200, 800)


def test_a_new_entry_takes_over_its_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The seam later decoders plug into: one entry, and the steps after it
    # (orientation, colour) still apply.
    def half(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
        im.load()
        return Stored(im.reduce(2), im.size, 6)

    monkeypatch.setitem(decode_mod.DECODERS, "PNG", half)
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    decoded = decode_file(str(tmp_path / "a.png"), opts(tmp_path))
    assert decoded.image.size == (40, 60)  # halved, then turned by orientation 6
    assert decoded.source_size == (80, 120)
    assert decoded.image.mode == "RGB"


def test_decoder_errors_become_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
        raise SyntaxError("bad\nmarker")

    monkeypatch.setitem(decode_mod.DECODERS, "PNG", broken)
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    with pytest.raises(CorruptImage, match=r"^Corrupt image: .*a\.png \(bad marker\)$"):
        decode_file(str(tmp_path / "a.png"), opts(tmp_path))
