"""What a file's header says, read without a decoder.

Used where a decoder cannot be asked: to check ``--max-pixels`` before a
plugin that decodes while opening (JPEG XL), to tell a camera RAW from a
plain TIFF (both are TIFF inside), and to name what a file is when its
decoder refuses it ("a 16-bit CIELab TIFF", "a 40000x40000 AVIF"). Every
reader takes an open binary file, leaves its position alone and returns
None for anything it does not understand.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

#: Read at most this much of a header: sizes and tags sit in the first few KiB.
_HEADER_LIMIT = 1 << 20

TIFF_PHOTOMETRIC = {
    0: "grey",
    1: "grey",
    2: "RGB",
    3: "palette",
    4: "mask",
    5: "CMYK",
    6: "YCbCr",
    8: "CIELab",
    9: "ICCLab",
    10: "ITULab",
    32803: "colour-filter-array",
    34892: "linear-raw",
}
TIFF_SAMPLE_FORMAT = {2: "signed", 3: "floating-point"}
#: TIFF tags read by :func:`tiff_tags`.
DNG_VERSION, CFA_PHOTOMETRIC = 0xC612, 32803


def _read_at(f: BinaryIO, offset: int, size: int) -> bytes:
    here = f.tell()
    try:
        f.seek(offset)
        return f.read(size)
    finally:
        f.seek(here)


def tiff_tags(f: BinaryIO, at: int | None = None) -> dict[int, tuple[int, ...]] | None:
    """IFD0 (or the IFD at offset ``at``) of a TIFF as ``{tag: values}`` for its numeric entries.

    Strings are left out; values that do not fit in the entry are followed
    when small (up to 64 of them); None when the header is not a readable TIFF.
    """
    head = _read_at(f, 0, 8)
    if len(head) < 8 or head[:4] not in (b"II*\0", b"MM\0*"):
        return None
    end = "<" if head[:2] == b"II" else ">"
    (ifd,) = struct.unpack(end + "I", head[4:8]) if at is None else (at,)
    count_bytes = _read_at(f, ifd, 2)
    if len(count_bytes) < 2 or ifd > _HEADER_LIMIT:
        return None
    (count,) = struct.unpack(end + "H", count_bytes)
    table = _read_at(f, ifd + 2, 12 * min(count, 512))
    sizes = {1: 1, 3: 2, 4: 4, 6: 1, 8: 2, 9: 4, 16: 8}  # BYTE SHORT LONG SBYTE SSHORT SLONG LONG8
    codes = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 16: "Q"}
    tags: dict[int, tuple[int, ...]] = {}
    for i in range(len(table) // 12):
        tag, kind, n = struct.unpack(end + "HHI", table[12 * i : 12 * i + 8])
        if kind not in sizes or n > 64:
            if kind in (2, 7) or kind not in sizes:
                tags.setdefault(tag, ())  # present, value not needed
            continue
        raw = table[12 * i + 8 : 12 * i + 12]
        if sizes[kind] * n > 4:
            (offset,) = struct.unpack(end + "I", raw)
            raw = _read_at(f, offset, sizes[kind] * n)
        if len(raw) < sizes[kind] * n:
            continue
        tags[tag] = struct.unpack(end + codes[kind] * n, raw[: sizes[kind] * n])
    return tags


#: Photometric interpretations of sensor data: colour filter array, linear raw.
SENSOR_PHOTOMETRIC = (32803, 34892)


def raw_strips_empty(f: BinaryIO) -> bool:
    """True for a TIFF-based RAW whose sensor IFDs (IFD0 and SubIFDs) hold no bytes at all.

    Metadata-only files (DNG sidecars, exports without pixels) keep their raw
    IFD with empty strips; a decoder would read its "pixels" from offset 0.
    False whenever the layout is not understood: the decoder decides then.
    """
    first = tiff_tags(f)
    if first is None:
        return False
    ifds = [first] + [t for at in first.get(330, ()) if (t := tiff_tags(f, at)) is not None]
    sensors = [t for t in ifds if t.get(262, (0,))[0] in SENSOR_PHOTOMETRIC]
    if not sensors:
        return False
    for tags in sensors:
        counts = tags.get(279, ()) + tags.get(325, ())  # strip and tile byte counts
        offsets = tags.get(273, ()) + tags.get(324, ())
        # No count tag at all is a garbled IFD, not an empty one: the decoder
        # then says the file is corrupt.
        if not counts or (any(counts) and any(offsets)):
            return False
    return True


def is_dng(f: BinaryIO) -> bool:
    """True for a TIFF whose first IFD carries the DNGVersion tag (required in every DNG)."""
    tags = tiff_tags(f)
    return tags is not None and DNG_VERSION in tags


def describe_tiff(f: BinaryIO) -> str | None:
    """A TIFF's pixel layout in words: ``"16-bit CIELab"``, ``"signed 32-bit grey"``."""
    tags = tiff_tags(f)
    if not tags:
        return None
    bits = sorted(set(tags.get(258, (1,))))
    depth = "/".join(str(b) for b in bits) + "-bit"
    kind = TIFF_PHOTOMETRIC.get(tags.get(262, (-1,))[0], "unknown-colour")
    sample = TIFF_SAMPLE_FORMAT.get(tags.get(339, (1,))[0])
    return " ".join(part for part in (sample, depth, kind) if part)


def iso_image_size(f: BinaryIO) -> tuple[int, int] | None:
    """The largest ``ispe`` (image spatial extent) in an ISO-BMFF ``meta`` box: AVIF, HEIF.

    A grid image lists its tiles' extents and its own; the largest is the picture.
    """
    offset = 0
    while offset < _HEADER_LIMIT:
        header = _read_at(f, offset, 16)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header[:8])
        start = 8
        if size == 1 and len(header) == 16:
            (size,) = struct.unpack(">Q", header[8:16])
            start = 16
        if kind == b"meta":
            body = _read_at(f, offset + start, min(max(size - start, 0), _HEADER_LIMIT))
            return _largest_ispe(body)
        if size < 8:
            return None
        offset += size
    return None


def _largest_ispe(body: bytes) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    at = body.find(b"ispe")
    while at >= 4 and at + 16 <= len(body):
        width, height = struct.unpack(">II", body[at + 8 : at + 16])  # after version+flags
        if best is None or width * height > best[0] * best[1]:
            best = (width, height)
        at = body.find(b"ispe", at + 4)
    return best
