"""CMYK JPEG XL through the system libjxl's C API (ctypes): the black channel.

A CMYK JPEG XL keeps cyan, magenta and yellow in its three colour channels,
under a CMYK ICC profile, and black in an extra channel of type kBlack.
pillow-jxl-plugin hands out the colour channels only, so black text vanished
and colours shifted. libjxl's C API gives every extra channel, so files whose
header declares a black channel (:func:`.jxl.extra_channels`) are decoded
here, with the ``libjxl`` the system has (Debian's ``libjxl0.7`` onwards,
Homebrew's ``jpeg-xl``): no Python binding on PyPI returns the black channel.

The four channels become a Pillow ``CMYK`` image carrying the file's profile,
which :mod:`.colour` converts to sRGB like a CMYK JPEG. libjxl stores CMYK
samples as the fraction of white (1.0 is no ink; see ``lib/jxl/cms`` in
libjxl), Pillow as ink, so every sample is inverted. libjxl applies the
codestream's orientation itself.

Some builds (Debian's 0.7) print a source line for every failure straight
to standard error, around thumbgen's own one-line error; those lines are
held back while libjxl decodes (:func:`_quiet_stderr`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import re
import sys
import tempfile
from collections.abc import Iterator

from PIL import Image

__all__ = [
    "CHANNEL_ALPHA",
    "CHANNEL_BLACK",
    "BasicInfo",
    "ExtraChannelInfo",
    "LibjxlError",
    "PixelFormat",
    "decode_cmyk",
    "library",
]

#: libjxl's JxlExtraChannelType values used here (the numbers of the codestream's
#: own ExtraChannelInfo types, which :mod:`.jxl` reads from the header).
CHANNEL_ALPHA, CHANNEL_BLACK = 0, 4
# JxlDecoderStatus values and events.
_SUCCESS, _ERROR, _NEED_MORE_INPUT, _NEED_IMAGE_OUT_BUFFER = 0, 1, 2, 5
_BASIC_INFO, _COLOR_ENCODING, _FULL_IMAGE = 0x40, 0x100, 0x1000
_TYPE_UINT8 = 2
_TARGET_DATA = 1
#: JxlDecoderVersion() is major * 1,000,000 + minor * 1,000 + patch.
#: JxlDecoderGetICCProfileSize lost its pixel-format argument in libjxl 0.9;
#: 0.7 is the oldest with the extra-channel calls used here as they are.
_V0_7, _V0_9 = 7000, 9000
#: The sonames tried before asking ``ctypes.util.find_library``.
_SONAMES = (
    "libjxl.so",
    "libjxl.so.0.12",
    "libjxl.so.0.11",
    "libjxl.so.0.10",
    "libjxl.so.0.9",
    "libjxl.so.0.8",
    "libjxl.so.0.7",
    "libjxl.dylib",
    # Homebrew's jpeg-xl: not on the loader's default path on macOS.
    "/opt/homebrew/lib/libjxl.dylib",
    "/usr/local/lib/libjxl.dylib",
)
_INVERT = bytes(range(255, -1, -1))
#: What libjxl's failure lines look like: "./lib/jxl/decode.cc:2143: missing input".
_LIBJXL_LINE = re.compile(rb"^\S*lib/jxl/\S+:\d+: ")


class BasicInfo(ctypes.Structure):
    """``JxlBasicInfo`` (unchanged in layout from libjxl 0.7 to 0.12)."""

    _fields_ = [
        ("have_container", ctypes.c_int),
        ("xsize", ctypes.c_uint32),
        ("ysize", ctypes.c_uint32),
        ("bits_per_sample", ctypes.c_uint32),
        ("exponent_bits_per_sample", ctypes.c_uint32),
        ("intensity_target", ctypes.c_float),
        ("min_nits", ctypes.c_float),
        ("relative_to_max_display", ctypes.c_int),
        ("linear_below", ctypes.c_float),
        ("uses_original_profile", ctypes.c_int),
        ("have_preview", ctypes.c_int),
        ("have_animation", ctypes.c_int),
        ("orientation", ctypes.c_int),
        ("num_color_channels", ctypes.c_uint32),
        ("num_extra_channels", ctypes.c_uint32),
        ("alpha_bits", ctypes.c_uint32),
        ("alpha_exponent_bits", ctypes.c_uint32),
        ("alpha_premultiplied", ctypes.c_int),
        ("preview", ctypes.c_uint32 * 2),
        ("animation", ctypes.c_uint32 * 4),
        ("intrinsic_xsize", ctypes.c_uint32),
        ("intrinsic_ysize", ctypes.c_uint32),
        ("padding", ctypes.c_uint8 * 100),
    ]


class ExtraChannelInfo(ctypes.Structure):
    """``JxlExtraChannelInfo``."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("bits_per_sample", ctypes.c_uint32),
        ("exponent_bits_per_sample", ctypes.c_uint32),
        ("dim_shift", ctypes.c_uint32),
        ("name_length", ctypes.c_uint32),
        ("alpha_premultiplied", ctypes.c_int),
        ("spot_color", ctypes.c_float * 4),
        ("cfa_channel", ctypes.c_uint32),
    ]


class PixelFormat(ctypes.Structure):
    """``JxlPixelFormat``."""

    _fields_ = [
        ("num_channels", ctypes.c_uint32),
        ("data_type", ctypes.c_int),
        ("endianness", ctypes.c_int),
        ("align", ctypes.c_size_t),
    ]


class LibjxlError(Exception):
    """libjxl refused the codestream (damaged or cut short); the message says at which step."""


@functools.cache
def library() -> ctypes.CDLL | None:
    """The system libjxl, or None when none is installed (or it is older than 0.7)."""
    # The known sonames first: the loader finds them at once, where
    # find_library runs ldconfig (or a compiler) in a subprocess.
    for name in _SONAMES:
        lib = _load(name)
        if lib is not None:
            return lib
    found = ctypes.util.find_library("jxl")
    return _load(found) if found else None


def _load(name: str) -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.JxlDecoderVersion.restype = ctypes.c_uint32
    return _declare(lib) if lib.JxlDecoderVersion() >= _V0_7 else None


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    p, i, u32, size = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32, ctypes.c_size_t
    lib.JxlDecoderCreate.restype = p
    lib.JxlDecoderCreate.argtypes = [p]
    lib.JxlDecoderDestroy.argtypes = [p]
    lib.JxlDecoderSubscribeEvents.argtypes = [p, i]
    lib.JxlDecoderSetInput.argtypes = [p, ctypes.c_char_p, size]
    lib.JxlDecoderCloseInput.argtypes = [p]
    lib.JxlDecoderProcessInput.argtypes = [p]
    lib.JxlDecoderGetBasicInfo.argtypes = [p, ctypes.POINTER(BasicInfo)]
    lib.JxlDecoderGetExtraChannelInfo.argtypes = [p, size, ctypes.POINTER(ExtraChannelInfo)]
    fmt = ctypes.POINTER(PixelFormat)
    lib.JxlDecoderSetImageOutBuffer.argtypes = [p, fmt, p, size]
    lib.JxlDecoderSetExtraChannelBuffer.argtypes = [p, fmt, p, size, u32]
    if lib.JxlDecoderVersion() >= _V0_9:
        lib.JxlDecoderGetICCProfileSize.argtypes = [p, i, ctypes.POINTER(size)]
        lib.JxlDecoderGetColorAsICCProfile.argtypes = [p, i, p, size]
    else:
        lib.JxlDecoderGetICCProfileSize.argtypes = [p, fmt, i, ctypes.POINTER(size)]
        lib.JxlDecoderGetColorAsICCProfile.argtypes = [p, fmt, i, p, size]
    return lib


def decode_cmyk(lib: ctypes.CDLL, data: bytes) -> Image.Image:
    """The first frame of a CMYK JPEG XL: ``CMYK`` with its profile, or ``RGBA`` when it has alpha.

    The caller has checked the size against ``--max-pixels`` from the header.
    """
    dec = lib.JxlDecoderCreate(None)
    if not dec:
        raise MemoryError("libjxl could not create a decoder")
    try:
        with _quiet_stderr():
            return _decode(lib, dec, data)
    finally:
        lib.JxlDecoderDestroy(dec)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Hold standard error (the file descriptor) in a file; pass on all but libjxl's lines.

    Another thread's lines written meanwhile are passed on after, not lost.
    """
    try:
        sys.stderr.flush()
        held = tempfile.TemporaryFile()  # noqa: SIM115 - closed below; no file, no holding
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no usable standard error or temporary file: decode as it is
        return
    try:
        os.dup2(held.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        held.seek(0)
        kept = [line for line in held.read().splitlines(True) if not _LIBJXL_LINE.match(line)]
        held.close()
        if kept:
            with contextlib.suppress(OSError):
                os.write(2, b"".join(kept))


def _decode(lib: ctypes.CDLL, dec: int, data: bytes) -> Image.Image:
    _call(lib.JxlDecoderSubscribeEvents(dec, _BASIC_INFO | _COLOR_ENCODING | _FULL_IMAGE), "setup")
    _call(lib.JxlDecoderSetInput(dec, data, len(data)), "setup")
    lib.JxlDecoderCloseInput(dec)
    info = BasicInfo()
    icc = b""
    channels: dict[int, int] = {}  # extra channel type -> its index
    planes: dict[str, ctypes.Array[ctypes.c_char]] = {}
    fmt = PixelFormat(3, _TYPE_UINT8, 0, 0)
    while True:
        status = lib.JxlDecoderProcessInput(dec)
        if status == _BASIC_INFO:
            _call(lib.JxlDecoderGetBasicInfo(dec, ctypes.byref(info)), "the header")
            for index in range(info.num_extra_channels):
                extra = ExtraChannelInfo()
                _call(lib.JxlDecoderGetExtraChannelInfo(dec, index, ctypes.byref(extra)), "header")
                channels.setdefault(extra.type, index)
        elif status == _COLOR_ENCODING:
            icc = _icc_profile(lib, dec, fmt)
        elif status == _NEED_IMAGE_OUT_BUFFER:
            planes = _set_buffers(lib, dec, info, channels)
        elif status == _FULL_IMAGE:
            break  # the first frame (an animation's first; thumbgen shows that one)
        elif status == _SUCCESS:
            break
        elif status == _NEED_MORE_INPUT:
            raise LibjxlError("the file ends before its picture does")
        else:
            raise LibjxlError("its data is damaged or cut short")
    if "colour" not in planes:
        raise LibjxlError("the file holds no picture")
    return _to_pillow((info.xsize, info.ysize), icc, planes)


def _icc_profile(lib: ctypes.CDLL, dec: int, fmt: PixelFormat) -> bytes:
    size = ctypes.c_size_t()
    if lib.JxlDecoderVersion() >= _V0_9:
        if lib.JxlDecoderGetICCProfileSize(dec, _TARGET_DATA, ctypes.byref(size)) != _SUCCESS:
            return b""
        out = ctypes.create_string_buffer(size.value)
        lib.JxlDecoderGetColorAsICCProfile(dec, _TARGET_DATA, out, size)
    else:
        got = lib.JxlDecoderGetICCProfileSize(
            dec, ctypes.byref(fmt), _TARGET_DATA, ctypes.byref(size)
        )
        if got != _SUCCESS:
            return b""
        out = ctypes.create_string_buffer(size.value)
        lib.JxlDecoderGetColorAsICCProfile(dec, ctypes.byref(fmt), _TARGET_DATA, out, size)
    return out.raw


def _set_buffers(
    lib: ctypes.CDLL, dec: int, info: BasicInfo, channels: dict[int, int]
) -> dict[str, ctypes.Array[ctypes.c_char]]:
    """Hand libjxl one 8-bit buffer for the colour channels and one per wanted extra channel."""
    pixels = info.xsize * info.ysize
    colour = ctypes.create_string_buffer(3 * pixels)
    _call(
        lib.JxlDecoderSetImageOutBuffer(
            dec, ctypes.byref(PixelFormat(3, _TYPE_UINT8, 0, 0)), colour, 3 * pixels
        ),
        "setup",
    )
    planes = {"colour": colour}
    for name, kind in (("black", CHANNEL_BLACK), ("alpha", CHANNEL_ALPHA)):
        if kind in channels:
            plane = ctypes.create_string_buffer(pixels)
            one = PixelFormat(1, _TYPE_UINT8, 0, 0)
            _call(
                lib.JxlDecoderSetExtraChannelBuffer(
                    dec, ctypes.byref(one), plane, pixels, channels[kind]
                ),
                "setup",
            )
            planes[name] = plane
    return planes


def _to_pillow(
    size: tuple[int, int], icc: bytes, planes: dict[str, ctypes.Array[ctypes.c_char]]
) -> Image.Image:
    """Inverted samples (Pillow's CMYK is ink) merged into one ``CMYK`` image with its profile."""
    cyan, magenta, yellow = Image.frombytes(
        "RGB", size, planes["colour"].raw.translate(_INVERT)
    ).split()
    if "black" in planes:
        black = Image.frombytes("L", size, planes["black"].raw.translate(_INVERT))
    else:
        black = Image.new("L", size, 0)
    im = Image.merge("CMYK", (cyan, magenta, yellow, black))
    if icc:
        im.info["icc_profile"] = icc
    if "alpha" in planes:
        im.info["alpha"] = Image.frombytes("L", size, planes["alpha"].raw)
    return im


def _call(status: int, step: str) -> None:
    if status != _SUCCESS:
        raise LibjxlError(f"libjxl refused {step}")
