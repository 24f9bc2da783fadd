"""Writing CMYK JPEG XL files for tests, through the system libjxl's encoder (ctypes).

No encoder on PyPI writes a black channel, and cjxl reads CMYK only from
formats Debian's 0.7 does not take; libjxl's C API does it: three colour
channels under a CMYK ICC profile plus an extra channel of type kBlack.
Samples are given as Pillow's CMYK (ink) and stored as libjxl's (1.0 is no
ink), inverted here as :mod:`thumbgen.imaging.libjxl` inverts them back.
"""

from __future__ import annotations

import ctypes

from PIL import Image

from thumbgen.imaging import libjxl
from thumbgen.imaging.libjxl import BasicInfo, ExtraChannelInfo, PixelFormat

_INVERT = bytes(range(255, -1, -1))
_NEED_MORE_OUTPUT = 2


def available() -> bool:
    """Whether the system has a libjxl to write (and read) CMYK JPEG XL with."""
    return libjxl.library() is not None


def encode_cmyk(
    im: Image.Image, icc: bytes, *, alpha: Image.Image | None = None, orientation: int = 1
) -> bytes:
    """A lossless CMYK JPEG XL of ``im`` (mode CMYK) under ``icc``, optionally with alpha."""
    lib = libjxl.library()
    assert lib is not None, "no system libjxl"
    assert im.mode == "CMYK"
    _declare(lib)
    enc = lib.JxlEncoderCreate(None)
    try:
        return _encode(lib, enc, im, icc, alpha, orientation)
    finally:
        lib.JxlEncoderDestroy(enc)


def _encode(
    lib: ctypes.CDLL,
    enc: int,
    im: Image.Image,
    icc: bytes,
    alpha: Image.Image | None,
    orientation: int,
) -> bytes:
    width, height = im.size
    info = BasicInfo()
    lib.JxlEncoderInitBasicInfo(ctypes.byref(info))
    info.xsize, info.ysize = width, height
    info.bits_per_sample = 8
    info.num_color_channels = 3
    info.num_extra_channels = 2 if alpha is not None else 1
    info.alpha_bits = 8 if alpha is not None else 0
    info.uses_original_profile = 1
    info.orientation = orientation
    _ok(lib.JxlEncoderSetBasicInfo(enc, ctypes.byref(info)), "basic info")
    _ok(lib.JxlEncoderSetICCProfile(enc, icc, len(icc)), "ICC profile")
    channels = [libjxl.CHANNEL_BLACK] + ([libjxl.CHANNEL_ALPHA] if alpha is not None else [])
    for index, kind in enumerate(channels):
        extra = ExtraChannelInfo()
        lib.JxlEncoderInitExtraChannelInfo(kind, ctypes.byref(extra))
        extra.bits_per_sample = 8
        _ok(lib.JxlEncoderSetExtraChannelInfo(enc, index, ctypes.byref(extra)), "extra channel")
    settings = lib.JxlEncoderFrameSettingsCreate(enc, None)
    _ok(lib.JxlEncoderSetFrameLossless(settings, 1), "lossless")
    cyan, magenta, yellow, black = (band.tobytes().translate(_INVERT) for band in im.split())
    colour = Image.merge(
        "RGB", [Image.frombytes("L", im.size, b) for b in (cyan, magenta, yellow)]
    ).tobytes()
    three = PixelFormat(3, 2, 0, 0)
    one = PixelFormat(1, 2, 0, 0)
    _ok(lib.JxlEncoderAddImageFrame(settings, ctypes.byref(three), colour, len(colour)), "frame")
    planes = [black] + ([alpha.tobytes()] if alpha is not None else [])
    for index, plane in enumerate(planes):
        _ok(
            lib.JxlEncoderSetExtraChannelBuffer(
                settings, ctypes.byref(one), plane, len(plane), index
            ),
            "extra channel buffer",
        )
    lib.JxlEncoderCloseInput(enc)
    return _drain(lib, enc)


def _drain(lib: ctypes.CDLL, enc: int) -> bytes:
    out = bytearray()
    chunk = ctypes.create_string_buffer(1 << 16)
    while True:
        next_out = ctypes.cast(chunk, ctypes.c_void_p)
        avail = ctypes.c_size_t(len(chunk))
        status = lib.JxlEncoderProcessOutput(enc, ctypes.byref(next_out), ctypes.byref(avail))
        out += chunk.raw[: len(chunk) - avail.value]
        if status != _NEED_MORE_OUTPUT:
            _ok(status, "output")
            return bytes(out)


def _declare(lib: ctypes.CDLL) -> None:
    p, u32, size = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t
    fmt = ctypes.POINTER(PixelFormat)
    lib.JxlEncoderCreate.restype = p
    lib.JxlEncoderCreate.argtypes = [p]
    lib.JxlEncoderDestroy.argtypes = [p]
    lib.JxlEncoderInitBasicInfo.argtypes = [ctypes.POINTER(BasicInfo)]
    lib.JxlEncoderSetBasicInfo.argtypes = [p, ctypes.POINTER(BasicInfo)]
    lib.JxlEncoderSetICCProfile.argtypes = [p, ctypes.c_char_p, size]
    lib.JxlEncoderInitExtraChannelInfo.argtypes = [ctypes.c_int, ctypes.POINTER(ExtraChannelInfo)]
    lib.JxlEncoderSetExtraChannelInfo.argtypes = [p, size, ctypes.POINTER(ExtraChannelInfo)]
    lib.JxlEncoderFrameSettingsCreate.restype = p
    lib.JxlEncoderFrameSettingsCreate.argtypes = [p, p]
    lib.JxlEncoderSetFrameLossless.argtypes = [p, ctypes.c_int]
    lib.JxlEncoderAddImageFrame.argtypes = [p, fmt, ctypes.c_char_p, size]
    lib.JxlEncoderSetExtraChannelBuffer.argtypes = [p, fmt, ctypes.c_char_p, size, u32]
    lib.JxlEncoderCloseInput.argtypes = [p]
    lib.JxlEncoderProcessOutput.argtypes = [p, ctypes.POINTER(p), ctypes.POINTER(size)]


def _ok(status: int, step: str) -> None:
    assert status == 0, f"libjxl encoder refused the {step} (status {status})"
