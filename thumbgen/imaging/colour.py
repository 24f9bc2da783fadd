"""Colour: bring any decoded image to 8-bit sRGB (L, LA, RGB or RGBA).

Embedded ICC profiles are converted to sRGB so that wide-gamut and CMYK
pictures keep their visible colour once the profile is dropped. Building a
transform costs 10-60 ms while applying it to a thumbnail-sized image costs
1-2 ms, so transforms are cached per profile.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageCms

from thumbgen.errors import UnsupportedImage

#: Modes the resizing and encoding steps accept.
WORKING_MODES = ("L", "LA", "RGB", "RGBA")

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def to_srgb(im: Image.Image, source: str) -> Image.Image:
    """Return ``im`` as 8-bit sRGB in one of :data:`WORKING_MODES`.

    16-bit data is scaled down (not clipped), palettes are expanded keeping
    their transparency, CMYK becomes RGB through its profile when it has one.
    A profile that cannot be used is ignored: the plain pixels are still a
    better thumbnail than no thumbnail.
    """
    icc = im.info.get("icc_profile")
    try:
        im = _to_8bit(im, source)
    except (ValueError, OSError) as exc:
        raise UnsupportedImage(f"Unsupported image mode {im.mode} in {source} ({exc})") from None
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        converted = _apply_profile(im, icc)
        if converted is not None:
            im = converted
    if im.mode == "CMYK":
        im = im.convert("RGB")
    if im.mode not in WORKING_MODES:
        raise UnsupportedImage(f"Unsupported image mode {im.mode} in {source}")
    return im


def has_transparency(im: Image.Image) -> bool:
    """True when an alpha channel holds at least one pixel that is not opaque."""
    if im.mode not in ("LA", "RGBA"):
        return False
    low, _ = im.getchannel("A").getextrema()
    assert isinstance(low, int)  # single 8-bit band
    return low < 255


def _to_8bit(im: Image.Image, source: str) -> Image.Image:
    mode = im.mode
    if mode in ("L", "RGB") and im.info.get("transparency") is not None:
        # A PNG tRNS colour key (or a GIF-like transparent grey) is real
        # transparency: it must survive as alpha, not vanish.
        return im.convert("LA" if mode == "L" else "RGBA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if transparent else "RGB")
    if mode in ("RGBX", "YCbCr", "LAB", "HSV"):
        return im.convert("RGB")
    if mode == "La":
        return im.convert("LA")
    if mode == "RGBa":
        return im.convert("RGBA")
    if mode.startswith("I;16") or mode == "I":
        return _scale_16bit(im)
    if mode == "F":
        # Float images carry no standard range; clip to 0..255 like other tools do.
        return im.convert("L")
    raise UnsupportedImage(f"Unsupported image mode {mode} in {source}")


def _scale_16bit(im: Image.Image) -> Image.Image:
    # convert("L") would clip 16-bit values at 255; divide by 257 instead so
    # 0..65535 maps onto 0..255. Mode "I" from 16-bit PNGs holds the same range.
    if im.mode != "I":
        im = im.convert("I")
    return im.point(lambda v: v / 257).convert("L")


def _apply_profile(im: Image.Image, icc: bytes) -> Image.Image | None:
    out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
    transform = _transform(icc, im.mode, out_mode)
    if transform is None:
        return None
    try:
        result = ImageCms.applyTransform(im, transform)
    except (ImageCms.PyCMSError, ValueError, OSError):
        return None
    assert result is not None
    result.info.pop("icc_profile", None)
    return result


@functools.lru_cache(maxsize=32)
def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    # Relative colorimetric with black point compensation, as libvips does:
    # in-gamut colours stay exact, out-of-gamut ones clip to the nearest.
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(
            profile,
            _SRGB,
            in_mode,
            out_mode,
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
