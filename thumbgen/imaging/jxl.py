"""JPEG XL through pillow-jxl-plugin (libjxl): the jxl extra.

The plugin decodes the whole picture while *opening* the file, before any
``--max-pixels`` check could run, so the size is read first from the
codestream's SizeHeader (:func:`header_size`) and a bomb is refused unread.

The plugin returns the colour channels only. A CMYK file keeps its black in
an extra channel, so the header's extra channels are read first
(:func:`extra_channels`) and a file with a black channel is decoded through
the system libjxl instead (:func:`decode_cmyk_jxl`, :mod:`.libjxl`).

Orientation: libjxl applies the orientation of the codestream header, which
the JPEG XL standard makes normative (an EXIF box inside is informative and
must not turn the picture again). A JPEG recompressed losslessly into JPEG XL
is decoded back to that JPEG, whose pixels are stored as the camera wrote
them, so there the JPEG's own EXIF orientation applies.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from PIL import Image

from thumbgen.errors import CorruptImage
from thumbgen.options import Options, OutputSpec

from .colour import to_srgb
from .decoders import Stored, exif_orientation
from .reading import check_pixels, unsupported

_CODESTREAM = b"\xff\x0a"
_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
# SizeHeader aspect ratios 1-7 (ISO/IEC 18181-1, table D.5): width = height * n / d.
_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}
#: How far boxes are walked to find the codestream (Exif or XML boxes may come first).
_BOX_LIMIT = 1 << 24
#: How much of the codestream :func:`extra_channels` reads: the ImageMetadata
#: of any sane file (channel names are at most 1,071 bytes each).
_HEADER_BYTES = 1 << 16
#: U32 fields as four (bits, offset) choices, ISO/IEC 18181-1 (libjxl's fields.h).
_U32 = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]
_PREVIEW_DIV8: _U32 = ((0, 16), (0, 32), (5, 1), (9, 33))
_PREVIEW: _U32 = ((6, 1), (8, 65), (10, 321), (12, 1345))
_ENUM: _U32 = ((0, 0), (0, 1), (4, 2), (6, 18))
_DIMENSION: _U32 = ((9, 1), (13, 1), (18, 1), (30, 1))
#: ExtraChannelInfo types (ISO/IEC 18181-1; libjxl's JxlExtraChannelType is the same).
CHANNEL_ALPHA, CHANNEL_BLACK = 0, 4
_SPOT_COLOUR, _CFA = 2, 5


class _Bits:
    """LSB-first bit reader, as JPEG XL packs its headers."""

    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "little")
        self.pos = 0
        self.size = 8 * len(data)

    def read(self, n: int) -> int:
        if self.pos + n > self.size:
            raise ValueError("header cut short")
        out = (self.value >> self.pos) & ((1 << n) - 1)
        self.pos += n
        return out

    def dimension(self, small: bool) -> int:
        if small:
            return (self.read(5) + 1) * 8
        return self.u32(_DIMENSION)

    def u32(self, choices: _U32) -> int:
        bits, offset = choices[self.read(2)]
        return self.read(bits) + offset


def header_size(f: BinaryIO) -> tuple[int, int] | None:
    """The picture size a JPEG XL file declares, or None when its header cannot be read."""
    here = f.tell()
    try:
        start = _codestream(f, 16)
        if start is None:
            return None
        return _size(_Bits(start[2:]))
    except (ValueError, struct.error):
        return None
    finally:
        f.seek(here)


def extra_channels(f: BinaryIO) -> tuple[int, ...] | None:
    """The types of the extra channels the header declares (libjxl's ``JxlExtraChannelType``).

    None when the header cannot be read. Follows ImageMetadata field by field
    (ISO/IEC 18181-1 A.6; libjxl's ``image_metadata.cc``) up to the channels.
    """
    here = f.tell()
    try:
        start = _codestream(f, _HEADER_BYTES)
        if start is None:
            return None
        bits = _Bits(start[2:])
        _size(bits)
        if bits.read(1):  # all_default: no extra channels
            return ()
        if bits.read(1):  # extra_fields
            bits.read(3)  # orientation
            if bits.read(1):
                _size(bits)  # intrinsic size
            if bits.read(1):
                _preview(bits)
            if bits.read(1):  # animation: tps numerator and denominator, loops, timecodes
                bits.u32(((0, 100), (0, 1000), (10, 1), (30, 1)))
                bits.u32(((0, 1), (0, 1001), (8, 1), (10, 1)))
                bits.u32(((0, 0), (3, 0), (16, 0), (32, 0)))
                bits.read(1)
        _bit_depth(bits)
        bits.read(1)  # modular_16_bit_buffer_sufficient
        count = bits.u32(((0, 0), (0, 1), (4, 2), (12, 1)))
        return tuple(_extra_channel(bits) for _ in range(count))
    except (ValueError, struct.error):
        return None
    finally:
        f.seek(here)


def _size(bits: _Bits) -> tuple[int, int]:
    """SizeHeader: (width, height)."""
    small = bool(bits.read(1))
    height = bits.dimension(small)
    ratio = bits.read(3)
    if ratio == 0:
        return bits.dimension(small), height
    num, den = _RATIOS[ratio]
    return height * num // den, height


def _preview(bits: _Bits) -> None:
    choices = _PREVIEW_DIV8 if bits.read(1) else _PREVIEW
    bits.u32(choices)
    if bits.read(3) == 0:
        bits.u32(choices)


def _bit_depth(bits: _Bits) -> None:
    if bits.read(1):  # floating point samples: bits, then exponent bits
        bits.u32(((0, 32), (0, 16), (0, 24), (6, 1)))
        bits.read(4)
    else:
        bits.u32(((0, 8), (0, 10), (0, 12), (6, 1)))


def _extra_channel(bits: _Bits) -> int:
    """ExtraChannelInfo: its type, the rest read past."""
    if bits.read(1):  # all_default: an 8-bit alpha channel
        return CHANNEL_ALPHA
    kind = bits.u32(_ENUM)
    _bit_depth(bits)
    bits.u32(((0, 0), (0, 3), (0, 4), (3, 1)))  # dim_shift
    bits.read(8 * bits.u32(((0, 0), (4, 0), (5, 16), (10, 48))))  # name
    if kind == CHANNEL_ALPHA:
        bits.read(1)  # associated alpha
    elif kind == _SPOT_COLOUR:
        bits.read(64)  # four half floats
    elif kind == _CFA:
        bits.u32(((0, 1), (2, 0), (4, 3), (8, 19)))
    return kind


def _codestream(f: BinaryIO, n: int) -> bytes | None:
    """The first ``n`` bytes of the codestream: the file itself, or inside a jxlc/jxlp box."""
    f.seek(0)
    head = f.read(n)
    if head.startswith(_CODESTREAM):
        return head
    if not head.startswith(_CONTAINER):
        return None
    offset = len(_CONTAINER)
    while offset < _BOX_LIMIT:
        f.seek(offset)
        box = f.read(16)
        if len(box) < 8:
            return None
        size, kind = struct.unpack(">I4s", box[:8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", box[8:16])
            header = 16
        if kind in (b"jxlc", b"jxlp"):
            f.seek(offset + header + (4 if kind == b"jxlp" else 0))  # jxlp: part index first
            data = f.read(n)
            return data if data.startswith(_CODESTREAM) else None
        if size < header:
            return None  # size 0 (to the end) on a box that is not the codestream
        offset += size
    return None


def decode_jxl(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """The pixels the plugin decoded on open, with the orientation still to apply."""
    im.load()
    reconstructed_jpeg = bool(getattr(im, "jpeg", False))
    return Stored(im, im.size, exif_orientation(im) if reconstructed_jpeg else 1)


def decode_cmyk_jxl(f: BinaryIO, shown: str, options: Options) -> Stored | None:
    """A CMYK JPEG XL through the system libjxl; None (the plugin decodes it) for any other."""
    kinds = extra_channels(f)
    if not kinds or CHANNEL_BLACK not in kinds:
        return None
    # Imported for these files only: ctypes.util costs every worker 9 ms at start.
    from . import libjxl

    size = header_size(f)
    if size is not None:
        check_pixels(size, shown, options.max_pixels)
    lib = libjxl.library()
    if lib is None:
        raise unsupported(
            shown, "a CMYK JPEG XL, whose black channel needs the system libjxl 0.7 or newer"
        )
    f.seek(0)
    try:
        im = libjxl.decode_cmyk(lib, f.read())
    except libjxl.LibjxlError as exc:
        raise CorruptImage(
            f"Corrupt image: {shown} is a JPEG XL its decoder cannot read ({exc})"
        ) from None
    alpha = im.info.pop("alpha", None)
    if alpha is not None:  # Pillow has no CMYK with alpha: convert first, then add it
        im = to_srgb(im, shown)
        im.putalpha(alpha)
    return Stored(im, im.size, 1)
