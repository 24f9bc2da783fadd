"""Colour: every decoded mode becomes 8-bit sRGB without losing range or alpha."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image
from support import iccgen, imagegen

from thumbgen.imaging import colour

# JPEG and 8-bit rounding through a colour transform: a few levels.
TOL = 4


def close(a: object, b: tuple[int, ...], tol: int = TOL) -> bool:
    assert isinstance(a, tuple)
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def pixel(im: Image.Image, xy: tuple[int, int] = (0, 0)) -> tuple[int, ...]:
    px = im.getpixel(xy)
    assert isinstance(px, tuple)
    return px


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda: Image.new("1", (4, 4), 1), "L"),
        (lambda: Image.new("L", (4, 4), 9), "L"),
        (lambda: Image.new("LA", (4, 4), (9, 100)), "LA"),
        (lambda: Image.new("RGB", (4, 4)), "RGB"),
        (lambda: Image.new("RGBA", (4, 4)), "RGBA"),
        (lambda: Image.new("RGBX", (4, 4)), "RGB"),
        (lambda: Image.new("YCbCr", (4, 4)), "RGB"),
        (lambda: Image.new("CMYK", (4, 4)), "RGB"),
        (lambda: Image.new("P", (4, 4)), "RGB"),
        (lambda: Image.new("PA", (4, 4)), "RGBA"),
        (lambda: Image.new("La", (4, 4)), "LA"),
        (lambda: Image.new("RGBa", (4, 4)), "RGBA"),
        (lambda: Image.new("I;16", (4, 4)), "L"),
        (lambda: Image.new("I;16B", (4, 4)), "L"),
        (lambda: Image.new("I", (4, 4)), "L"),
        (lambda: Image.new("F", (4, 4)), "L"),
    ],
)
def test_every_mode_ends_in_a_working_mode(make: Callable[[], Image.Image], mode: str) -> None:
    assert colour.to_srgb(make(), "x.png").mode == mode


def test_one_bit_keeps_black_and_white() -> None:
    im = Image.new("1", (2, 1), 0)
    im.putpixel((1, 0), 1)
    out = colour.to_srgb(im, "x.png")
    assert (out.getpixel((0, 0)), out.getpixel((1, 0))) == (0, 255)


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_16_bit_is_scaled_not_clipped(mode: str) -> None:
    # 0, 1000, 32768, 65535: clipping would give 0, 255, 255, 255.
    values = (0, 1000, 32768, 65535)
    im = Image.new(mode, (4, 1))
    for x, v in enumerate(values):
        im.putpixel((x, 0), v)
    out = colour.to_srgb(im, "x.png")
    assert [out.getpixel((x, 0)) for x in range(4)] == [0, 3, 127, 255]


def test_16_bit_png_gradient_spans_the_full_8_bit_range(tmp_path: object) -> None:
    path = imagegen.png16_gray(f"{tmp_path}/g.png", (256, 2))
    with Image.open(path) as im:
        assert im.mode == "I;16"
        out = colour.to_srgb(im, str(path))
    assert out.getextrema() == (0, 255)
    # monotonic and every level present: a real gradient, not a clipped ramp
    assert [out.getpixel((x, 0)) for x in range(256)] == list(range(256))


def test_palette_transparency_becomes_alpha(tmp_path: object) -> None:
    path = imagegen.palette_transparent_png(f"{tmp_path}/p.png")
    with Image.open(path) as im:
        out = colour.to_srgb(im, str(path))
    assert out.mode == "RGBA"
    assert pixel(out, (0, 0))[3] == 0
    assert pixel(out, (63, 0)) == (0, 200, 0, 255)


@pytest.mark.parametrize(
    ("mode", "key", "alpha_mode"), [("RGB", (255, 0, 255), "RGBA"), ("L", 7, "LA")]
)
def test_colour_key_transparency_becomes_alpha(
    tmp_path: object, mode: str, key: object, alpha_mode: str
) -> None:
    # PNG tRNS on a truecolour or grey image: the keyed pixels are transparent.
    im = Image.new(mode, (4, 1), key)  # type: ignore[arg-type]
    im.putpixel((3, 0), (0, 0, 255) if mode == "RGB" else 200)
    im.save(f"{tmp_path}/k.png", transparency=key)
    with Image.open(f"{tmp_path}/k.png") as loaded:
        out = colour.to_srgb(loaded, "k.png")
    assert out.mode == alpha_mode
    assert out.getchannel("A").getpixel((0, 0)) == 0
    assert out.getchannel("A").getpixel((3, 0)) == 255


@pytest.mark.parametrize("make_profile", [iccgen.display_p3, iccgen.adobe_rgb], ids=["p3", "adobe"])
@pytest.mark.parametrize("srgb", [(220, 30, 40), (30, 180, 60), (128, 128, 128)])
def test_wide_gamut_shows_the_same_srgb_colour(
    make_profile: Callable[[], bytes], srgb: tuple[int, int, int]
) -> None:
    icc = make_profile()
    encoded = iccgen.from_srgb(srgb, icc)
    im = Image.new("RGB", (4, 4), encoded)
    im.info["icc_profile"] = icc
    out = colour.to_srgb(im, "p3.png")
    assert close(pixel(out), srgb)
    assert "icc_profile" not in out.info  # the pixels are sRGB now


def test_p3_red_would_be_dull_without_conversion() -> None:
    # Guards the test above: the encoded values really differ from the sRGB ones.
    assert not close(iccgen.from_srgb((220, 30, 40), iccgen.display_p3()), (220, 30, 40), 10)


def test_alpha_survives_a_profile_conversion() -> None:
    icc = iccgen.display_p3()
    r, g, b = iccgen.from_srgb((220, 30, 40), icc)
    im = Image.new("RGBA", (4, 4), (r, g, b, 77))
    im.info["icc_profile"] = icc
    out = colour.to_srgb(im, "p3.png")
    assert out.mode == "RGBA"
    assert close(pixel(out), (220, 30, 40, 77))


@pytest.mark.parametrize(
    ("cmyk", "rgb", "press"),
    [
        ((0, 255, 255, 0), (255, 0, 0), (231, 0, 17)),
        ((255, 0, 255, 0), (0, 255, 0), (0, 140, 51)),
        ((0, 0, 0, 255), (0, 0, 0), (12, 0, 19)),
    ],
)
@pytest.mark.parametrize("with_profile", [False, True])
def test_cmyk_becomes_its_rgb_colour(
    cmyk: tuple[int, int, int, int],
    rgb: tuple[int, int, int],
    press: tuple[int, int, int],
    with_profile: bool,
) -> None:
    # With the toy profile (ink = 1 - channel) the colours are the pure ones;
    # without a profile the default press profile gives what ink on paper shows.
    im = Image.new("CMYK", (4, 4), cmyk)
    if with_profile:
        im.info["icc_profile"] = iccgen.cmyk_profile()
    out = colour.to_srgb(im, "c.jpg")
    assert out.mode == "RGB"
    assert close(pixel(out), rgb if with_profile else press, 6)


@pytest.mark.parametrize(
    "icc",
    [
        b"garbage" * 20,
        iccgen.display_p3()[:200],  # cut short
        iccgen.cmyk_profile(),  # a CMYK profile on RGB pixels
    ],
    ids=["garbage", "truncated", "wrong-space"],
)
def test_broken_profile_falls_back_to_the_plain_pixels(icc: bytes) -> None:
    im = Image.new("RGB", (4, 4), (200, 10, 10))
    im.info["icc_profile"] = icc
    assert pixel(colour.to_srgb(im, "b.png")) == (200, 10, 10)


def test_transforms_are_cached_per_profile() -> None:
    colour._transform.cache_clear()
    icc = iccgen.adobe_rgb()
    for _ in range(3):
        im = Image.new("RGB", (4, 4), (10, 20, 30))
        im.info["icc_profile"] = bytes(icc)  # equal content, a new object each time
        colour.to_srgb(im, "a.png")
    info = colour._transform.cache_info()
    assert (info.misses, info.hits) == (1, 2)


@pytest.mark.parametrize(
    ("mode", "value", "transparent"),
    [
        ("RGB", (1, 2, 3), False),
        ("L", 5, False),
        ("RGBA", (1, 2, 3, 255), False),
        ("LA", (5, 255), False),
        ("RGBA", (1, 2, 3, 254), True),
        ("LA", (5, 0), True),
    ],
)
def test_has_transparency_means_a_pixel_that_is_not_opaque(
    mode: str, value: object, transparent: bool
) -> None:
    assert colour.has_transparency(Image.new(mode, (3, 3), value)) is transparent  # type: ignore[arg-type]
