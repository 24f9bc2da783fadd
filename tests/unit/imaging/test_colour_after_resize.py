"""Colour after resizing: the same thumbnail as converting first, for a fraction of the work."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageCms, ImageFilter, ImageStat
from support import iccgen, imagegen
from support.thumbs import load, one, opts

from thumbgen.imaging import colour


def _photo(size: tuple[int, int]) -> Image.Image:
    """A photo-like picture: smooth gradients of saturated colours plus some texture."""
    w, h = size
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.effect_noise(size, 60).filter(ImageFilter.GaussianBlur(3))
    im = Image.merge("RGB", (red, green, blue))
    # Some sharp edges too: converting before or after resizing differs most there.
    for i in range(0, w, w // 6):
        im.paste((230, 20, 40), (i, h // 3, i + w // 24, h // 2))
    return im


def _old_path(src: Path, size: tuple[int, int], icc: bytes) -> Image.Image:
    """What thumbgen did before: convert the whole decoded picture, then resize."""
    with Image.open(src) as im:
        im.draft("RGB", (size[0] * 2, size[1] * 2))
        im.load()
        srgb = ImageCms.profileToProfile(
            im,
            ImageCms.ImageCmsProfile(iccgen.load(icc).profile),
            ImageCms.createProfile("sRGB"),
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
            outputMode="RGB",
        )
    assert srgb is not None
    return srgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def test_display_p3_photo_matches_converting_first_within_one_level(tmp_path: Path) -> None:
    icc = iccgen.display_p3()
    src = imagegen.tagged(_photo((1600, 1200)), tmp_path / "p3.jpg", icc, "JPEG")
    out = load(one(src, opts(tmp_path, ("200",), format="png")).path)
    old = _old_path(src, out.size, icc)
    diff = ImageChops.difference(out.convert("RGB"), old)
    # Mean difference per channel within 1/255 (measured: 0.19-0.43).
    assert max(ImageStat.Stat(diff).mean) <= 1.0, ImageStat.Stat(diff).mean
    # Larger differences only along hard saturated edges, where Lanczos ringing
    # is clipped in the other colour space: about 1% of the samples here are
    # off by more than 2 levels (up to 45 on the red bars' edges).
    off = sum(sum(band.histogram()[3:]) for band in diff.split())
    assert off / (3 * out.width * out.height) <= 0.03


def test_srgb_named_profiles_need_no_transform() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert colour._srgb_equivalent(srgb, "RGB")
    assert not colour._srgb_equivalent(iccgen.display_p3(), "RGB")
    assert not colour._srgb_equivalent(iccgen.adobe_rgb(), "RGB")


def test_deferred_transform_is_only_for_rgb_with_a_wide_profile() -> None:
    p3 = Image.new("RGB", (4, 4), (200, 30, 40))
    p3.info["icc_profile"] = iccgen.display_p3()
    pixels, transform = colour.to_srgb_later(p3, "p3.jpg")
    assert transform is not None
    assert "icc_profile" not in pixels.info
    assert colour.finish(pixels, transform).getpixel((0, 0)) != (200, 30, 40)

    srgb = Image.new("RGB", (4, 4), (200, 30, 40))
    srgb.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels, transform = colour.to_srgb_later(srgb, "s.jpg")
    assert transform is None
    assert pixels.getpixel((0, 0)) == (200, 30, 40)

    grey = Image.new("L", (4, 4), 30)
    grey.info["icc_profile"] = iccgen.grey_profile()
    pixels, transform = colour.to_srgb_later(grey, "g.png")
    assert transform is None
    assert "icc_profile" not in pixels.info


def test_broken_profile_is_not_deferred() -> None:
    im = Image.new("RGB", (4, 4), (200, 10, 10))
    im.info["icc_profile"] = b"not a profile" * 10
    pixels, transform = colour.to_srgb_later(im, "b.png")
    assert transform is None
    assert pixels.getpixel((0, 0)) == (200, 10, 10)
