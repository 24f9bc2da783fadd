"""Sizes, fits and crops on real files: the box, the background, where cover cuts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat
from support import imagegen
from support.thumbs import UPRIGHT, load, one, opts, rgb_at


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
