"""AVIF and HEIF (ISO-BMFF) against their references: clean aperture, rotation, mirror; refusals.

The files are made by Pillow's AVIF encoder and pillow-heif's HEIC encoder,
then given ``clap``, ``irot`` and ``imir`` properties (:mod:`support.isogen`).
The expected picture is the format's reference decoder's: Debian's
``heif-convert`` (libheif 1.15 with its AV1 plugins: another build and
version than the one pillow-heif bundles, and not the libavif Pillow uses),
which applies the properties in the order the HEIF specification gives:
crop, then rotate, then mirror. Chromium, the browser reference, agrees
where it applies a clean aperture at all: it honours only one anchored at
the picture's top-left corner and shows the whole picture for any other;
there thumbgen follows the specification and libheif, not the browser.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support import isogen
from support.browser import Reference, chromium
from support.imagegen import asymmetric
from support.needs import missing
from support.thumbs import load, mean_difference, one, opts

from thumbgen.errors import CorruptImage, UnsupportedImage
from thumbgen.thumbnailing import make_thumbnails

HEIF_CONVERT = "heif-convert"
#: Off-centre and across the quadrants, so a crop in the wrong place shows.
CLAP = isogen.clap(60, 40, 24, -14)
TRANSFORMS = {
    "clap": [CLAP],
    "clap-irot": [CLAP, isogen.irot(1)],
    "clap-irot-imir": [CLAP, isogen.irot(3), isogen.imir(1)],
    "clap-imir": [CLAP, isogen.imir(0)],
}


@pytest.fixture(scope="module")
def reference() -> Iterator[Reference]:
    with chromium() as ref:
        yield ref


def _encoded(path: Path, kind: str) -> bytes:
    picture = asymmetric((128, 96))
    if kind == "avif":
        picture.save(path, "AVIF", quality=95)
    else:
        import pillow_heif

        pillow_heif.register_heif_opener()
        picture.save(path, "HEIF", quality=95)
    return path.read_bytes()


def _heif_convert(src: Path, out: Path) -> Image.Image:
    if shutil.which(HEIF_CONVERT) is None:
        missing("heif-convert is missing (apt-get install -y libheif-examples, as .ci/run does)")
    subprocess.run([HEIF_CONVERT, str(src), str(out)], check=True, capture_output=True)
    return load(out)


@pytest.mark.parametrize("kind", ["avif", "heic"])
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_clean_aperture_rotation_and_mirror_as_the_reference_shows_them(
    tmp_path: Path, kind: str, name: str
) -> None:
    plain = _encoded(tmp_path / f"plain.{kind}", kind)
    src = tmp_path / f"{name}.{kind}"
    src.write_bytes(isogen.add_properties(plain, TRANSFORMS[name]))
    expected = _heif_convert(src, tmp_path / "reference.png")
    # The reference applied the crop: 60x40, or 40x60 once turned.
    assert sorted(expected.size) == [40, 60]
    thumb = one(src, opts(tmp_path, (f"{expected.width}x{expected.height}",), format="png"))
    got = load(thumb.path)
    assert got.size == expected.size
    assert mean_difference(got, expected) < 3


@pytest.mark.parametrize("turn", [[], [isogen.irot(1)]], ids=["upright", "irot"])
def test_an_avif_cropped_at_its_corner_matches_the_browser(
    tmp_path: Path, reference: Reference, turn: list[bytes]
) -> None:
    plain = _encoded(tmp_path / "plain.avif", "avif")
    src = tmp_path / "corner.avif"
    # Top-left 64x48 of 128x96: the centre moves by -32, -24.
    src.write_bytes(isogen.add_properties(plain, [isogen.clap(64, 48, -32, -24), *turn]))
    expected = reference.render(src)
    assert expected is not None
    assert sorted(expected.size) == [48, 64]
    got = load(
        one(src, opts(tmp_path, (f"{expected.width}x{expected.height}",), format="png")).path
    )
    assert got.size == expected.size
    assert mean_difference(got, expected.convert("RGB")) < 3


# --- valid files in variants the bundled decoders cannot read ---------------------------


def test_an_avif_with_a_constant_luminance_matrix_is_unsupported_not_corrupt(
    tmp_path: Path, reference: Reference
) -> None:
    src = tmp_path / "hdr.avif"
    src.write_bytes(isogen.set_matrix(_encoded(tmp_path / "plain.avif", "avif"), 10))
    # chromium (libavif too) cannot convert it either: it draws nothing.
    drawn = reference.render(src)
    assert drawn is None or drawn.getchannel("A").getextrema() == (0, 0)
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == (
        f"Unsupported image: {src} (unsupported: AVIF with the BT.2020 constant-luminance "
        "colour matrix (matrix coefficients 10), which libavif cannot convert)"
    )


@pytest.mark.parametrize(
    ("coding", "what"),
    [
        (b"avc1", "H.264 (AVC) coded HEIF"),
        (b"jpeg", "JPEG-coded HEIF"),
        (b"j2k1", "JPEG 2000 coded HEIF"),
        (b"vvc1", "H.266 (VVC) coded HEIF"),
    ],
)
def test_a_heif_in_a_coding_libheif_lacks_is_unsupported(
    tmp_path: Path, coding: bytes, what: str
) -> None:
    src = tmp_path / "other.heic"
    src.write_bytes(isogen.with_item_type(_encoded(tmp_path / "plain.heic", "heic"), coding))
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == f"Unsupported image: {src} (unsupported: {what})"


def test_an_uncompressed_heif_is_decoded_or_named(tmp_path: Path) -> None:
    # libheif decodes ISO/IEC 23001-17 only when built with it; pillow-heif 1.9's
    # wheels are not ("Image item of type 'unci' is not supported"). Decode it when
    # the bundled libheif can, else say what it is.
    import pillow_heif

    picture = asymmetric((64, 48))
    src = tmp_path / "raw.heif"
    src.write_bytes(isogen.uncompressed_heif(picture))
    try:
        can = bool(pillow_heif.open_heif(src, convert_hdr_to_8bit=True))
    except Exception:
        can = False
    if can:
        got = load(one(src, opts(tmp_path, ("64x48",), format="png")).path)
        assert mean_difference(got, picture) < 1
        return
    with pytest.raises(UnsupportedImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value) == (
        f"Unsupported image: {src} (unsupported: uncompressed HEIF (ISO/IEC 23001-17))"
    )


def test_a_damaged_heif_is_still_corrupt(tmp_path: Path) -> None:
    good = _encoded(tmp_path / "plain.heic", "heic")
    at = good.index(b"mdat") + 8
    src = tmp_path / "broken.heic"
    src.write_bytes(good[:at] + bytes(len(good) - at))  # the HEVC data zeroed
    with pytest.raises(CorruptImage) as info:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(info.value).startswith(f"Corrupt image: {src}")
    assert "unsupported" not in str(info.value)
