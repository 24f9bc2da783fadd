"""What is written: no metadata, first frames, each output format, quality, names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import UPRIGHT, close, files_under, load, one, opts, rgb_at, sniff_file

from thumbgen.thumbnailing import make_thumbnails

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
    assert sniff_file(thumb.path) == sniffed
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
