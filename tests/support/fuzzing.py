"""Fuzzing the decode path: seed files of every format, byte mutations, the property.

:func:`seeds` makes one small real file per kind thumbgen reads (JPEG
baseline and progressive with EXIF orientation and an ICC profile, PNG 8/16
bit, palette and alpha, animated GIF, WebP, multi-page and 16-bit TIFF, AVIF,
HEIC; and BMP, DNG, JPEG XL (RGB, and CMYK where a system libjxl writes it),
SVG). :func:`mutated` damages one: bytes flipped,
inserted, deleted, the file truncated, chunks or segments dropped, repeated,
swapped or spliced in from another seed, header dimensions changed. :func:`run_job` runs the bytes
through what a worker does with a job (the memory budget, then
:func:`~thumbgen.thumbnailing.make_thumbnails` into a real output folder,
under the worker's own time limit) and checks the property: complete
thumbnails, or one :class:`~thumbgen.errors.ThumbgenError` line and nothing
in the output folder.
"""

from __future__ import annotations

import functools
import io
import os
import signal
import struct
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import currently_in_test_context, event
from hypothesis import strategies as st
from PIL import Image, ImageFilter

from thumbgen.errors import ThumbgenError
from thumbgen.imaging import budget
from thumbgen.options import build_options
from thumbgen.thumbnailing import make
from thumbgen.workers.limits import JobTimedOut, time_limit

from .formatgen import heic, jxl, svg_quadrants
from .iccgen import cmyk_profile, display_p3
from .imagegen import ORIENTATION, animated
from .jxlgen import available as jxlgen_available
from .jxlgen import encode_cmyk
from .rawgen import dng

#: Seconds an in-process example may take before the worker's own limit stops
#: it (a hang becomes a failed job, and the suite cannot hang).
GUARD_SECONDS = float(os.environ.get("THUMBGEN_FUZZ_GUARD", "20"))
#: Examples per fuzz test: small in the normal suite, large in ``nox -s fuzz``.
EXAMPLES = int(os.environ.get("THUMBGEN_FUZZ_EXAMPLES", "0") or 0)


def examples(default: int) -> int:
    """``THUMBGEN_FUZZ_EXAMPLES`` when set (the long run), else ``default``."""
    return EXAMPLES or default


def _picture(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """Blurred noise with a gradient: compresses like a photo, not to nothing."""
    noise = Image.effect_noise(size, 70).filter(ImageFilter.GaussianBlur(1))
    return Image.merge("RGB", (noise, Image.linear_gradient("L").resize(size), noise))


def _save(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


@functools.cache
def seeds() -> tuple[tuple[str, bytes], ...]:
    """``(extension, bytes)`` of one small real file per kind of source."""
    rgb = _picture()
    rgba = rgb.copy()
    rgba.putalpha(Image.linear_gradient("L").resize(rgb.size))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    tagged = {"exif": exif.tobytes(), "icc_profile": display_p3(), "quality": 80}
    grey16 = Image.linear_gradient("L").resize(rgb.size).convert("I").point(lambda v: v * 257)
    frames = [rgb, rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT), rgb.convert("L").convert("RGB")]
    with tempfile.TemporaryDirectory() as tmp:
        gif = animated(Path(tmp) / "a.gif", "GIF").read_bytes()
        heic_bytes = heic(Path(tmp) / "a.heic", rgb, quality=60).read_bytes()
        dng_bytes = dng(Path(tmp) / "a.dng").read_bytes()
        jxl_bytes = jxl(Path(tmp) / "a.jxl", rgb, lossless=False, quality=70).read_bytes()
        svg_bytes = svg_quadrants(Path(tmp) / "a.svg").read_bytes()
    # A CMYK JPEG XL with alpha goes through the system libjxl (by ctypes: a crash
    # there would kill the worker), where one is installed to write it.
    cmyk_jxl = (
        (("jxl", encode_cmyk(rgb.convert("CMYK"), cmyk_profile(), alpha=rgba.getchannel("A"))),)
        if jxlgen_available()
        else ()
    )
    return (
        ("jpg", _save(rgb, "JPEG", **tagged)),
        ("jpg", _save(rgb, "JPEG", progressive=True, **tagged)),
        ("jpg", _save(rgb.convert("CMYK"), "JPEG", progressive=True, quality=80)),
        ("png", _save(rgb, "PNG")),
        ("png", _save(grey16.convert("I;16"), "PNG")),
        ("png", _save(rgb.quantize(16), "PNG", transparency=0)),
        ("png", _save(rgba, "PNG", icc_profile=display_p3())),
        ("gif", gif),
        ("webp", _save(rgba, "WEBP", quality=70)),
        ("webp", _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)),
        ("tif", _save(frames[0], "TIFF", save_all=True, append_images=frames[1:])),
        ("tif", _save(grey16.convert("I;16"), "TIFF", compression="tiff_deflate")),
        ("avif", _save(rgb, "AVIF", quality=60, exif=exif.tobytes())),
        ("heic", heic_bytes),
        # Beyond the common seven: the other decoders a worker runs.
        ("bmp", _save(rgba, "BMP")),
        ("dng", dng_bytes),
        ("jxl", jxl_bytes),
        *cmyk_jxl,
        ("svg", svg_bytes),
    )


@functools.cache
def media_seeds() -> tuple[tuple[str, bytes], ...]:
    """Videos (H.264 in MP4, VP9 in WebM), a two-page PDF, and the animated GIF and WebP.

    For the videos, PDFs and ``--animated``: slower to decode than the image
    seeds, so fuzzed apart from them with fewer examples.
    """
    from .pdfgen import pdf
    from .videogen import video

    rgb = _picture((64, 48))
    with tempfile.TemporaryDirectory() as tmp:
        mp4 = video(Path(tmp) / "a.mp4", size=(64, 48), seconds=1.2, gop=4).read_bytes()
        webm = video(
            Path(tmp) / "a.webm", size=(64, 48), seconds=0.6, codec="libvpx-vp9"
        ).read_bytes()
        document = pdf(Path(tmp) / "a.pdf", [rgb, rgb.rotate(90, expand=True)]).read_bytes()
    moving = [(e, d) for e, d in seeds() if e == "gif" or (e == "webp" and b"ANIM" in d)]
    return (("mp4", mp4), ("webm", webm), ("pdf", document), *moving)


# --- Where the structure is: chunks, segments, boxes, dimension fields ------------------


def _png_chunks(data: bytes) -> list[tuple[int, int]]:
    spans, pos = [], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 12 + length
        if end > len(data):
            break
        spans.append((pos, end))
        pos = end
    return spans


def _jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    spans, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if marker == 0xDA:  # a scan: up to the next marker that is not RST or stuffing
            end = data.find(b"\xff", end)
            while 0 <= end < len(data) - 1 and (
                data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7
            ):
                end = data.find(b"\xff", end + 2)
            if end < 0:
                break
        if end > len(data) or end <= pos:
            break
        spans.append((pos, end))
        pos = end
    return spans


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """ISOBMFF boxes (AVIF, HEIC) at one level; RIFF chunks are handled alike below."""
    spans, pos, end = [], start, len(data) if end is None else end
    while pos + 8 <= end:
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        if size < 8 or pos + size > end:
            break
        spans.append((pos, pos + size))
        pos += size
    return spans


def _riff_chunks(data: bytes) -> list[tuple[int, int]]:
    spans, pos = [], 12
    while pos + 8 <= len(data):
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size + (size & 1)
        if end > len(data):
            break
        spans.append((pos, end))
        pos = end
    return spans


def spans(data: bytes) -> list[tuple[int, int]]:
    """The top-level structural units of ``data`` (empty for unknown layouts)."""
    if data.startswith(b"\x89PNG"):
        return _png_chunks(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_segments(data)
    if data.startswith(b"RIFF"):
        return _riff_chunks(data)
    if data[4:8] == b"ftyp":
        top = _boxes(data)
        meta = [s for s in top if data[s[0] + 4 : s[0] + 8] == b"meta"]
        inner = _boxes(data, meta[0][0] + 12, meta[0][1]) if meta else []
        return top + inner
    return []


def _png_dims(data: bytes) -> list[tuple[int, str]]:
    return [(16, ">I"), (20, ">I")]


def _jpeg_dims(data: bytes) -> list[tuple[int, str]]:
    frames = [s for s, _ in _jpeg_segments(data) if data[s + 1] in (0xC0, 0xC1, 0xC2)]
    return [(at, ">H") for s in frames for at in (s + 5, s + 7)]


def _gif_dims(data: bytes) -> list[tuple[int, str]]:
    fields = [(6, "<H"), (8, "<H")]
    at = data.find(b"\x2c", 13)  # the first image descriptor (or a byte like it)
    return fields + ([(at + 5, "<H"), (at + 7, "<H")] if at >= 0 else [])


def _webp_dims(data: bytes) -> list[tuple[int, str]]:
    fields = []
    at = data.find(b"VP8X")
    if at >= 0:
        fields += [(at + 12, "<3s"), (at + 15, "<3s")]
    at = data.find(b"\x9d\x01\x2a")  # the VP8 key-frame start code
    if at >= 0:
        fields += [(at + 3, "<H"), (at + 5, "<H")]
    return fields


def _tiff_dims(data: bytes) -> list[tuple[int, str]]:
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd + 2 > len(data):
        return []
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    fields = []
    for entry in range(ifd + 2, min(ifd + 2 + 12 * count, len(data) - 11), 12):
        tag, kind = struct.unpack(order + "HH", data[entry : entry + 4])
        if tag in (256, 257):
            fields.append((entry + 8, order + ("H" if kind == 3 else "I")))
    return fields


def _bmp_dims(data: bytes) -> list[tuple[int, str]]:
    return [(18, "<i"), (22, "<i")]


def _iso_dims(data: bytes) -> list[tuple[int, str]]:
    at = data.find(b"ispe")
    fields = [(at + 8, ">I"), (at + 12, ">I")] if at >= 0 else []
    at = data.find(b"avc1")  # a video's sample entry: 24 bytes in, its width and height
    return fields + ([(at + 28, ">H"), (at + 30, ">H")] if at >= 0 else [])


_DIMS = {
    b"\x89PNG": _png_dims,
    b"\xff\xd8": _jpeg_dims,
    b"GIF": _gif_dims,
    b"BM": _bmp_dims,
    b"RIFF": _webp_dims,
    b"II*\0": _tiff_dims,
    b"MM\0*": _tiff_dims,
}


def dimension_fields(data: bytes) -> list[tuple[int, str]]:
    """``(offset, struct format)`` of each width or height field the header holds."""
    if len(data) < 24:
        return []
    finder = next((f for magic, f in _DIMS.items() if data.startswith(magic)), _iso_dims)
    return [(at, fmt) for at, fmt in finder(data) if at + struct.calcsize(fmt) <= len(data)]


def put_field(data: bytearray, at: int, fmt: str, value: int) -> None:
    """Store ``value`` (wrapped to fit) in the field at ``at`` that ``fmt`` describes."""
    if fmt.endswith("3s"):
        data[at : at + 3] = (min(value, 1 << 24) - 1 & 0xFFFFFF).to_bytes(3, "little")
        return
    bits = 8 * struct.calcsize(fmt)
    # Packed unsigned: a signed field (BMP's) gets the negative values too.
    data[at : at + struct.calcsize(fmt)] = struct.pack(fmt.replace("i", "I"), value % (1 << bits))


#: Values that make decoders misbehave: zero, one, tiny, the edges of 16 bits, huge.
_DIMENSIONS = st.one_of(
    st.sampled_from([0, 1, 2, 7, 255, 256, 4096, 13000, 32767, 32768, 65535, 65536, 1 << 31]),
    st.integers(0, 1 << 32),
)

_MUTATIONS = ["flip", "insert", "delete", "truncate", "dims"]
_RESTRUCTURES = ["inside", "inside", "drop", "repeat", "swap", "splice"]


def _restructure(
    draw: st.DrawFn, kind: str, data: bytearray, ext: str, seed: bytes, pool: Pool
) -> None:
    """Damage a chunk, segment or box: a byte inside, dropped, repeated, swapped, spliced."""
    units = spans(bytes(data))
    if not units:
        return
    start, end = draw(st.sampled_from(units))
    if kind == "inside":  # a header field, a chunk length, a profile or EXIF entry
        at = draw(st.integers(start, min(end, start + 256) - 1))
        data[at] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, data[at] ^ 0x10]))
    elif kind == "drop":
        del data[start:end]
    elif kind == "repeat":
        data[end:end] = data[start:end] * draw(st.integers(1, 3))
    elif kind == "swap":
        a, b = sorted([(start, end), draw(st.sampled_from(units))])
        if a[1] <= b[0]:
            data[a[0] : b[1]] = data[b[0] : b[1]] + data[a[1] : b[0]] + data[a[0] : a[1]]
    else:  # splice: a unit of another seed of the same kind of file, in place of this one
        donors = [s for e, s in pool() if e == ext and s != seed] or [seed]
        donor = draw(st.sampled_from(donors))
        theirs = spans(donor)
        if theirs:
            d_start, d_end = draw(st.sampled_from(theirs))
            data[start:end] = donor[d_start:d_end]


def _mutate(draw: st.DrawFn, kind: str, data: bytearray) -> None:
    """A byte-level mutation, or a changed width or height field."""
    # Mostly past the signature: hypothesis favours small numbers, and a damaged
    # signature only ever means "not an image".
    low = 0 if draw(st.integers(0, 3)) == 0 else min(16, len(data) - 1)
    at = draw(st.integers(low, max(0, len(data) - 1)))
    if kind == "flip":
        if draw(st.booleans()):
            data[at] ^= 1 << draw(st.integers(0, 7))
        else:
            data[at] = draw(st.integers(0, 255))
    elif kind == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=16))
    elif kind == "delete":
        del data[at : at + draw(st.integers(1, 256))]
    elif kind == "truncate":
        del data[at:]
    else:
        fields = dimension_fields(bytes(data))
        if fields:
            where, fmt = draw(st.sampled_from(fields))
            put_field(data, where, fmt, draw(_DIMENSIONS))


#: Where seeds come from: :func:`seeds` or :func:`media_seeds`.
Pool = Callable[[], tuple[tuple[str, bytes], ...]]


@st.composite
def mutated(draw: st.DrawFn, pool: Pool = seeds) -> tuple[str, bytes]:
    """A seed of ``pool`` with one to five mutations: ``(extension, bytes)``."""
    ext, seed = draw(st.sampled_from(pool()))
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(_MUTATIONS + _RESTRUCTURES))
        if kind in _RESTRUCTURES:
            _restructure(draw, kind, data, ext, seed, pool)
        else:
            _mutate(draw, kind, data)
        if not data:
            data = bytearray(b"\0")
    return ext, bytes(data)


# --- The property -----------------------------------------------------------------------


def _decodes_completely(path: str) -> tuple[int, int]:
    with Image.open(path) as im:
        im.load()
        return im.size


#: Output options a job may ask for: several sizes (one decode, resampled from the
#: largest), a box small enough for the progressive-JPEG DC-scan decode, crops, pads
#: and every output format.
JOBS = st.sampled_from(
    [
        {"sizes": ["64", "16"]},
        {"sizes": ["8"]},
        {"sizes": ["32x20"], "fit": "cover", "format": "png"},
        {"sizes": ["24"], "fit": "pad", "format": "webp"},
        {"sizes": ["40x40"], "fit": "cover", "crop": "entropy", "format": "avif"},
    ]
)


#: Jobs for :func:`media_seeds`: a poster or page, and ``--animated`` previews (WebP, GIF).
MEDIA_JOBS = st.sampled_from(
    [
        {"sizes": ["64", "16"]},
        {"sizes": ["48"], "animated": True},
        {"sizes": ["32x32"], "fit": "cover", "animated": True, "format": "gif"},
    ]
)


def run_job(data: bytes, ext: str, job: dict[str, Any] | None = None) -> str:
    """Run ``data`` as a worker would and check the property; the outcome, for statistics.

    Outcomes: ``"done"``, ``"failed: <ErrorClass>"``, ``"timed out"``. Any other
    exception propagates (the fuzzer's finding); so do failed assertions.
    """
    job = dict(job or {"sizes": ["64", "16"]})
    sizes = job.pop("sizes")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"source.{ext}"
        src.write_bytes(data)
        out = Path(tmp) / "out"
        options = build_options(sizes, out_dir=out, **job)
        outcome, message = "done", None
        with warnings.catch_warnings(record=True) as seen:
            # In a worker warnings only print; here they must not become errors.
            warnings.simplefilter("always")
            # pytest-timeout's own alarm (the suite's hang guard), re-armed after ours.
            outer, started = signal.getitimer(signal.ITIMER_REAL)[0], time.monotonic()
            try:
                with time_limit(GUARD_SECONDS):
                    made = make(str(src), options, max_memory=budget.MAX_MEMORY).thumbnails
            except ThumbgenError as exc:
                message, outcome = str(exc), f"failed: {type(exc).__name__}"
                made = []
            except JobTimedOut:
                outcome = "timed out"
                made = []
            finally:
                if outer:
                    left = outer - (time.monotonic() - started)
                    signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))
        if message is not None:
            assert message, f"{outcome} with an empty message"
            assert "\n" not in message, repr(message)
            assert "\r" not in message, repr(message)
        if currently_in_test_context():
            for w in seen:
                event(f"warning: {w.category.__name__}")
            event(outcome)
        left = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
        assert left == sorted(os.path.relpath(t.path, out) for t in made), (outcome, left)
        for thumb in made:
            assert _decodes_completely(thumb.path) == (thumb.width, thumb.height)
            assert max(thumb.width, thumb.height) <= max(int(v) for v in sizes[0].split("x"))
        return outcome


# --- Hostile files for real workers ------------------------------------------------------


def slow_progressive_jpeg(path: Path, side: int = 4000, scans: int = 5000) -> Path:
    """A small grey progressive JPEG with ``scans`` extra scans: seconds of decoding.

    Each extra scan is a few bytes of end-of-band runs over every block (the
    zero scan :mod:`thumbgen.imaging.jpeg_dc` appends), so the file stays
    small and within the memory budget while libjpeg walks every block once a
    scan: a decode that outlasts any sane per-job time limit.
    """
    from thumbgen.imaging import jpeg_dc

    data = _save(Image.new("L", (side, side), 128), "JPEG", progressive=True, quality=50)
    blocks = (-(-side // 8)) ** 2
    header = bytes([1, 1, 0, 1, 1, 0])  # component 1, table 0, Ss = Se = 1, Ah = Al = 0
    scan = b"\xff\xda" + (2 + len(header)).to_bytes(2, "big") + header
    scan += jpeg_dc._eob_runs(blocks)
    path.write_bytes(data[:-2] + jpeg_dc._EOB_DHT + scan * scans + b"\xff\xd9")
    return path


def png_bomb(path: Path, side: int = 13000) -> Path:
    """An RGB PNG of ``side`` x ``side`` black pixels: ~500 KB that decodes to ~500 MiB."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    packer = zlib.compressobj(9)
    row = b"\0" * (side * 3 + 1)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path
