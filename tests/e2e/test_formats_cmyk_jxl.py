"""CMYK JPEG XL: the black channel is printed, against libvips's render of the same inks.

A CMYK JPEG XL keeps black in an extra channel that pillow-jxl-plugin drops:
black text vanished and colours shifted. The files are written through the
system libjxl's encoder (:mod:`support.jxlgen`). The expected picture is
libvips's: the same CMYK samples saved as a CMYK TIFF with the same profile,
converted by ``vips icc_transform`` with black point compensation, as
thumbgen converts every profile. libjxl's own djxl is
no reference here: before 0.12 it drops the black channel too (libjxl #4301).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from support import iccgen, imagegen, jxlgen
from support.needs import missing
from support.procs import run_thumbgen
from support.thumbs import UPRIGHT, load, mean_difference, one, opts

from thumbgen.errors import CorruptImage, UnsupportedImage
from thumbgen.imaging import jxl, libjxl
from thumbgen.imaging.colour import default_cmyk_profile
from thumbgen.thumbnailing import make_thumbnails

pytest.importorskip("pillow_jxl")

#: Text-like black bars over coloured inks and paper white, 120x80.
SIZE = (120, 80)
BLACK_BAR = (10, 20, 110, 34)


@pytest.fixture(autouse=True)
def _needs_libjxl() -> None:
    if not jxlgen.available():
        missing("no system libjxl (apt-get install -y libjxl-tools, as .ci/run does)")


def inks() -> Image.Image:
    """Cyan, magenta, yellow and rich colours, with pure black (K only) text bars."""
    im = Image.new("CMYK", SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, 59, 79), fill=(0, 180, 200, 0))
    draw.rectangle((60, 0, 119, 79), fill=(200, 40, 0, 30))
    draw.rectangle((30, 50, 90, 79), fill=(20, 20, 230, 0))
    draw.rectangle(BLACK_BAR, fill=(0, 0, 0, 255))
    draw.rectangle((10, 40, 50, 44), fill=(0, 0, 0, 255))
    return im


def vips_reference(cmyk: Image.Image, icc: bytes, tmp_path: Path, intent: str) -> Image.Image:
    if shutil.which("vips") is None:
        missing("vips is missing (apt-get install -y libvips-tools, as .ci/run does)")
    tiff = tmp_path / "same-inks.tif"
    cmyk.save(tiff, icc_profile=icc)
    out = tmp_path / "vips.png"
    command = ["vips", "icc_transform", str(tiff), str(out), "srgb", "--embedded"]
    command += ["--intent", intent, "--black-point-compensation"]
    subprocess.run(command, check=True, capture_output=True)
    return load(out).convert("RGB")


# thumbgen converts with the relative colorimetric intent. LittleCMS falls back to
# a profile's perceptual table (A2B0) when it has no colorimetric one (A2B1), as
# the toy profile has none; libvips refuses the intent instead and uses its own
# default CMYK profile, so the reference asks it for the table the profile has.
PROFILES = {
    "swop-profile": (default_cmyk_profile, "relative"),
    "toy-profile": (iccgen.cmyk_profile, "perceptual"),
}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_cmyk_jpeg_xl_prints_its_black_channel(tmp_path: Path, profile: str) -> None:
    make_profile, intent = PROFILES[profile]
    icc = make_profile()
    picture = inks()
    src = tmp_path / "inks.jxl"
    src.write_bytes(jxlgen.encode_cmyk(picture, icc))
    with open(src, "rb") as f:
        assert jxl.extra_channels(f) == (libjxl.CHANNEL_BLACK,)
    out = load(one(src, opts(tmp_path, ("120",), format="png")).path).convert("RGB")
    expected = vips_reference(picture, icc, tmp_path, intent)
    assert out.size == expected.size == SIZE
    assert mean_difference(out, expected) < 1.5
    bar = out.crop(BLACK_BAR).convert("L")
    assert bar.getextrema()[1] < 60, "the black bar must be dark, not the paper white"


def test_a_cmyk_jpeg_xl_with_alpha_keeps_its_transparency(tmp_path: Path) -> None:
    icc = iccgen.cmyk_profile()
    picture = inks()
    alpha = Image.new("L", SIZE, 255)
    ImageDraw.Draw(alpha).rectangle((0, 60, 119, 79), fill=0)
    src = tmp_path / "inks-alpha.jxl"
    src.write_bytes(jxlgen.encode_cmyk(picture, icc, alpha=alpha))
    with open(src, "rb") as f:
        assert jxl.extra_channels(f) == (libjxl.CHANNEL_BLACK, libjxl.CHANNEL_ALPHA)
    out = load(one(src, opts(tmp_path, ("120",), format="png")).path)
    assert out.mode == "RGBA"
    assert out.getchannel("A").crop((0, 62, 120, 80)).getextrema() == (0, 0)
    assert out.getchannel("A").crop((0, 0, 120, 58)).getextrema() == (255, 255)
    expected = vips_reference(picture, icc, tmp_path, "perceptual").crop((0, 0, 120, 58))
    assert mean_difference(out.convert("RGB").crop((0, 0, 120, 58)), expected) < 1.5


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_the_codestream_orientation_turns_a_cmyk_jpeg_xl(tmp_path: Path, orientation: int) -> None:
    upright = imagegen.asymmetric(SIZE)
    stored = imagegen.stored(upright, orientation).convert("CMYK")
    src = tmp_path / "turned.jxl"
    src.write_bytes(jxlgen.encode_cmyk(stored, iccgen.cmyk_profile(), orientation=orientation))
    out = load(one(src, opts(tmp_path, ("120",), format="png")).path)
    assert out.size == SIZE
    assert imagegen.quadrants(out) == UPRIGHT


def test_a_cut_cmyk_jpeg_xl_fails_in_one_line(tmp_path: Path) -> None:
    whole = jxlgen.encode_cmyk(inks(), iccgen.cmyk_profile())
    src = tmp_path / "cut.jxl"
    src.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(CorruptImage) as caught:
        make_thumbnails(str(src), opts(tmp_path))
    message = str(caught.value)
    assert message.startswith("Corrupt image: ")
    assert "cut.jxl is a JPEG XL" in message
    assert "\n" not in message


def test_without_a_system_libjxl_a_cmyk_jpeg_xl_is_refused_not_shown_without_black(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a machine where no libjxl is installed (pillow-jxl-plugin carries its own,
    # which cannot give the black channel): the file fails in one line, no thumbnail.
    src = tmp_path / "inks.jxl"
    src.write_bytes(jxlgen.encode_cmyk(inks(), iccgen.cmyk_profile()))
    monkeypatch.setattr(libjxl, "library", lambda: None)
    with pytest.raises(UnsupportedImage) as caught:
        make_thumbnails(str(src), opts(tmp_path))
    assert str(caught.value) == (
        f"Unsupported image: {src} (unsupported: a CMYK JPEG XL, "
        "whose black channel needs the system libjxl 0.7 or newer)"
    )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_worker_shows_one_line_for_a_damaged_cmyk_jpeg_xl_and_no_libjxl_noise(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # Debian's libjxl prints a source line per failure ("./lib/jxl/decode.cc:2143:
    # missing input") to standard error, in the middle of the worker's log.
    folder = tmp_path / "prints"
    folder.mkdir()
    whole = jxlgen.encode_cmyk(inks(), iccgen.cmyk_profile())
    (folder / "poster.jxl").write_bytes(whole)
    (folder / "cut.jxl").write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "thumbs"
    assert run_thumbgen("add", str(folder), "-o", str(out), env=env).returncode == 0
    result = run_thumbgen("worker", "--burst", "-w", "1", env=env)
    log = result.stdout + result.stderr
    assert "lib/jxl" not in log
    failed = [line for line in log.splitlines() if " failed: " in line]
    assert len(failed) == 1
    assert "cut.jxl is a JPEG XL its decoder cannot read" in failed[0]
    assert [p.name for p in out.iterdir()] == ["poster_256x256.jpg"]
    poster = load(out / "poster_256x256.jpg").convert("L")
    assert poster.crop(BLACK_BAR).getextrema()[1] < 80  # JPEG ringing aside, black
