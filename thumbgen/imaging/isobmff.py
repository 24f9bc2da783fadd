"""The primary image of an AVIF or HEIF file (ISO-BMFF), as its ``meta`` box describes it.

Read without a decoder, for what the decoders leave out or cannot say: the
clean aperture (``clap``) that Pillow's AVIF plugin does not apply, the
colour matrix that libavif cannot convert, the coding of a HEIF picture
that the bundled libheif has no decoder for. Every reader takes an open
binary file, leaves its position alone and returns None for anything it
does not understand; a damaged file is left to its decoder to report.
"""

from __future__ import annotations

import dataclasses
import struct
from fractions import Fraction
from typing import BinaryIO

#: The ``meta`` box sits in the first few KiB; nothing larger is read.
_META_LIMIT = 1 << 20


@dataclasses.dataclass(frozen=True)
class Primary:
    """The primary item: its coding (``hvc1``, ``av01``, ``grid``...) and its properties."""

    item_type: bytes
    #: (box type, box body) of each associated property, in association order.
    properties: tuple[tuple[bytes, bytes], ...]

    def get(self, kind: bytes) -> bytes | None:
        """The body of the first associated property of type ``kind``."""
        return next((body for k, body in self.properties if k == kind), None)


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, bytes]]:
    """(type, body) of each box in ``data[start:end]``; stops at the first malformed one."""
    end = len(data) if end is None else end
    found = []
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1 and offset + 16 <= end:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            break
        found.append((kind, data[offset + header : offset + size]))
        offset += size
    return found


def _meta(f: BinaryIO) -> bytes | None:
    here = f.tell()
    try:
        f.seek(0)
        head = f.read(_META_LIMIT)
    finally:
        f.seek(here)
    for kind, body in _boxes(head):
        if kind == b"meta":
            return body[4:]  # a full box: version and flags first
    return None


def read_primary(f: BinaryIO) -> Primary | None:
    """The primary item of the AVIF or HEIF file open as ``f``, or None."""
    meta = _meta(f)
    if meta is None:
        return None
    try:
        boxes = dict(_boxes(meta))
        pitm = boxes[b"pitm"]
        (primary,) = (
            struct.unpack(">H", pitm[4:6]) if pitm[0] == 0 else struct.unpack(">I", pitm[4:8])
        )
        item_type = _item_type(boxes[b"iinf"], primary)
        iprp = dict(_boxes(boxes[b"iprp"]))
        properties = _boxes(iprp[b"ipco"])
        indices = _associations(iprp[b"ipma"], primary)
    except (KeyError, struct.error, ValueError, IndexError):
        return None
    if item_type is None:
        return None
    chosen = tuple(properties[i - 1] for i in indices if 0 < i <= len(properties))
    return Primary(item_type, chosen)


def _item_type(iinf: bytes, item: int) -> bytes | None:
    version = iinf[0]
    start = 6 if version == 0 else 8
    for kind, body in _boxes(iinf, start):
        if kind != b"infe" or body[0] < 2:
            continue
        if body[0] == 2:
            (item_id,) = struct.unpack(">H", body[4:6])
            at = 8
        else:
            (item_id,) = struct.unpack(">I", body[4:8])
            at = 10
        if item_id == item:
            return body[at : at + 4]
    return None


def _associations(ipma: bytes, item: int) -> list[int]:
    version, flags = ipma[0], int.from_bytes(ipma[1:4], "big")
    (count,) = struct.unpack(">I", ipma[4:8])
    at = 8
    for _ in range(count):
        if version < 1:
            (item_id,) = struct.unpack(">H", ipma[at : at + 2])
            at += 2
        else:
            (item_id,) = struct.unpack(">I", ipma[at : at + 4])
            at += 4
        n = ipma[at]
        at += 1
        indices = []
        for _ in range(n):
            if flags & 1:
                indices.append(struct.unpack(">H", ipma[at : at + 2])[0] & 0x7FFF)
                at += 2
            else:
                indices.append(ipma[at] & 0x7F)
                at += 1
        if item_id == item:
            return indices
    return []


def clean_aperture(clap: bytes, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The crop box (left, top, right, bottom) a ``clap`` body declares on a picture of ``size``.

    As libheif computes it (ISO/IEC 14496-12 12.1.4): the aperture is centred
    at the picture's centre plus the offsets. None for a box that is malformed
    or reaches outside the picture: the whole picture is then shown.
    """
    try:
        wn, wd, hn, hd, xn, xd, yn, yd = struct.unpack(">IIIIiIiI", clap[:32])
        width, height = Fraction(wn, wd), Fraction(hn, hd)
        dx, dy = Fraction(xn, xd), Fraction(yn, yd)
    except (struct.error, ZeroDivisionError):
        return None
    clean_w, clean_h = round(width), round(height)
    left = round(dx + Fraction(size[0] - 1, 2) - (width - 1) / 2)
    top = round(dy + Fraction(size[1] - 1, 2) - (height - 1) / 2)
    box = (left, top, left + clean_w, top + clean_h)
    if clean_w < 1 or clean_h < 1 or left < 0 or top < 0:
        return None
    if box[2] > size[0] or box[3] > size[1]:
        return None
    return box


def matrix_coefficients(primary: Primary) -> int | None:
    """The colour matrix the primary's ``colr`` nclx box declares, or None when it has none."""
    for kind, body in primary.properties:
        if kind == b"colr" and body[:4] == b"nclx" and len(body) >= 10:
            return int(struct.unpack(">H", body[8:10])[0])
    return None
