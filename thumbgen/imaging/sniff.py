"""Tell images from other files by their first bytes, not their names.

``add`` looks at every file it is given; reading a few bytes is about 20 times
cheaper than asking Pillow, which matters at 100,000 files. Files whose bytes
match no signature are handed to Pillow as a last resort (TGA has no magic).

Two families need more than fixed bytes: camera RAW files that are TIFF files
inside (a DNG is told by its DNGVersion tag, a CR2 by Canon's marker, the
others only by their extension, as their content is a valid TIFF), and SVG,
an XML document told by its root element (gzipped as ``.svgz``).
"""

from __future__ import annotations

import os
import re
import warnings
from typing import BinaryIO

from . import formats, headers

#: Enough for every signature and a typical ISO "ftyp" box.
HEAD_BYTES = 64
#: How far into an XML file the root element is looked for (after prolog and comments).
XML_BYTES = 4096
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<")
# The prolog SVG files start with: XML declaration, comments, processing
# instructions and a DOCTYPE (with an internal subset), then the root's name.
_XML_ROOT = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*"
    rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]",
    re.DOTALL,
)
_CANON_CR2 = (8, b"CR\x02\x00")


class NotImage(Exception):
    """Raised by :func:`sniff` with the reason a file is not a readable image."""


def sniff(f: BinaryIO, name: str) -> str:
    """Return the image format of the open file ``f`` (``"JPEG"``, ``"PNG"``...) or raise NotImage.

    ``name`` is the file's name (its extension breaks ties between formats
    that share a container). Signatures and brands come from
    :data:`~thumbgen.imaging.formats.INPUTS`. ``OSError`` from reading is
    left to the caller.
    """
    if not f.read(1):
        raise NotImage("empty file")
    found = identify(f, name)
    if found is None:
        return _ask_pillow(f)
    if found.skip is not None:
        raise NotImage(found.skip)
    why = formats.missing(found)
    if why is not None:
        raise NotImage(why)
    return found.name


def identify(f: BinaryIO, name: str) -> formats.ImageFormat | None:
    """The format the content of the open file ``f`` names, or None; ``f`` is left at 0.

    ``name`` is the file's path; its extension only breaks ties between formats
    that share a container.
    """
    f.seek(0)
    head = f.read(HEAD_BYTES)
    f.seek(0)
    found = _recognise(head)
    if found is not None and found.name == "TIFF":
        found = _inside_tiff(f, head, name) or found
    elif found is None and _XML_START.match(head):
        found = _xml_format(f)
    elif found is None and head[:2] == b"\x1f\x8b":
        ext = os.path.splitext(name)[1].lower()
        found = next((g for g in formats.GZIPPED if ext in g.gzip_extensions), None)
    f.seek(0)
    return found


def _inside_tiff(f: BinaryIO, head: bytes, name: str) -> formats.ImageFormat | None:
    """The TIFF-based format (camera RAW) a TIFF file really is, or None for a plain TIFF.

    Content first (a DNG named ``.tif`` is still a DNG), then the extension:
    a NEF or an ARW is a valid TIFF whose first image is a small preview.
    """
    if not formats.TIFF_BASED:
        return None
    if head.startswith(_CANON_CR2[1], _CANON_CR2[0]) or headers.is_dng(f):
        return formats.TIFF_BASED[0]
    ext = os.path.splitext(name)[1].lower()
    return next((t for t in formats.TIFF_BASED if ext in t.extensions), None)


def _xml_format(f: BinaryIO) -> formats.ImageFormat | None:
    """The format of an XML document, told by the name of its root element."""
    f.seek(0)
    match = _XML_ROOT.match(f.read(XML_BYTES))
    if match is None:
        return None
    return formats.XML_ROOTS.get(match.group(1).decode("ascii", "replace"))


def _recognise(head: bytes) -> formats.ImageFormat | None:
    """The format ``head`` names by signature or ISO brand; None when it names none."""
    for signature, fmt in formats.SIGNATURES:
        if signature.matches(head):
            return fmt
    if head[4:8] == b"ftyp":
        brands = _iso_brands(head)
        for fmt in formats.BRANDED:
            if any(b in fmt.brands for b in brands):
                return fmt
    for signature, fmt in formats.WEAK_SIGNATURES:
        if signature.matches(head):
            return fmt
    return None


def _iso_brands(head: bytes) -> list[bytes]:
    """Major and compatible brands of the ISO-BMFF ``ftyp`` box at the start of ``head``.

    Many AVIF files carry the generic major brand ``mif1`` (shared with HEIC)
    and say ``avif`` only among their compatible brands, so all are needed.
    """
    size = int.from_bytes(head[:4], "big")
    end = min(size, len(head)) if size >= 16 else len(head)
    # major brand at 8, minor version at 12, compatible brands from 16 on
    return [head[8:12]] + [head[i : i + 4] for i in range(16, end - 3, 4)]


def _ask_pillow(f: BinaryIO) -> str:
    # Imported here: most files are told by their bytes, and ``add`` should not
    # pay for Pillow unless one is not.
    from PIL import Image, UnidentifiedImageError

    from .pillow_limits import pillow_limit_lifted

    try:
        with warnings.catch_warnings(), pillow_limit_lifted():
            warnings.simplefilter("ignore")
            # Without the lifted limit a huge header raises here; the imaging
            # core then refuses it with a clear --max-pixels message instead.
            f.seek(0)
            with Image.open(f, formats=formats.READ_FORMATS) as im:
                return str(im.format)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NotImage("not an image (unrecognised content)") from None
