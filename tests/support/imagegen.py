"""Generate test images on the fly (no binary fixtures in the repository).

Every writer takes the destination path, writes one small file and returns the
path as a :class:`~pathlib.Path`. Only Pillow and the standard library are used.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import zlib
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, TiffImagePlugin

PathLike = str | os.PathLike[str]
RGB = tuple[int, int, int]

# Quadrant colours of asymmetric(): far apart so they survive JPEG + resizing.
PALETTE: dict[str, RGB] = {
    "red": (220, 30, 40),
    "green": (30, 180, 60),
    "blue": (40, 60, 220),
    "yellow": (240, 220, 40),
}
# The transpose that turns stored pixels into the displayed picture, per EXIF
# orientation (same table as ImageOps.exif_transpose).
_DISPLAY: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Inverse of each display transform; all are involutions except the two rotations.
_STORE = {**_DISPLAY, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
# EXIF whose only IFD entry is cut off after 4 of its 12 bytes. Pillow emits
# "UserWarning: Corrupt EXIF data" already in Image.open() and reports no tags.
GARBAGE_EXIF = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03"
ORIENTATION = 0x0112


def asymmetric(size: tuple[int, int] = (120, 80)) -> Image.Image:
    """RGB picture whose 8 rotations/flips all differ.

    Quadrants (TL, TR, BL, BR) are red, green, blue, yellow; D4 acts faithfully on
    four distinct corners, and a white square in the top-left corner is a second cue.
    """
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    boxes = [
        (0, 0, w // 2, h // 2),
        (w // 2, 0, w, h // 2),
        (0, h // 2, w // 2, h),
        (w // 2, h // 2, w, h),
    ]
    for box, colour in zip(boxes, PALETTE.values(), strict=True):
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=colour)
    mark = max(2, min(w, h) // 8)
    draw.rectangle((0, 0, mark - 1, mark - 1), fill=(255, 255, 255))
    return img


def quadrants(img: Image.Image) -> tuple[str, str, str, str]:
    """Nearest PALETTE name at the centres of the TL, TR, BL, BR quadrants."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    names = []
    for fx, fy in ((1, 1), (3, 1), (1, 3), (3, 3)):
        px = rgb.getpixel((fx * w // 4, fy * h // 4))
        assert isinstance(px, tuple)
        names.append(
            min(
                PALETTE,
                key=lambda n: sum((a - b) ** 2 for a, b in zip(PALETTE[n], px, strict=True)),
            )
        )
    return names[0], names[1], names[2], names[3]


def stored(img: Image.Image, orientation: int) -> Image.Image:
    """The pixels a file with EXIF-style ``orientation`` (1-8) stores to display as ``img``."""
    return img.transpose(_STORE[orientation]) if orientation in _STORE else img


def save_with_orientation(
    img: Image.Image, path: PathLike, orientation: int | Literal["garbage", "missing"]
) -> Path:
    """Write a JPEG that *displays* as ``img`` once EXIF ``orientation`` is honoured.

    1..8 store the inversely transformed pixels; 0 or any other int (invalid
    values) store them as-is, as do ``"missing"`` (no EXIF at all) and
    ``"garbage"`` (GARBAGE_EXIF).
    """
    path = Path(path)
    if orientation == "missing":
        img.save(path, "JPEG", quality=95)
    elif orientation == "garbage":
        img.save(path, "JPEG", quality=95, exif=GARBAGE_EXIF)
    else:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        stored(img, orientation).save(path, "JPEG", quality=95, exif=exif)
    return path


def _gradient16(width: int) -> list[int]:
    return [x * 0xFFFF // max(1, width - 1) for x in range(width)]


def png16_gray(path: PathLike, size: tuple[int, int] = (64, 16)) -> Path:
    """16-bit grayscale PNG, horizontal gradient 0..65535 (via Pillow mode I;16)."""
    w, h = size
    row = struct.pack(f"<{w}H", *_gradient16(w))  # I;16 is little-endian in memory
    Image.frombytes("I;16", size, row * h).save(path, "PNG")
    return Path(path)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, depth: int, colour_type: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    sig = b"\x89PNG\r\n\x1a\n"
    return sig + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


PNG16_RGB_GB = (0x4000, 0xC000)  # fixed G and B of png16_rgb()


def png16_rgb(path: PathLike, size: tuple[int, int] = (64, 16)) -> Path:
    """16-bit/channel RGB PNG written by hand: R runs 0..65535, G/B are PNG16_RGB_GB."""
    w, h = size
    g, b = PNG16_RGB_GB
    samples = [v for r in _gradient16(w) for v in (r, g, b)]
    row = b"\x00" + struct.pack(f">{3 * w}H", *samples)  # filter 0, big-endian samples
    Path(path).write_bytes(_png(w, h, 16, 2, zlib.compress(row * h)))
    return Path(path)


def cmyk_jpeg(
    path: PathLike,
    cmyk: tuple[int, int, int, int] = (0, 255, 255, 0),
    size: tuple[int, int] = (64, 48),
    icc: bytes | None = None,
) -> Path:
    """Solid CMYK JPEG (255 = full ink), optionally with an embedded ICC profile.

    Pillow stores the samples inverted (Adobe/Photoshop polarity, with an APP14
    "Adobe" marker) and decodes every CMYK JPEG as inverted, so its own round trip
    is transparent; a CMYK JPEG stored non-inverted would load as a negative.
    """
    Image.new("CMYK", size, cmyk).save(path, "JPEG", quality=95, icc_profile=icc)
    return Path(path)


GPS_LATITUDE = (52.0, 22.0, 12.34)  # Amsterdam-ish; degrees, minutes, seconds
XMP_MARKER = "thumbgen-test-xmp"


def _xmp() -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        ' exif:GPSLatitude="52,22.2057N" exif:GPSLongitude="4,53.4E">'
        f"<dc:creator><rdf:Seq><rdf:li>{XMP_MARKER}</rdf:li></rdf:Seq></dc:creator>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def jpeg_with_gps(path: PathLike, size: tuple[int, int] = (120, 80)) -> Path:
    """JPEG with EXIF (Make, Model, Orientation=1, GPSInfo IFD) and an XMP packet.

    Meant for metadata-stripping tests: the GPS position is in both EXIF and XMP.
    """
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    exif[0x010F] = "ThumbgenTestCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[ORIENTATION] = 1
    exif[0x8825] = {  # GPSInfo IFD
        1: "N",
        2: tuple(rational(round(v * 100), 100) for v in GPS_LATITUDE),
        3: "E",
        4: (rational(4), rational(53), rational(24)),
    }
    # Pillow >= 11 writes xmp= as its own APP1 "http://ns.adobe.com/xap/1.0/" segment.
    asymmetric(size).save(path, "JPEG", quality=90, exif=exif, xmp=_xmp())
    return Path(path)


def transparent_png(path: PathLike, size: tuple[int, int] = (64, 64)) -> Path:
    """RGBA: left half fully transparent, right half opaque blue.

    The transparent pixels hold magenta so a naive ``convert("RGB")`` (which drops
    alpha instead of compositing) shows up as magenta in a test.
    """
    w, h = size
    img = Image.new("RGBA", size, (255, 0, 255, 0))
    img.paste((0, 0, 255, 255), (w // 2, 0, w, h))
    img.save(path, "PNG")
    return Path(path)


def palette_transparent_png(path: PathLike, size: tuple[int, int] = (64, 64)) -> Path:
    """Mode P: left half palette index 0 (transparent), right half index 1 (green)."""
    w, h = size
    img = Image.new("P", size, 0)
    img.putpalette([255, 0, 255, 0, 200, 0])
    img.paste(1, (w // 2, 0, w, h))
    img.save(path, "PNG", transparency=0)
    return Path(path)


def la_png(path: PathLike, size: tuple[int, int] = (64, 64)) -> Path:
    """Mode LA: mid-grey whose alpha ramps 0 (left) to 255 (right)."""
    w, h = size
    ramp = bytes(x * 255 // max(1, w - 1) for x in range(w))  # exact 0 and 255 at the edges
    img = Image.merge("LA", (Image.new("L", size, 128), Image.frombytes("L", size, ramp * h)))
    img.save(path, "PNG")
    return Path(path)


def one_bit_png(path: PathLike, size: tuple[int, int] = (64, 64)) -> Path:
    """Mode 1 (bilevel): black left half, white right half."""
    w, h = size
    img = Image.new("1", size, 0)
    img.paste(1, (w // 2, 0, w, h))
    img.save(path, "PNG")
    return Path(path)


FRAME_COLOURS: tuple[RGB, ...] = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def animated(
    path: PathLike, fmt: Literal["GIF", "WEBP", "PNG"], size: tuple[int, int] = (48, 32)
) -> Path:
    """Three solid frames (FRAME_COLOURS: red first), 100 ms each; PNG means APNG."""
    frames = [Image.new("RGB", size, c) for c in FRAME_COLOURS]
    # lossless WebP keeps the colours exact; loop=0 = forever
    extra = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(
        path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **extra
    )
    return Path(path)


def truncated_jpeg(path: PathLike, size: tuple[int, int] = (2000, 1500)) -> Path:
    """A baseline JPEG cut after half its bytes: the header parses, decoding fails."""
    # Noise spreads the entropy-coded data evenly, so half the bytes ~ half the rows.
    noise = [Image.effect_noise(size, 40) for _ in range(3)]
    buf = io.BytesIO()
    Image.merge("RGB", noise).save(buf, "JPEG", quality=80)
    data = buf.getvalue()
    Path(path).write_bytes(data[: len(data) // 2])
    return Path(path)


def huge_header_png(path: PathLike, width: int = 100_000, height: int = 100_000) -> Path:
    """A few hundred bytes of PNG whose IHDR claims ``width`` x ``height`` RGB.

    IDAT holds a single compressed zero scanline (CRCs are valid), so only
    decoding, never parsing, would need the declared memory.
    """
    idat = zlib.compress(b"\x00" * (1 + 3 * width), 9)
    Path(path).write_bytes(_png(width, height, 8, 2, idat))
    return Path(path)


def text_as_jpg(path: PathLike) -> Path:
    """A plain text file (typically named ``*.jpg``)."""
    Path(path).write_text("This is not a JPEG, just text with a misleading name.\n")
    return Path(path)


def png_named_jpg(path: PathLike) -> Path:
    """A valid PNG (of asymmetric()) saved under whatever name is given, e.g. ``*.jpg``."""
    asymmetric().save(path, "PNG")
    return Path(path)


def tagged(img: Image.Image, path: PathLike, icc_bytes: bytes, fmt: str = "PNG") -> Path:
    """Save ``img`` as ``fmt`` with ``icc_bytes`` embedded as its ICC profile."""
    extra = {"quality": 95} if fmt.upper() in {"JPEG", "WEBP"} else {}
    img.save(path, fmt, icc_profile=icc_bytes, **extra)
    return Path(path)


def _without_app14(data: bytes) -> bytes:
    """JPEG bytes with every APP14 ("Adobe") segment before the first scan removed."""
    out, pos = bytearray(data[:2]), 2
    while pos < len(data):
        marker = data[pos : pos + 2]
        if marker == b"\xff\xda":  # start of scan: the rest is entropy-coded data
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker != b"\xff\xee":
            out += data[pos : pos + 2 + length]
        pos += 2 + length
    return bytes(out + data[pos:])


def cmyk_jpeg_plain(
    path: PathLike,
    cmyk: tuple[int, int, int, int] = (0, 255, 255, 0),
    size: tuple[int, int] = (64, 48),
) -> Path:
    """Solid CMYK JPEG stored *non*-inverted, without the APP14 "Adobe" marker.

    Decoders that follow libjpeg/libvips read such samples as plain CMYK; Pillow
    inverts every CMYK JPEG, so it sees the colour negative of ``cmyk``.
    """
    # Pillow inverts on save: saving the negative stores ``cmyk`` itself.
    negative = tuple(255 - v for v in cmyk)
    buf = io.BytesIO()
    Image.new("CMYK", size, negative).save(buf, "JPEG", quality=95)
    Path(path).write_bytes(_without_app14(buf.getvalue()))
    return Path(path)


def photo_jpeg(path: PathLike, size: tuple[int, int] = (2400, 1600), **save: object) -> Path:
    """A large baseline JPEG of asymmetric(), for decode-size (DCT scaling) tests."""
    asymmetric(size).save(path, "JPEG", quality=85, **save)
    return Path(path)


def checkerboard(size: tuple[int, int] = (512, 512)) -> Image.Image:
    """1-pixel black/white checkerboard ("L"): any proper downscale averages to grey."""
    w, h = size
    row0 = bytes(255 * ((x + 0) % 2) for x in range(w))
    row1 = bytes(255 * ((x + 1) % 2) for x in range(w))
    return Image.frombytes("L", size, b"".join(row0 if y % 2 == 0 else row1 for y in range(h)))


def avif_with_major_brand(path: PathLike, brand: bytes = b"mif1") -> Path:
    """An AVIF of asymmetric() whose ftyp major brand is rewritten (e.g. to ``mif1``).

    ``avif`` stays among the compatible brands, as in files from several encoders.
    """
    buf = io.BytesIO()
    asymmetric((32, 24)).save(buf, "AVIF", quality=90)
    data = bytearray(buf.getvalue())
    assert data[4:8] == b"ftyp"
    data[8:12] = brand
    Path(path).write_bytes(bytes(data))
    return Path(path)


def write_jpegs(
    folder: Path, count: int, size: tuple[int, int] = (64, 48), prefix: str = "img"
) -> list[Path]:
    """``count`` distinct JPEG photos-to-be (noise, so they do not compress to nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Image.effect_noise(size, 60).convert("RGB")
    paths = []
    for i in range(count):
        path = folder / f"{prefix}{i:04d}.jpg"
        # The file's number in black and white 8x8 blocks makes every file
        # different content: a marker pixel, even a block of a shade, did not
        # survive JPEG (neighbours came out byte-identical).
        im = base.copy()
        for bit in range(min(16, (size[0] // 8) * (size[1] // 8))):
            x, y = (bit % (size[0] // 8)) * 8, (bit // (size[0] // 8)) * 8
            im.paste((255, 255, 255) if i >> bit & 1 else (0, 0, 0), (x, y, x + 8, y + 8))
        im.save(path, quality=85)
        paths.append(path)
    return paths


def slow_pngs(
    folder: Path,
    count: int,
    size: tuple[int, int] = (2400, 2400),
    noise: float = 80,
    name: str = "slow{i}.png",
) -> list[Path]:
    """``count`` copies of one large noisy PNG: slow to decode, so jobs are still running.

    Noise does not compress and a low compression level makes no small file
    either: each decode takes a while (longer with ``size``). ``name`` is
    formatted with the index ``i``.
    """
    folder.mkdir(parents=True)
    paths = [folder / name.format(i=i) for i in range(count)]
    Image.effect_noise(size, noise).convert("RGB").save(paths[0], compress_level=1)
    for path in paths[1:]:
        shutil.copyfile(paths[0], path)
    return paths
