"""Edit the boxes of AVIF and HEIF files (ISO-BMFF) that their encoders write.

Neither Pillow's AVIF encoder nor pillow-heif's HEIC encoder can write a clean
aperture (``clap``), a rotation (``irot``) or a mirror (``imir``) of our
choosing, nor a colour matrix other than the ones they pick. These helpers
take a file those encoders wrote and add or change such properties, keeping
every size and every ``iloc`` offset right, so that libavif, libheif and
browsers read the result as a valid file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

from PIL import Image

_CONTAINERS = (b"meta", b"iprp", b"ipco")


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header size, total size) of each box in ``data[start:end]``."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:
            size = end - offset
        yield kind, offset, header, size
        offset += size


def _find(data: bytes, path: Sequence[bytes]) -> tuple[int, int, int]:
    """(offset, header size, size) of the box at ``path`` (``meta`` is a full box)."""
    start, end = 0, len(data)
    found = (0, 0, len(data))
    for name in path:
        for kind, offset, header, size in _boxes(data, start, end):
            if kind == name:
                found = (offset, header, size)
                start = offset + header + (4 if kind == b"meta" else 0)
                end = offset + size
                break
        else:
            raise AssertionError(f"no {name!r} box")
    return found


def box(kind: bytes, body: bytes) -> bytes:
    """One box."""
    return struct.pack(">I4s", 8 + len(body), kind) + body


def clap(width: int, height: int, dx: int = 0, dy: int = 0) -> bytes:
    """A clean aperture ``width`` x ``height`` whose centre is ``(dx, dy)`` from the image's."""
    return box(b"clap", struct.pack(">IIIIiIiI", width, 1, height, 1, dx, 1, dy, 1))


def irot(quarters: int) -> bytes:
    """Rotation by ``quarters`` x 90 degrees anti-clockwise."""
    return box(b"irot", bytes([quarters & 3]))


def imir(axis: int) -> bytes:
    """Mirror about a vertical (``axis`` 0: left and right swap) or horizontal (1) axis."""
    return box(b"imir", bytes([axis & 1]))


def add_properties(data: bytes, properties: Sequence[bytes]) -> bytes:
    """``data`` with ``properties`` added to item 1 (the primary), essential, in that order."""
    ipco_at, ipco_header, ipco_size = _find(data, (b"meta", b"iprp", b"ipco"))
    count = sum(1 for _ in _boxes(data, ipco_at + ipco_header, ipco_at + ipco_size))
    added = b"".join(properties)
    out = bytearray(data[: ipco_at + ipco_size] + added + data[ipco_at + ipco_size :])
    for path in ((b"meta",), (b"meta", b"iprp"), (b"meta", b"iprp", b"ipco")):
        _grow(out, path, len(added))
    ipma_at, ipma_header, _ = _find(bytes(out), (b"meta", b"iprp", b"ipma"))
    body = ipma_at + ipma_header
    version, flags = out[body], int.from_bytes(out[body + 1 : body + 4], "big")
    assert version == 0
    assert flags & 1 == 0, "1-byte associations expected"
    at = body + 8  # version, flags, entry_count
    (item,) = struct.unpack(">H", out[at : at + 2])
    assert item == 1
    n = out[at + 2]
    links = bytes(0x80 | (count + 1 + i) for i in range(len(properties)))
    out[at + 2] = n + len(links)
    out[at + 3 + n : at + 3 + n] = links
    for path in ((b"meta",), (b"meta", b"iprp"), (b"meta", b"iprp", b"ipma")):
        _grow(out, path, len(links))
    _shift_iloc(out, len(added) + len(links))
    return bytes(out)


def _grow(out: bytearray, path: Sequence[bytes], by: int) -> None:
    # Sizes are fixed from the outside in, so the walk still finds the inner boxes.
    offset, header, size = _find(bytes(out), path)
    assert header == 8
    struct.pack_into(">I", out, offset, size + by)


def _shift_iloc(out: bytearray, by: int) -> None:
    """Move every file offset in ``iloc`` by ``by`` (the data after ``meta`` moved)."""
    offset, header, _ = _find(bytes(out), (b"meta", b"iloc"))
    at = offset + header
    version = out[at]
    at += 4
    offset_size, length_size = out[at] >> 4, out[at] & 15
    base_size, index_size = out[at + 1] >> 4, (out[at + 1] & 15) if version in (1, 2) else 0
    at += 2
    if version < 2:
        (items,) = struct.unpack(">H", out[at : at + 2])
        at += 2
    else:
        (items,) = struct.unpack(">I", out[at : at + 4])
        at += 4
    codes = {4: ">I", 8: ">Q"}
    for _ in range(items):
        at += 2 if version < 2 else 4
        method = 0
        if version in (1, 2):
            method = struct.unpack(">H", out[at : at + 2])[0] & 15
            at += 2
        at += 2  # data_reference_index
        base = 0
        if base_size:
            (base,) = struct.unpack(codes[base_size], out[at : at + base_size])
            if method == 0 and base:
                struct.pack_into(codes[base_size], out, at, base + by)
            at += base_size
        (extents,) = struct.unpack(">H", out[at : at + 2])
        at += 2
        for _ in range(extents):
            at += index_size
            if offset_size and method == 0 and not base:
                (value,) = struct.unpack(codes[offset_size], out[at : at + offset_size])
                struct.pack_into(codes[offset_size], out, at, value + by)
            at += offset_size + length_size


def set_matrix(data: bytes, matrix: int) -> bytes:
    """``data`` with the ``colr`` nclx box's matrix coefficients set to ``matrix``."""
    at = data.index(b"colrnclx")
    out = bytearray(data)
    # nclx: colour primaries (2), transfer characteristics (2), matrix (2), full-range flag.
    struct.pack_into(">H", out, at + 8 + 4, matrix)
    return bytes(out)


def with_item_type(data: bytes, kind: bytes) -> bytes:
    """``data`` (one coded item, ``hvc1`` or ``av01``) claiming to be coded as ``kind``.

    For the "which codec" refusals: the file is well formed, its picture in a
    coding that the decoder at hand does not have.
    """
    for old in (b"hvc1", b"av01"):
        at = data.find(b"infe")
        if at >= 0 and data.find(old, at) >= 0:
            where = data.index(old, at)
            return data[:where] + kind + data[where + 4 :]
    raise AssertionError("no hvc1 or av01 item")


def uncompressed_heif(picture: Image.Image) -> bytes:
    """``picture`` (RGB) as an uncompressed HEIF (ISO/IEC 23001-17 ``unci`` item)."""
    rgb = picture.convert("RGB")
    width, height = rgb.size
    pixels = rgb.tobytes()
    ftyp = box(b"ftyp", b"mif1" + bytes(4) + b"mif1heic")
    ispe = box(b"ispe", bytes(4) + struct.pack(">II", width, height))
    cmpd = box(b"cmpd", struct.pack(">IHHH", 3, 4, 5, 6))  # red, green, blue
    components = b"".join(struct.pack(">HBBB", i, 7, 0, 0) for i in range(3))
    uncc = box(
        b"uncC",
        bytes(4)  # version 0, flags
        + bytes(4)  # profile: none
        + struct.pack(">I", 3)
        + components
        + bytes([0, 1, 0, 0])  # 4:4:4, pixel interleaved, no blocks, big endian
        + struct.pack(">IIIII", 0, 0, 0, 0, 0),  # pixel/row/tile alignment, one tile
    )
    ipco = box(b"ipco", ispe + cmpd + uncc)
    ipma = box(b"ipma", bytes(4) + struct.pack(">IHB", 1, 1, 3) + bytes([0x01, 0x82, 0x83]))
    hdlr = box(b"hdlr", bytes(4) + bytes(4) + b"pict" + bytes(12) + b"\0")
    pitm = box(b"pitm", bytes(4) + struct.pack(">H", 1))
    infe = box(b"infe", bytes([2, 0, 0, 0]) + struct.pack(">HH", 1, 0) + b"unci" + b"\0")
    iinf = box(b"iinf", bytes(4) + struct.pack(">H", 1) + infe)

    def meta(data_at: int) -> bytes:
        iloc = box(
            b"iloc",
            bytes(4)
            + bytes([0x44, 0x00])
            + struct.pack(">HHHHII", 1, 1, 0, 1, data_at, len(pixels)),
        )
        return box(b"meta", bytes(4) + hdlr + pitm + iloc + iinf + box(b"iprp", ipco + ipma))

    head = len(ftyp) + len(meta(0)) + 8
    return ftyp + meta(head) + box(b"mdat", pixels)
