"""Generate the rarer test sources: hand-made TIFF and BMP variants, HEIC, JPEG XL, SVG.

Like :mod:`support.imagegen`, every writer takes the destination path, writes
one small file and returns it as a :class:`~pathlib.Path`. TIFF and BMP files
are laid out byte by byte (Pillow cannot write signed samples, 16-bit CIELab
or a 32-bit BMP whose fourth byte is alpha); HEIC and JPEG XL come from the
encoders of pillow-heif and pillow-jxl-plugin, which are imported only here.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from .imagegen import _STORE, ORIENTATION, PathLike, asymmetric

# --- TIFF ------------------------------------------------------------------------------

_SHORT, _LONG, _DOUBLE = 3, 4, 12


def tiff(
    path: PathLike,
    size: tuple[int, int],
    samples: bytes,
    *,
    bits: Sequence[int],
    photometric: int,
    sample_format: int = 1,
    extra: Sequence[tuple[int, int, Sequence[float]]] = (),
) -> Path:
    """A little-endian, uncompressed, single-strip TIFF holding ``samples`` as given.

    ``sample_format`` is TIFF tag 339 (1 unsigned, 2 signed, 3 float); ``extra``
    adds ``(tag, type, values)`` entries (SHORT, LONG or DOUBLE).
    """
    w, h = size
    entries: list[tuple[int, int, Sequence[float]]] = [
        (256, _LONG, [w]),
        (257, _LONG, [h]),
        (258, _SHORT, list(bits)),
        (259, _SHORT, [1]),
        (262, _SHORT, [photometric]),
        (273, _LONG, [0]),  # patched below: the data follows the IFD
        (277, _SHORT, [len(bits)]),
        (278, _LONG, [h]),
        (279, _LONG, [len(samples)]),
        (284, _SHORT, [1]),
        (339, _SHORT, [sample_format] * len(bits)),
        *extra,
    ]
    entries.sort(key=lambda e: e[0])
    codes = {_SHORT: "H", _LONG: "I", _DOUBLE: "d"}
    ifd_size = 2 + 12 * len(entries) + 4
    overflow = b""
    table = struct.pack("<H", len(entries))
    payloads = []
    for tag, kind, values in entries:
        payloads.append((tag, kind, struct.pack(f"<{len(values)}{codes[kind]}", *values)))
    data_at = 8 + ifd_size + sum(len(p) for _, _, p in payloads if len(p) > 4)
    for tag, kind, payload in payloads:
        count = len(payload) // struct.calcsize(codes[kind])
        if tag == 273:
            payload = struct.pack("<I", data_at)
        if len(payload) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, count, 8 + ifd_size + len(overflow))
            overflow += payload
    table += struct.pack("<I", 0)
    Path(path).write_bytes(b"II*\0" + struct.pack("<I", 8) + table + overflow + samples)
    return Path(path)


def signed_tiff(path: PathLike, values: Sequence[int], bits: int = 8) -> Path:
    """One row of signed grey samples (SampleFormat 2), ``len(values)`` wide."""
    code = {8: "b", 16: "h", 32: "i"}[bits]
    data = struct.pack(f"<{len(values)}{code}", *values)
    return tiff(path, (len(values), 1), data, bits=[bits], photometric=1, sample_format=2)


def float_tiff(
    path: PathLike, values: Sequence[float], sample_range: tuple[float, float] | None = None
) -> Path:
    """One row of 32-bit float grey samples, optionally with SMin/SMaxSampleValue."""
    extra = []
    if sample_range is not None:
        extra = [(340, _DOUBLE, [sample_range[0]]), (341, _DOUBLE, [sample_range[1]])]
    data = struct.pack(f"<{len(values)}f", *values)
    return tiff(
        path, (len(values), 1), data, bits=[32], photometric=1, sample_format=3, extra=extra
    )


# --- BMP -------------------------------------------------------------------------------


def bmp32(
    path: PathLike,
    pixels: Sequence[tuple[int, int, int, int]],
    width: int,
    *,
    header: int = 40,
    alpha_mask: int = 0,
) -> Path:
    """A 32-bit BI_RGB BMP whose fourth byte of each pixel is ``pixels``' fourth value.

    ``pixels`` are RGBA, top row first; ``header`` is the info header's size (40:
    BITMAPINFOHEADER, 108: V4, 124: V5), and V4/V5 headers carry ``alpha_mask``.
    """
    height = len(pixels) // width
    rows = [pixels[y * width : (y + 1) * width] for y in range(height)]
    data = b"".join(bytes(v for r, g, b, a in row for v in (b, g, r, a)) for row in reversed(rows))
    info = struct.pack("<IiiHHIIiiII", header, width, height, 1, 32, 0, len(data), 2835, 2835, 0, 0)
    if header > 40:
        info += struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, alpha_mask)
        info = info.ljust(header, b"\0")
    offset = 14 + len(info)
    Path(path).write_bytes(
        b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + data
    )
    return Path(path)


def bmp_bitfields(
    path: PathLike,
    pixels: Sequence[tuple[int, int, int, int]],
    width: int,
    *,
    bits: int,
    masks: tuple[int, int, int, int],
    header: int = 40,
) -> Path:
    """A BI_BITFIELDS BMP (BI_ALPHABITFIELDS for a 40-byte header with an alpha mask).

    ``pixels`` are RGBA, top row first, each channel scaled to its mask's width.
    Header 40 puts the masks after it; 56, 108 and 124 carry all four inside.
    """
    height = len(pixels) // width
    stride = (bits * width + 31) // 32 * 4

    def word(pixel: tuple[int, int, int, int]) -> int:
        value = 0
        for level, mask in zip(pixel, masks, strict=True):
            if mask:
                shift = (mask & -mask).bit_length() - 1
                top = mask >> shift
                value |= round(level * top / 255) << shift
        return value

    code = "<H" if bits == 16 else "<I"
    rows = [pixels[y * width : (y + 1) * width] for y in range(height)]
    data = b"".join(
        b"".join(struct.pack(code, word(p)) for p in row).ljust(stride, b"\0")
        for row in reversed(rows)
    )
    alpha_fields = header == 40 and masks[3] != 0
    compression = 6 if alpha_fields else 3
    info = struct.pack("<IiiHHIIiiII", header, width, height, 1, bits, compression, len(data),
                       2835, 2835, 0, 0)  # fmt: skip
    if header == 40:
        info += struct.pack("<4I" if alpha_fields else "<3I", *masks[: 4 if alpha_fields else 3])
    else:
        info = (info + struct.pack("<4I", *masks)).ljust(header, b"\0")
        if header >= 108:
            info = info[:56] + b"BGRs" + info[60:]  # LCS_sRGB colour space
    offset = 14 + len(info)
    Path(path).write_bytes(
        b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + data
    )
    return Path(path)


# --- PNG and GIF ----------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grey_png_keyed(path: PathLike, rows: Sequence[Sequence[int]], bits: int, key: int) -> Path:
    """A grey PNG of ``bits`` per sample whose ``tRNS`` chunk makes sample ``key`` transparent."""
    lines = []
    for row in rows:
        if bits == 16:
            lines.append(b"".join(struct.pack(">H", v) for v in row))
            continue
        packed = 0
        for v in row:
            packed = (packed << bits) | v
        pad = -(len(row) * bits) % 8
        lines.append((packed << pad).to_bytes((len(row) * bits + pad) // 8, "big"))
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), bits, 0, 0, 0, 0)
    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"tRNS", struct.pack(">H", key))
        + _chunk(b"IDAT", zlib.compress(b"".join(b"\0" + line for line in lines)))
        + _chunk(b"IEND", b"")
    )
    return Path(path)


def gif_partial_frame(
    path: PathLike, canvas: tuple[int, int], frame: Image.Image, at: tuple[int, int]
) -> Path:
    """A GIF whose logical screen is ``canvas`` and whose only frame (P mode) sits at ``at``.

    The background colour is the palette's entry 0, which ``frame`` also uses:
    a decoder that fills the uncovered canvas with it shows an opaque border.
    """
    buf = io.BytesIO()
    frame.save(buf, "GIF", background=0)
    data = bytearray(buf.getvalue())
    data[6:10] = struct.pack("<HH", *canvas)
    descriptor = data.index(b",", 13 + 3 * 2 ** ((data[10] & 7) + 1))
    data[descriptor + 1 : descriptor + 5] = struct.pack("<HH", *at)
    Path(path).write_bytes(bytes(data))
    return Path(path)


# --- HEIC (pillow-heif's encoder) ------------------------------------------------------


def _heif() -> Any:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return pillow_heif


def heic_rotated(
    path: PathLike, picture: Image.Image, irot: int, exif_orientation: int | None = None
) -> Path:
    """A HEIC that *displays* as ``picture``: stored turned back, with ``irot``/``imir`` boxes.

    pillow-heif writes the boxes for EXIF orientation ``irot`` (1-8) and keeps
    that orientation in the EXIF, as an iPhone does. ``exif_orientation``, when
    given, then overwrites the orientation in the stored EXIF (a stale tag that
    must not matter: libheif has already applied the boxes).
    """
    _heif()
    stored = picture.transpose(_STORE[irot]) if irot in _STORE else picture
    exif = Image.Exif()
    exif[ORIENTATION] = irot
    buf = io.BytesIO()
    stored.save(buf, "HEIF", quality=-1, exif=exif.tobytes())  # quality -1: lossless
    data = buf.getvalue()
    if exif_orientation is not None:
        data = _patch_orientation(data, irot, exif_orientation)
    Path(path).write_bytes(data)
    return Path(path)


def _patch_orientation(data: bytes, old: int, new: int) -> bytes:
    """Rewrite the value of the one EXIF orientation entry in ``data`` (either byte order)."""
    for order in "<>":
        entry = struct.pack(f"{order}HHIH", ORIENTATION, 3, 1, old)
        if data.count(entry) == 1:
            return data.replace(entry, struct.pack(f"{order}HHIH", ORIENTATION, 3, 1, new))
    raise AssertionError("expected exactly one EXIF orientation entry")


def heic(path: PathLike, picture: Image.Image, **save: Any) -> Path:
    """``picture`` (RGB, RGBA or L) saved as HEIC by pillow-heif; ``save`` goes to ``save()``."""
    _heif()
    picture.save(path, "HEIF", **save)
    return Path(path)


def heic_10bit(path: PathLike, size: tuple[int, int] = (64, 16)) -> Path:
    """A 10-bit HEIC: red runs 0..65535 (stored as 10 bits) left to right, green and blue 0x8000."""
    heif = _heif()
    w, h = size
    row = b"".join(struct.pack("<3H", x * 0xFFFF // (w - 1), 0x8000, 0x8000) for x in range(w))
    heif.from_bytes("RGB;16", size, row * h).save(path, quality=-1)
    return Path(path)


def heic_sequence(path: PathLike, frames: Sequence[Image.Image], **save: Any) -> Path:
    """Several images in one HEIF file; the first is the primary one unless ``primary_index``."""
    _heif()
    frames[0].save(path, "HEIF", save_all=True, append_images=list(frames[1:]), **save)
    return Path(path)


# --- JPEG XL (pillow-jxl-plugin's encoder) ---------------------------------------------


def jxl(path: PathLike, picture: Image.Image, **save: Any) -> Path:
    """``picture`` saved as JPEG XL (lossless unless ``save`` says otherwise)."""
    import pillow_jxl  # noqa: F401 - registers the JXL plugin

    save.setdefault("lossless", True)
    picture.save(path, "JXL", **save)
    return Path(path)


def jxl_from_jpeg(path: PathLike, jpeg: PathLike) -> Path:
    """A JPEG XL that losslessly recompresses the JPEG file ``jpeg`` (its EXIF included)."""
    import pillow_jxl  # noqa: F401 - registers the JXL plugin

    with Image.open(jpeg) as im:
        im.save(path, "JXL", lossless_jpeg=True)
    return Path(path)


# --- SVG -------------------------------------------------------------------------------

SVG_NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg_quadrants(path: PathLike, size: tuple[float, float] = (120, 80), body: str = "") -> Path:
    """An SVG drawing :func:`~support.imagegen.asymmetric`'s four quadrants, plus ``body``."""
    w, h = size
    colours = ["#dc1e28", "#1eb43c", "#283cdc", "#f0dc28"]  # imagegen.PALETTE
    rects = "".join(
        f'<rect x="{x}" y="{y}" width="{w / 2}" height="{h / 2}" fill="{c}"/>'
        for (x, y), c in zip([(0, 0), (w / 2, 0), (0, h / 2), (w / 2, h / 2)], colours, strict=True)
    )
    Path(path).write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<svg {SVG_NS} width="{w}" height="{h}">'
        f"{rects}{body}</svg>\n"
    )
    return Path(path)


def asymmetric_heic_source() -> Image.Image:
    """The picture the HEIC tests use: :func:`~support.imagegen.asymmetric` at 128x96."""
    return asymmetric((128, 96))


def avif_claiming(path: PathLike, size: tuple[int, int]) -> Path:
    """A small AVIF whose ``ispe`` box claims ``size``: a decoder's limits apply to that."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 10)).save(buf, "AVIF")
    data = bytearray(buf.getvalue())
    at = data.index(b"ispe") + 8  # after the box type, version and flags
    data[at : at + 8] = struct.pack(">II", *size)
    Path(path).write_bytes(bytes(data))
    return Path(path)
