"""The SVG drawing process: parse, strip every outside reference, draw with resvg.

Run by :mod:`.svg` as a separate Python process
(``python -I svg_render.py BASE_BYTES BYTES_PER_PIXEL MAX_BYTES``: its memory
cap and the largest document), and
otherwise imported only for its constants and by tests: resvg allocates the
whole canvas up front and aborts the process when it cannot, and a hostile
drawing can take any time, so the process is what gets killed, capped and
timed, not a worker.
It uses only the standard library and resvg_py.

Conversation on stdin/stdout (numbers as text lines, blobs length-prefixed):
the parent sends the file's bytes; this process answers ``size W H`` (the
drawing's own size in CSS pixels); the parent sends ``draw W H``; this
process answers with the PNG. A failure is one line on stderr and exit
status 2 (not an SVG it can read) or 3 (resvg failed).

Nothing outside the file is ever read: every ``href`` that is not a fragment
(``#id``) or an embedded raster image (``data:image/png``, jpeg, gif, webp)
is removed before resvg sees the document, resvg has no network code, and
it runs with an empty folder as its resources folder and working directory.
An embedded SVG (``data:image/svg+xml``, as browsers draw it) is inside the
file too: it is kept once it has been sanitised the same way, to a bounded
depth, and handed to resvg re-encoded.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from typing import BinaryIO

try:
    import resource
except ImportError:  # not POSIX: the parent's time limit still applies
    resource = None  # type: ignore[assignment]

SVG_NS = "http://www.w3.org/2000/svg"
#: Largest document accepted, compressed or not; the parent passes its own limit.
MAX_BYTES = 16 << 20
# CSS absolute units in px (CSS Values 4): what resvg uses at 96 dpi.
_UNITS = {"px": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "pt": 4 / 3, "pc": 16.0,
          "em": 16.0, "ex": 8.0, "": 1.0}  # fmt: skip
_LENGTH = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-z%]*)\s*$")
_RASTER = ("image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp")
_SVG_MEDIA = "image/svg+xml"
#: How deep SVGs embedded in SVGs are followed; deeper ones are dropped.
MAX_NESTING = 4


class Refused(Exception):
    """The document cannot be drawn; the message says why."""


def _limit_memory(size: int) -> None:
    if resource is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        size = min(size, hard)
    resource.setrlimit(resource.RLIMIT_AS, (size, hard))


def _read_blob(stream: BinaryIO) -> bytes:
    (length,) = struct.unpack(">Q", stream.read(8))
    return stream.read(length)


def document(data: bytes) -> bytes:
    """The XML text of ``data``, gunzipped (bounded) when it is an SVGZ."""
    if data[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(wbits=31)
        data = inflater.decompress(data, MAX_BYTES + 1)
        if len(data) > MAX_BYTES or inflater.unconsumed_tail:
            raise Refused(f"larger than {MAX_BYTES >> 20} MiB once decompressed")
    if len(data) > MAX_BYTES:
        raise Refused(f"larger than {MAX_BYTES >> 20} MiB")
    return data


def _allowed(href: str) -> bool:
    value = href.strip()
    if value.startswith("#"):
        return True
    return _media(value) in _RASTER


def _media(value: str) -> str | None:
    """The media type of a ``data:`` URI, or None for anything else."""
    if value[:5].lower() != "data:":
        return None
    return value[5:].split(",", 1)[0].split(";", 1)[0].strip().lower()


def _embedded_svg(value: str, depth: int) -> str | None:
    """A ``data:image/svg+xml`` URI with its document sanitised, or None to drop it."""
    header, _, payload = value.strip()[5:].partition(",")
    try:
        if "base64" in header.lower().split(";"):
            data = base64.b64decode(payload, validate=False)
        else:
            data = urllib.parse.unquote_to_bytes(payload)
        root = sanitise(document(data), depth + 1)
    except (Refused, binascii.Error, ValueError):
        return None
    text = ET.tostring(root, encoding="utf-8")
    return f"data:{_SVG_MEDIA};base64,{base64.b64encode(text).decode('ascii')}"


def sanitise(data: bytes, depth: int = 0) -> ET.Element:
    """Parse ``data`` and drop every reference to anything outside it (nested SVGs too)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise Refused(f"not well-formed XML: {exc}") from None
    if root.tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise Refused(f"the root element is {root.tag!r}, not svg")
    for element in root.iter():
        for key in [k for k in element.attrib if k.rsplit("}", 1)[-1] == "href"]:
            value = element.attrib[key]
            if _allowed(value):
                continue
            inner = None
            if _media(value) == _SVG_MEDIA and depth < MAX_NESTING:
                inner = _embedded_svg(value, depth)
            if inner is None:
                del element.attrib[key]
            else:
                element.attrib[key] = inner
    return root


def _length(value: str | None, reference: float | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.match(value)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        return number / 100 * reference if reference is not None else None
    return number * _UNITS[unit] if unit in _UNITS else None


def natural_size(root: ET.Element) -> tuple[float, float]:
    """The drawing's size in CSS px: width/height, else the viewBox, else 100x100 (as resvg)."""
    box = None
    view_box = root.get("viewBox")
    if view_box:
        parts = view_box.replace(",", " ").split()
        if len(parts) == 4:
            try:
                box = (float(parts[2]), float(parts[3]))
            except ValueError:
                box = None
    width = _length(root.get("width"), box[0] if box else None)
    height = _length(root.get("height"), box[1] if box else None)
    if width is None or height is None:
        if box is not None and box[0] > 0 and box[1] > 0:
            # One side given: the other follows the viewBox's shape.
            if width is not None:
                height = width * box[1] / box[0]
            elif height is not None:
                width = height * box[0] / box[1]
            else:
                width, height = box
        else:
            width = 100.0 if width is None else width
            height = 100.0 if height is None else height
    if not (width > 0 and height > 0) or width * height > 1e18:
        raise Refused(f"its size {width}x{height} is not a drawable one")
    return width, height


def main() -> int:
    """Talk to the parent on stdin/stdout; see the module docstring."""
    import resvg_py

    global MAX_BYTES
    base, per_pixel, MAX_BYTES = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    _limit_memory(base)
    try:
        root = sanitise(document(_read_blob(sys.stdin.buffer)))
        width, height = natural_size(root)
    except Refused as exc:
        print(str(exc), file=sys.stderr)
        return 2
    sys.stdout.write(f"size {width!r} {height!r}\n")
    sys.stdout.flush()
    line = sys.stdin.readline().split()
    if len(line) != 3 or line[0] != "draw":
        return 2
    w, h = int(line[1]), int(line[2])
    _limit_memory(base + per_pixel * w * h)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    text = ET.tostring(root, encoding="unicode")
    with tempfile.TemporaryDirectory(prefix="thumbgen-svg-") as empty:
        # An empty folder as the resources folder and working directory: a
        # relative path that escaped the sanitiser would find nothing.
        os.chdir(empty)
        try:
            png = resvg_py.svg_to_bytes(
                svg_string=text, width=w, height=h, dpi=96.0, resources_dir=empty
            )
        except (ValueError, RuntimeError) as exc:
            print(" ".join(str(exc).split()) or type(exc).__name__, file=sys.stderr)
            return 3
    out = sys.stdout.buffer
    out.write(struct.pack(">Q", len(png)) + bytes(png))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
