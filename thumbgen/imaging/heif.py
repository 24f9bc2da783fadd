"""HEIC/HEIF through pillow-heif (libheif), AVIF through Pillow (libavif): one container, ISO-BMFF.

The trap: HEIF stores rotation and mirroring in its own ``irot``/``imir``
boxes, which libheif applies while decoding, while the EXIF inside still says
orientation 6 (iPhones write both). Applying the EXIF tag as well turns the
picture twice. The HEIF specification makes the boxes normative and the EXIF
orientation informative, as libvips and browsers read it, so the pixels
libheif returns are upright and the EXIF orientation is never applied.

Pillow's AVIF plugin gives the pixels as stored with ``irot``/``imir`` turned
into an EXIF orientation, and ignores the clean aperture (``clap``). The
HEIF specification orders them: crop to the clean aperture first, then
rotate, then mirror; so the crop is applied here to the stored pixels and
the orientation after it, as libheif and browsers do.

10-bit and 12-bit images come out as 8-bit, images with alpha as RGBA, and
for a file holding several images (a burst, a sequence) the primary one,
which viewers show. Valid files in a variant the bundled decoders cannot
read (a coding libheif was built without, a colour matrix libavif cannot
convert) are refused by their header as "unsupported", never as corrupt.
"""

from __future__ import annotations

from typing import BinaryIO

from PIL import Image, ImageFile

from thumbgen.options import Options, OutputSpec

from . import isobmff
from .decoders import Stored, decode_full, draft
from .reading import unsupported

#: HEIF codings the bundled libheif (pillow-heif's wheels) decodes: HEVC and the
#: derived images made of HEVC tiles; anything else is named for what it is.
HEIF_CODINGS = (b"hvc1", b"grid", b"iden", b"iovl")
_CODING_NAMES = {
    b"av01": "AV1-coded HEIF (libheif here has no AV1 decoder)",
    b"avc1": "H.264 (AVC) coded HEIF",
    b"jpeg": "JPEG-coded HEIF",
    b"j2k1": "JPEG 2000 coded HEIF",
    b"vvc1": "H.266 (VVC) coded HEIF",
    b"evc1": "EVC-coded HEIF",
    b"unci": "uncompressed HEIF (ISO/IEC 23001-17)",
    b"mski": "HEIF mask image",
}
#: Colour matrices (ISO/IEC 23091-2 MatrixCoefficients) libavif cannot convert to RGB.
AVIF_MATRICES = {
    10: "BT.2020 constant-luminance",
    11: "SMPTE ST 2085",
    13: "chromaticity-derived constant-luminance",
    14: "ICtCp",
}


def decode_heif(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode the primary image, from an embedded thumbnail when one is large enough."""
    # im.size is already the displayed size: libheif applies clap, irot and imir.
    size = im.size
    draft(im, specs, size, swap=False)
    im.load()
    return Stored(im, size, orientation=1)


def decode_avif(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode in full, cropped to the clean aperture; ``irot``/``imir`` come as the orientation."""
    fp = im.fp if isinstance(im, ImageFile.ImageFile) else None
    primary = isobmff.read_primary(fp) if fp is not None else None  # type: ignore[arg-type]
    stored = decode_full(im, specs)
    clap = primary.get(b"clap") if primary is not None else None
    box = isobmff.clean_aperture(clap, stored.image.size) if clap is not None else None
    if box is None:
        return stored
    cropped = stored.image.crop(box)
    cropped.info = dict(stored.image.info)
    return Stored(cropped, cropped.size, stored.orientation)


def check_avif(f: BinaryIO, shown: str, options: Options) -> None:
    """Refuse, by its header, an AVIF whose colour matrix libavif cannot convert.

    Shaped as a file decoder that never decodes: it returns None, leaving the
    file to Pillow's plugin (a damaged header is left to it too).
    """
    primary = isobmff.read_primary(f)
    matrix = isobmff.matrix_coefficients(primary) if primary is not None else None
    if matrix in AVIF_MATRICES:
        raise unsupported(
            shown,
            f"AVIF with the {AVIF_MATRICES[matrix]} colour matrix "
            f"(matrix coefficients {matrix}), which libavif cannot convert",
        )


def check_heif(f: BinaryIO, shown: str, options: Options) -> None:
    """Refuse, by its header, a HEIF whose picture is in a coding the bundled libheif lacks."""
    primary = isobmff.read_primary(f)
    if primary is None or primary.item_type in HEIF_CODINGS:
        return
    coding = primary.item_type.decode("latin-1")
    raise unsupported(shown, _CODING_NAMES.get(primary.item_type, f"HEIF coded as {coding!r}"))
