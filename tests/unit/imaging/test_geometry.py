"""Geometry: sizes, fits, crops and the decode target, as pure arithmetic."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from thumbgen.imaging import geometry
from thumbgen.options import Crop, Fit, OutputSpec, parse_size


def spec(
    size: str, fit: Fit = Fit.CONTAIN, *, upscale: bool = False, crop: Crop = "center"
) -> OutputSpec:
    return OutputSpec(size=parse_size(size), fit=fit, upscale=upscale, crop=crop)


@pytest.mark.parametrize(
    ("size", "fit", "source", "final"),
    [
        # contain: fit inside, keep the ratio
        ("256", Fit.CONTAIN, (1000, 500), (256, 128)),
        ("256", Fit.CONTAIN, (500, 1000), (128, 256)),
        ("320x240", Fit.CONTAIN, (1000, 1000), (240, 240)),
        # one free side: only the other side counts, whatever the fit
        ("320x", Fit.CONTAIN, (1000, 500), (320, 160)),
        ("x240", Fit.CONTAIN, (1000, 500), (480, 240)),
        ("320x", Fit.COVER, (1000, 500), (320, 160)),
        ("x240", Fit.PAD, (1000, 500), (480, 240)),
        # cover: exactly the box
        ("320x240", Fit.COVER, (1000, 1000), (320, 240)),
        ("256", Fit.COVER, (1000, 300), (256, 256)),
        # pad: exactly the box
        ("320x240", Fit.PAD, (1000, 1000), (320, 240)),
        # fill: exactly the box, ratio ignored
        ("320x240", Fit.FILL, (1000, 1000), (320, 240)),
    ],
)
def test_final_size(size: str, fit: Fit, source: tuple[int, int], final: tuple[int, int]) -> None:
    assert geometry.plan(spec(size, fit), *source).final == final


def test_cover_resizes_to_cover_then_crops_the_box() -> None:
    plan = geometry.plan(spec("320x240", Fit.COVER), 1000, 1000)
    assert plan.resize == (320, 320)
    assert plan.crop == (320, 240)


def test_pad_centres_the_contained_picture_on_the_box() -> None:
    plan = geometry.plan(spec("320x240", Fit.PAD), 1000, 500)
    assert plan.resize == (320, 160)
    assert plan.canvas == (320, 240)


@pytest.mark.parametrize(
    ("size", "fit", "final"),
    [
        ("256", Fit.CONTAIN, (100, 50)),
        ("320x", Fit.CONTAIN, (100, 50)),
        ("x240", Fit.CONTAIN, (100, 50)),
        ("256", Fit.FILL, (100, 50)),
        # pad keeps the picture at its size but still fills the exact box
        ("256", Fit.PAD, (256, 256)),
        # cover without upscale: the largest window of the box's shape
        ("200x100", Fit.COVER, (100, 50)),
        ("256", Fit.COVER, (50, 50)),
    ],
)
def test_small_sources_are_not_enlarged(size: str, fit: Fit, final: tuple[int, int]) -> None:
    plan = geometry.plan(spec(size, fit), 100, 50)
    assert plan.final == final
    assert plan.resize[0] <= 100
    assert plan.resize[1] <= 50


@pytest.mark.parametrize(
    ("size", "fit", "final"),
    [
        ("256", Fit.CONTAIN, (256, 128)),
        ("320x", Fit.CONTAIN, (320, 160)),
        ("x240", Fit.CONTAIN, (480, 240)),
        ("256", Fit.COVER, (256, 256)),
        ("256", Fit.FILL, (256, 256)),
    ],
)
def test_upscale_enlarges_when_asked(size: str, fit: Fit, final: tuple[int, int]) -> None:
    assert geometry.plan(spec(size, fit, upscale=True), 100, 50).final == final


def test_extreme_ratio_never_gives_a_zero_side() -> None:
    assert geometry.plan(spec("256"), 100_000, 10).final == (256, 1)


def test_decode_target_serves_the_largest_output_on_each_side() -> None:
    plans = [
        geometry.plan(spec("320x", Fit.CONTAIN), 4000, 1000),
        geometry.plan(spec("x240"), 4000, 1000),
    ]
    # 320x80 and 960x240: the decode must serve both
    assert geometry.decode_target(plans) == (960, 240)


def _wide_with_detail_on(side: str) -> Image.Image:
    """300x100: flat grey, with noise on the left or right third."""
    im = Image.new("L", (300, 100), 128)
    noise = Image.effect_noise((100, 100), 80)
    im.paste(noise, (0 if side == "left" else 200, 0))
    return im


@pytest.mark.parametrize(("side", "left"), [("left", 0), ("right", 200)])
def test_entropy_crop_keeps_the_detailed_part(side: str, left: int) -> None:
    im = _wide_with_detail_on(side)
    assert geometry.crop_origin(im, (100, 100), "entropy") == (left, 0)


def test_entropy_crop_works_vertically() -> None:
    im = _wide_with_detail_on("right").transpose(
        Image.Transpose.TRANSPOSE
    )  # 100x300, detail at the bottom
    assert geometry.crop_origin(im, (100, 100), "entropy") == (0, 200)


@pytest.mark.parametrize(
    ("crop", "origin"),
    [
        ("center", (100, 50)),
        ((0.0, 0.0), (0, 0)),
        ((1.0, 1.0), (200, 100)),
        ((0.5, 0.5), (100, 50)),
        # the window is centred on the point, then kept inside the picture
        ((0.25, 0.5), (25, 50)),
    ],
)
def test_crop_origin_center_and_focal_point(crop: Crop, origin: tuple[int, int]) -> None:
    im = Image.new("RGB", (300, 200))
    assert geometry.crop_origin(im, (100, 100), crop) == origin


def test_entropy_crop_finds_a_small_subject() -> None:
    # A dot of detail far off-centre: centre crop would miss it, entropy must not.
    im = Image.new("L", (400, 100), 200)
    ImageDraw.Draw(im).rectangle((20, 20, 60, 80), fill=0)
    left, _ = geometry.crop_origin(im, (100, 100), "entropy")
    assert left <= 20
    assert left + 100 >= 60
