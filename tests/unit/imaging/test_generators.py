"""Prove the test-image generators produce what they claim."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from support import iccgen, imagegen

T = Image.Transpose


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (type, payload) of every PNG chunk, asserting each CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload), kind
        yield kind, payload
        pos += 12 + length


def ihdr(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG file."""
    kind, payload = next(png_chunks(path.read_bytes()))
    assert kind == b"IHDR"
    w, h, depth, colour_type = struct.unpack(">IIBB", payload[:10])
    return w, h, depth, colour_type


# --- ICC profiles -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "device_class", "space"),
    [
        (iccgen.display_p3, b"mntr", "RGB "),
        (iccgen.adobe_rgb, b"mntr", "RGB "),
        (iccgen.cmyk_profile, b"prtr", "CMYK"),
    ],
)
def test_profile_header_and_lcms_load(
    make: Callable[[], bytes], device_class: bytes, space: str
) -> None:
    data = make()
    assert struct.unpack(">I", data[:4])[0] == len(data)
    assert data[36:40] == b"acsp"
    assert data[12:16] == device_class
    prof = iccgen.load(data)
    assert prof.profile.xcolor_space == space
    assert prof.profile.version == pytest.approx(4.3)
    assert "thumbgen test" in ImageCms.getProfileDescription(prof)
    assert make() == data  # deterministic bytes


def test_profile_id_is_md5() -> None:
    data = iccgen.display_p3()
    scratch = bytearray(data)
    scratch[44:48] = scratch[64:68] = bytes(4)
    scratch[84:100] = bytes(16)
    assert data[84:100] == hashlib.md5(scratch, usedforsecurity=False).digest()


def test_p3_round_trip_and_reference_values() -> None:
    p3 = iccgen.display_p3()
    encoded = iccgen.from_srgb((220, 30, 40), p3)
    assert not close(encoded, (220, 30, 40), 10)  # really a different encoding
    assert close(iccgen.to_srgb(encoded, p3), (220, 30, 40), 3)
    # Published value: sRGB red is (234, 51, 35) in Display P3.
    assert close(iccgen.from_srgb((255, 0, 0), p3), (234, 51, 35), 2)
    r, g, b = iccgen.to_srgb((255, 0, 0), p3)
    assert r == 255
    assert g < 30
    assert b < 30


def test_adobe_rgb_green_clips_and_reference_values() -> None:
    adobe = iccgen.adobe_rgb()
    r, g, b = iccgen.to_srgb((0, 255, 0), adobe)
    assert g == 255
    assert r < 30
    assert b < 30
    assert close(iccgen.from_srgb((255, 0, 0), adobe), (219, 0, 0), 2)


def test_cmyk_profile_converts_to_srgb() -> None:
    cmyk = iccgen.cmyk_profile()
    r, g, b = iccgen.to_srgb((0, 255, 255, 0), cmyk, "CMYK")
    assert r > 200
    assert g < 80
    assert b < 80
    assert close(iccgen.to_srgb((0, 0, 0, 0), cmyk, "CMYK"), (255, 255, 255), 3)
    assert max(iccgen.to_srgb((0, 0, 0, 255), cmyk, "CMYK")) < 20
    # B2A0 makes the profile usable as a target too (grey -> mostly K).
    c, m, y, k = iccgen.from_srgb((128, 128, 128), cmyk, "CMYK")
    assert k > 100
    assert max(c, m, y) < 20


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_tagged_p3_image_converts_back(tmp_path: Path, fmt: str) -> None:
    p3 = iccgen.display_p3()
    encoded = iccgen.from_srgb((220, 30, 40), p3)
    path = imagegen.tagged(Image.new("RGB", (16, 16), encoded), tmp_path / "p3.img", p3, fmt)
    with Image.open(path) as im:
        assert im.format == fmt
        assert im.info["icc_profile"] == p3
        out = ImageCms.profileToProfile(
            im, iccgen.load(im.info["icc_profile"]), ImageCms.createProfile("sRGB")
        )
    assert out is not None
    assert close(out.getpixel((8, 8)), (220, 30, 40), 4)  # type: ignore[arg-type]


# --- images ------------------------------------------------------------------------------


def test_asymmetric_every_transform_distinct() -> None:
    img = imagegen.asymmetric()
    assert imagegen.quadrants(img) == ("red", "green", "blue", "yellow")
    seen = {(imagegen.quadrants(img.transpose(t)), img.transpose(t).size) for t in T}
    seen.add((imagegen.quadrants(img), img.size))
    assert len(seen) == 8
    assert len({q for q, _ in seen}) == 8  # quadrants alone identify the transform


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_displays_as_original(tmp_path: Path, orientation: int) -> None:
    img = imagegen.asymmetric()
    path = imagegen.save_with_orientation(img, tmp_path / "o.jpg", orientation)
    with Image.open(path) as im:
        assert im.getexif()[imagegen.ORIENTATION] == orientation
        assert im.size == (img.size if orientation < 5 else img.size[::-1])
        stored = imagegen.quadrants(im)
        shown = ImageOps.exif_transpose(im)
    assert imagegen.quadrants(shown) == imagegen.quadrants(img)
    assert (stored == imagegen.quadrants(img)) == (orientation == 1)


def test_orientation_zero_and_missing(tmp_path: Path) -> None:
    img = imagegen.asymmetric()
    with Image.open(imagegen.save_with_orientation(img, tmp_path / "z.jpg", 0)) as im:
        assert im.getexif()[imagegen.ORIENTATION] == 0
        assert imagegen.quadrants(im) == imagegen.quadrants(img)
    with Image.open(imagegen.save_with_orientation(img, tmp_path / "m.jpg", "missing")) as im:
        assert "exif" not in im.info
        assert imagegen.ORIENTATION not in im.getexif()


def test_orientation_garbage_warns_in_open(tmp_path: Path) -> None:
    path = imagegen.save_with_orientation(imagegen.asymmetric(), tmp_path / "g.jpg", "garbage")
    # pyproject turns warnings into errors, so callers must expect this one.
    with pytest.warns(UserWarning, match="Corrupt EXIF"):
        im = Image.open(path)
    with im:
        assert im.info["exif"] == imagegen.GARBAGE_EXIF
        assert dict(im.getexif()) == {}
        assert im.size == (120, 80)


def test_png16_gray(tmp_path: Path) -> None:
    path = imagegen.png16_gray(tmp_path / "g16.png", (64, 8))
    assert ihdr(path) == (64, 8, 16, 0)
    with Image.open(path) as im:
        assert im.mode == "I;16"
        assert (im.getpixel((0, 0)), im.getpixel((63, 7))) == (0, 65535)


def test_png16_rgb_is_16_bit_but_opens_as_8_bit(tmp_path: Path) -> None:
    path = imagegen.png16_rgb(tmp_path / "rgb16.png", (64, 8))
    assert ihdr(path) == (64, 8, 16, 2)
    assert [k for k, _ in png_chunks(path.read_bytes())] == [b"IHDR", b"IDAT", b"IEND"]
    with Image.open(path) as im:
        assert im.mode == "RGB"  # Pillow keeps only the high byte of each sample
        assert im.getpixel((0, 0)) == (0, 0x40, 0xC0)
        assert im.getpixel((63, 7)) == (255, 0x40, 0xC0)


def test_cmyk_jpeg_round_trip_and_inversion(tmp_path: Path) -> None:
    icc = iccgen.cmyk_profile()
    path = imagegen.cmyk_jpeg(tmp_path / "c.jpg", icc=icc)
    with Image.open(path) as im:
        assert im.mode == "CMYK"
        assert "adobe" in im.info
        assert close(im.getpixel((10, 10)), (0, 255, 255, 0), 2)  # type: ignore[arg-type]
        srgb = ImageCms.createProfile("sRGB")
        out = ImageCms.profileToProfile(
            im, iccgen.load(im.info["icc_profile"]), srgb, outputMode="RGB"
        )
    assert out is not None
    r, g, b = out.getpixel((10, 10))  # type: ignore[misc]
    assert (r > 200, g < 80, b < 80) == (True, True, True)
    # Pillow decodes every CMYK JPEG as "CMYK;I" (Adobe polarity), APP14 marker or not.
    # Decoding the same samples without inversion shows the file stores inverted ink.
    with Image.open(path) as im:
        tile = im.tile[0]
        assert isinstance(tile.args, tuple)
        assert tile.args[0] == "CMYK;I"
        im.tile = [tile._replace(args=("CMYK", *tile.args[1:]))]
        im.load()
        assert close(im.getpixel((10, 10)), (255, 0, 0, 255), 2)  # type: ignore[arg-type]


def test_jpeg_with_gps(tmp_path: Path) -> None:
    with Image.open(imagegen.jpeg_with_gps(tmp_path / "gps.jpg")) as im:
        exif = im.getexif()
        gps = exif.get_ifd(0x8825)
        xmp = im.info["xmp"]
    assert exif[0x010F] == "ThumbgenTestCam"
    assert exif[imagegen.ORIENTATION] == 1
    assert gps[1] == "N"
    assert tuple(float(v) for v in gps[2]) == pytest.approx(imagegen.GPS_LATITUDE)
    assert imagegen.XMP_MARKER.encode() in xmp
    assert b"exif:GPSLatitude" in xmp


def test_transparency_variants(tmp_path: Path) -> None:
    with Image.open(imagegen.transparent_png(tmp_path / "a.png")) as im:
        assert im.mode == "RGBA"
        assert (im.getpixel((0, 0)), im.getpixel((63, 63))) == ((255, 0, 255, 0), (0, 0, 255, 255))
    with Image.open(imagegen.palette_transparent_png(tmp_path / "p.png")) as im:
        assert im.mode == "P"
        assert im.info["transparency"] == 0
        rgba = im.convert("RGBA")
        assert (rgba.getpixel((0, 0))[3], rgba.getpixel((63, 0))[3]) == (0, 255)  # type: ignore[index]
    with Image.open(imagegen.la_png(tmp_path / "la.png")) as im:
        assert im.mode == "LA"
        assert im.getchannel("A").getextrema() == (0, 255)
        assert im.getpixel((0, 0)) == (128, 0)
    with Image.open(imagegen.one_bit_png(tmp_path / "1.png")) as im:
        assert im.mode == "1"
        assert (im.getpixel((0, 0)), im.getpixel((63, 0))) == (0, 255)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated(tmp_path: Path, fmt: str) -> None:
    with Image.open(imagegen.animated(tmp_path / f"anim.{fmt.lower()}", fmt)) as im:  # type: ignore[arg-type]
        assert im.format == fmt
        assert getattr(im, "is_animated", False)
        assert getattr(im, "n_frames", 1) == 3
        colours = []
        for i in range(3):
            im.seek(i)
            colours.append(im.convert("RGB").getpixel((5, 5)))
    assert tuple(colours) == imagegen.FRAME_COLOURS


def test_truncated_jpeg(tmp_path: Path) -> None:
    with Image.open(imagegen.truncated_jpeg(tmp_path / "t.jpg")) as im:
        assert im.size == (2000, 1500)
        with pytest.raises(OSError, match="truncated"):
            im.load()


def test_huge_header_png(tmp_path: Path) -> None:
    path = imagegen.huge_header_png(tmp_path / "huge.png")
    assert path.stat().st_size < 1000
    assert ihdr(path)[:2] == (100_000, 100_000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)
    # Between 1x and 2x MAX_IMAGE_PIXELS (89.5 MP) Pillow only warns (an error under pytest here).
    big = imagegen.huge_header_png(tmp_path / "big.png", 10_000, 10_000)
    with pytest.warns(Image.DecompressionBombWarning):
        im = Image.open(big)
    with im:
        assert im.size == (10_000, 10_000)


def test_misnamed_files(tmp_path: Path) -> None:
    with pytest.raises(UnidentifiedImageError):
        Image.open(imagegen.text_as_jpg(tmp_path / "text.jpg"))
    with Image.open(imagegen.png_named_jpg(tmp_path / "png.jpg")) as im:
        assert im.format == "PNG"
        assert imagegen.quadrants(im) == ("red", "green", "blue", "yellow")


def test_write_jpegs_gives_every_file_its_own_content(tmp_path: Path) -> None:
    paths = imagegen.write_jpegs(tmp_path, 300)
    assert len({p.read_bytes() for p in paths}) == 300
