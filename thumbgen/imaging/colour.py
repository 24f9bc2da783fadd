"""Colour: bring any decoded image to 8-bit sRGB (L, LA, RGB or RGBA).

Embedded ICC profiles (RGB, CMYK and grey) are converted to sRGB so that
wide-gamut and CMYK pictures keep their visible colour once the profile is
dropped. A CMYK image without a usable profile goes through a shipped
default one (``profiles/cmyk.icc``, SWOP-like, the one libvips uses), since
plain ``255 - ink`` arithmetic oversaturates every colour; CIELab pixels go
through a Lab profile. Building a transform costs 10-60 ms while applying it
to a thumbnail-sized image costs 1-2 ms, so transforms are cached per profile.

RGB pictures with a profile are converted after resizing
(:func:`to_srgb_later` then :func:`finish`): the transform then touches a
tenth of the pixels, and the result stays within a level of converting first.
A profile that is sRGB in all but name (the 524-byte one every Unsplash photo
carries) needs no transform at all.
"""

from __future__ import annotations

import functools
import io
import os

from PIL import Image, ImageChops, ImageCms

from thumbgen.errors import UnsupportedImage

#: Modes the resizing and encoding steps accept.
WORKING_MODES = ("L", "LA", "RGB", "RGBA")

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
#: Stands for the D50 CIELab of Pillow's mode LAB in the transform cache.
_LAB = b"lab"


@functools.cache
def default_cmyk_profile() -> bytes:
    """The ICC profile assumed for CMYK images that carry none (see ``profiles/LICENSE.md``)."""
    # A plain path: thumbgen is installed as files (its SVG drawing process is
    # one too), and importlib.resources would cost every start-up 7 ms.
    with open(os.path.join(os.path.dirname(__file__), "profiles", "cmyk.icc"), "rb") as f:
        return f.read()


def to_srgb(im: Image.Image, source: str) -> Image.Image:
    """Return ``im`` as 8-bit sRGB in one of :data:`WORKING_MODES`.

    16-bit data is scaled down (not clipped), palettes are expanded keeping
    their transparency, CMYK becomes RGB through its profile when it has one.
    A profile that cannot be used is ignored: the plain pixels are still a
    better thumbnail than no thumbnail.
    """
    icc = im.info.get("icc_profile")
    if im.mode == "LAB":
        # Pillow's own LAB -> RGB conversion ignores the white point and gamma.
        converted = _apply_profile(im, _LAB)
        if converted is not None:
            return converted
    try:
        im = _to_8bit(im, source)
    except (ValueError, OSError) as exc:
        raise UnsupportedImage(f"Unsupported image mode {im.mode} in {source} ({exc})") from None
    if icc and im.mode in ("RGB", "RGBA", "CMYK", "L", "LA"):
        converted = _apply_profile(im, icc)
        if converted is not None:
            im = converted
    if im.mode == "CMYK":
        # No profile, or one LittleCMS refuses: the default one, as if embedded.
        converted = _apply_profile(im, default_cmyk_profile())
        im = converted if converted is not None else im.convert("RGB")
    if im.mode not in WORKING_MODES:
        raise UnsupportedImage(f"Unsupported image mode {im.mode} in {source}")
    return im


def to_srgb_later(
    im: Image.Image, source: str
) -> tuple[Image.Image, ImageCms.ImageCmsTransform | None]:
    """Like :func:`to_srgb`, but an RGB profile's transform is returned, not applied.

    The caller resizes first and then calls :func:`finish`. Only plain RGB and
    RGBA pixels are deferred: everything else is converted now, as before.
    """
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA") or im.info.get("transparency") is not None:
        return to_srgb(im, source), None
    transform = _transform(icc, im.mode, im.mode)
    if transform is None:
        return to_srgb(im, source), None
    im.info.pop("icc_profile", None)
    return im, None if _srgb_equivalent(icc, im.mode) else transform


def finish(im: Image.Image, transform: ImageCms.ImageCmsTransform | None) -> Image.Image:
    """Apply a transform :func:`to_srgb_later` left for after resizing (None: nothing to do)."""
    if transform is None:
        return im
    try:
        result = ImageCms.applyTransform(im, transform)
    except (ImageCms.PyCMSError, ValueError, OSError):
        return im
    assert result is not None
    result.info.pop("icc_profile", None)
    return result


#: Every 17th level of each channel: 4096 colours spanning the cube.
_PROBE_LEVELS = range(0, 256, 17)


@functools.lru_cache(maxsize=32)
def _srgb_equivalent(icc: bytes, mode: str) -> bool:
    """True when converting through ``icc`` moves no colour by more than one level.

    Measured, not guessed from the profile's name or tags: a 16x16x16 grid of
    colours goes through the transform once per profile (about 1 ms).
    """
    # Built apart from the cached one, so the cache counts what files use.
    transform = _transform.__wrapped__(icc, "RGB", "RGB")
    if transform is None:
        return False
    probe = Image.frombytes(
        "RGB",
        (len(_PROBE_LEVELS) ** 2, len(_PROBE_LEVELS)),
        bytes(
            v
            for r in _PROBE_LEVELS
            for g in _PROBE_LEVELS
            for b in _PROBE_LEVELS
            for v in (r, g, b)
        ),
    )
    try:
        converted = ImageCms.applyTransform(probe, transform)
    except (ImageCms.PyCMSError, ValueError, OSError):
        return False
    assert converted is not None
    diff = ImageChops.difference(probe, converted).getextrema()
    del mode  # the same profile converts RGB and RGBA alike; the key keeps them apart
    return all(high <= 1 for _, high in diff)  # type: ignore[misc]


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
        return scale_16bit(im)
    if mode == "F":
        # Float images carry no standard range; clip to 0..255 like other tools do.
        return im.convert("L")
    raise UnsupportedImage(f"Unsupported image mode {mode} in {source}")


def scale_16bit(im: Image.Image) -> Image.Image:
    """16-bit grey samples as 8-bit ones, the whole range kept (0..65535 onto 0..255)."""
    # convert("L") would clip 16-bit values at 255; divide by 257 instead so
    # 0..65535 maps onto 0..255. Mode "I" from 16-bit PNGs holds the same range.
    if im.mode != "I":
        im = im.convert("I")
    return im.point(lambda v: v / 257).convert("L")


def _apply_profile(im: Image.Image, icc: bytes) -> Image.Image | None:
    """``im`` converted from ``icc`` to sRGB, or None when the profile cannot be used."""
    if im.mode in ("L", "LA"):
        return _apply_grey_profile(im, icc)
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


def _apply_grey_profile(im: Image.Image, icc: bytes) -> Image.Image | None:
    """Grey through a grey profile: to sRGB and back to one band (neutral greys stay neutral).

    LittleCMS has no LA format, so the alpha band is set aside and put back.
    """
    grey = im.getchannel("L") if im.mode == "LA" else im
    transform = _transform(icc, "L", "RGB")
    if transform is None:
        return None
    try:
        rgb = ImageCms.applyTransform(grey, transform)
    except (ImageCms.PyCMSError, ValueError, OSError):
        return None
    assert rgb is not None
    # R, G and B are equal for a grey input; G is the exact value, no weighting.
    result = rgb.getchannel("G")
    if im.mode == "LA":
        result = Image.merge("LA", (result, im.getchannel("A")))
    result.info = {k: v for k, v in im.info.items() if k != "icc_profile"}
    return result


@functools.lru_cache(maxsize=32)
def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    # Relative colorimetric with black point compensation, as libvips does:
    # in-gamut colours stay exact, out-of-gamut ones clip to the nearest.
    flags = ImageCms.Flags.BLACKPOINTCOMPENSATION
    try:
        if icc == _LAB:
            profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
            # LittleCMS's precomputed 8-bit Lab table is 9 levels off in dark
            # blues; Lab sources are rare enough to pay for the exact pipeline.
            flags |= ImageCms.Flags.NOOPTIMIZE
        else:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(
            profile,
            _SRGB,
            in_mode,
            out_mode,
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            flags=flags,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
