"""Tell images from other files by their first bytes, not their names.

``add`` looks at every file it is given; reading a few bytes is about 20 times
cheaper than asking Pillow, which matters at 100,000 files. Files whose bytes
match no signature are handed to Pillow as a last resort (TGA has no magic).
"""

from __future__ import annotations

import warnings
from typing import BinaryIO

from . import formats

#: Enough for every signature and a typical ISO "ftyp" box.
HEAD_BYTES = 64


class NotImage(Exception):
    """Raised by :func:`sniff` with the reason a file is not a readable image."""


def sniff(path: str) -> str:
    """Return the image format of ``path`` (``"JPEG"``, ``"PNG"``...) or raise NotImage.

    Signatures and brands come from :data:`~thumbgen.imaging.formats.INPUTS`.
    ``OSError`` from opening or reading the file is left to the caller.
    """
    with open(path, "rb") as f:
        if not f.read(1):
            raise NotImage("empty file")
        found = identify(f, path)
    if found is None:
        return _ask_pillow(path)
    if found.skip is not None:
        raise NotImage(found.skip)
    return found.name


def identify(f: BinaryIO, name: str) -> formats.ImageFormat | None:
    """The format the content of the open file ``f`` names, or None; ``f`` is left at 0.

    ``name`` is the file's path; its extension only breaks ties between formats
    that share a container.
    """
    f.seek(0)
    head = f.read(HEAD_BYTES)
    f.seek(0)
    return _recognise(head)


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


def _ask_pillow(path: str) -> str:
    # Imported here: most files are told by their bytes, and ``add`` should not
    # pay for Pillow unless one is not.
    from PIL import Image, UnidentifiedImageError

    from .reading import pillow_limit_lifted

    try:
        with warnings.catch_warnings(), pillow_limit_lifted():
            warnings.simplefilter("ignore")
            # Without the lifted limit a huge header raises here; the imaging
            # core then refuses it with a clear --max-pixels message instead.
            with Image.open(path, formats=formats.READ_FORMATS) as im:
                return str(im.format)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NotImage("not an image (unrecognised content)") from None
