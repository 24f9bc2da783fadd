"""Write small camera RAW files (DNG) by hand, so the RAW tests need no binary fixtures.

A DNG is a TIFF: IFD0 holds an embedded JPEG preview (NewSubfileType 1) and
points through SubIFDs to the raw sensor data, an uncompressed 16-bit Bayer
(RGGB) mosaic. The camera's colour space is linear sRGB (ColorMatrix1 is the
XYZ to linear sRGB matrix under D65), so the demosaiced picture shows the
colours it was made from. LibRaw reads both parts. Only Pillow and the
standard library are used.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from .imagegen import _STORE, PathLike, asymmetric

# TIFF field types
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _SRATIONAL = 1, 2, 3, 4, 5, 10
# XYZ (D65) -> linear sRGB, IEC 61966-2-1.
_XYZ_TO_SRGB = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)

Entry = tuple[int, int, Sequence[int] | bytes]


def _linear(v: int) -> float:
    c = v / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def bayer(picture: Image.Image) -> bytes:
    """The RGGB mosaic of ``picture`` as 16-bit little-endian linear samples."""
    rgb = picture.convert("RGB")
    lut = [round(_linear(v) * 65535) for v in range(256)]
    w, h = rgb.size
    out = bytearray()
    pixels = rgb.load()
    assert pixels is not None
    for y in range(h):
        for x in range(w):
            px = pixels[x, y]
            assert isinstance(px, tuple)
            channel = (0 if x % 2 == 0 else 1) if y % 2 == 0 else (1 if x % 2 == 0 else 2)
            out += struct.pack("<H", lut[px[channel]])
    return bytes(out)


def _rationals(values: Sequence[float], signed: bool) -> list[int]:
    out: list[int] = []
    for v in values:
        out += [round(v * 10000), 10000]
    return out if signed else [abs(v) for v in out]


def _ifd(entries: list[Entry], at: int, next_ifd: int = 0) -> bytes:
    """One IFD placed at offset ``at``; values that do not fit in 4 bytes follow it."""
    entries = sorted(entries, key=lambda e: e[0])
    table = struct.pack("<H", len(entries))
    extra = b""
    data_at = at + 2 + 12 * len(entries) + 4
    formats = {_BYTE: "B", _ASCII: "B", _SHORT: "H", _LONG: "I", _RATIONAL: "I", _SRATIONAL: "i"}
    for tag, kind, values in entries:
        raw = bytes(values) if isinstance(values, bytes) else values
        if kind in (_BYTE, _ASCII):
            payload = bytes(raw)
            count = len(payload)
        else:
            payload = struct.pack(f"<{len(raw)}{formats[kind]}", *raw)
            count = len(raw) // 2 if kind in (_RATIONAL, _SRATIONAL) else len(raw)
        if len(payload) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\0")
        else:
            offset = data_at + len(extra)
            table += struct.pack("<HHII", tag, kind, count, offset)
            extra += payload + b"\0" * (len(payload) % 2)
    return table + struct.pack("<I", next_ifd) + extra


def dng(
    path: PathLike,
    picture: Image.Image | None = None,
    orientation: int = 1,
    preview: Image.Image | None = None,
    *,
    image_data: bool = True,
) -> Path:
    """A DNG that *displays* as ``picture`` once ``orientation`` (EXIF 1-8) is honoured.

    ``picture`` defaults to :func:`~support.imagegen.asymmetric` at 96x64 (even
    sizes keep the Bayer tiles whole). ``preview`` is the embedded JPEG as it
    displays; None means no preview at all. Both are stored turned back by
    ``orientation``, as a camera held sideways stores them. ``image_data=False``
    writes the tags alone, as metadata-only files do: the raw strip is empty (offset
    and byte count 0), and neither sensor data nor preview follows.
    """
    picture = picture if picture is not None else asymmetric((96, 64))
    if orientation in _STORE:
        picture = picture.transpose(_STORE[orientation])
        preview = preview.transpose(_STORE[orientation]) if preview is not None else None
    w, h = picture.size
    assert w % 2 == 0
    assert h % 2 == 0
    mosaic = bayer(picture)
    jpeg = b""
    if preview is not None:
        buf = io.BytesIO()
        preview.convert("RGB").save(buf, "JPEG", quality=95)
        jpeg = buf.getvalue()
    pw, ph = preview.size if preview is not None else (w // 8, h // 8)

    def ifd0(raw_ifd: int, jpeg_at: int) -> bytes:
        entries: list[Entry] = [
            (254, _LONG, [1]),  # reduced-resolution image: the preview
            (256, _LONG, [pw]),
            (257, _LONG, [ph]),
            (258, _SHORT, [8, 8, 8]),
            (259, _SHORT, [7 if jpeg else 1]),
            (262, _SHORT, [6 if jpeg else 2]),
            (271, _ASCII, b"Thumbgen\0"),
            (272, _ASCII, b"Test DNG\0"),
            (273, _LONG, [jpeg_at]),
            (274, _SHORT, [orientation]),
            (277, _SHORT, [3]),
            (278, _LONG, [ph]),
            (279, _LONG, [len(jpeg) if jpeg else pw * ph * 3]),
            (330, _LONG, [raw_ifd]),
            (50706, _BYTE, bytes([1, 4, 0, 0])),
            (50707, _BYTE, bytes([1, 1, 0, 0])),
            (50708, _ASCII, b"Thumbgen Test DNG\0"),
            (50721, _SRATIONAL, _rationals(_XYZ_TO_SRGB, signed=True)),
            (50728, _RATIONAL, _rationals((1.0, 1.0, 1.0), signed=False)),
            (50778, _SHORT, [21]),  # calibration illuminant D65
        ]
        return _ifd(entries, 8)

    def raw(at: int, data_at: int) -> bytes:
        entries: list[Entry] = [
            (254, _LONG, [0]),
            (256, _LONG, [w]),
            (257, _LONG, [h]),
            (258, _SHORT, [16]),
            (259, _SHORT, [1]),
            (262, _SHORT, [32803]),  # colour filter array
            (273, _LONG, [data_at if image_data else 0]),
            (277, _SHORT, [1]),
            (278, _LONG, [h]),
            (279, _LONG, [len(mosaic) if image_data else 0]),
            (284, _SHORT, [1]),
            (33421, _SHORT, [2, 2]),
            (33422, _BYTE, bytes([0, 1, 1, 2])),  # R G / G B
            (50714, _LONG, [0]),
            (50717, _LONG, [65535]),
        ]
        return _ifd(entries, at)

    # Two passes: the sizes of the IFDs do not depend on the offsets they hold.
    size0 = len(ifd0(0, 0))
    raw_at = 8 + size0 + size0 % 2
    size_raw = len(raw(raw_at, 0))
    data_at = raw_at + size_raw + size_raw % 2
    jpeg_at = data_at + len(mosaic)
    preview_bytes = jpeg or bytes(pw * ph * 3)
    out = b"II*\0" + struct.pack("<I", 8)
    out += ifd0(raw_at, jpeg_at).ljust(raw_at - 8, b"\0")
    out += raw(raw_at, data_at).ljust(data_at - raw_at, b"\0")
    if image_data:
        out += mosaic + preview_bytes
    else:
        # Where the pixels would be, metadata (an XMP packet, say): a decoder that
        # reads sensor data from an empty strip's offset 0 finds text, not an error.
        packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>\n'
        out += packet * (1 + (len(mosaic) + len(preview_bytes)) // len(packet))
    Path(path).write_bytes(out)
    return Path(path)
