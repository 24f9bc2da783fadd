"""HEIC/HEIF through pillow-heif (libheif): upright once, small when an embedded thumbnail will do.

The trap: HEIF stores rotation and mirroring in its own ``irot``/``imir``
boxes, which libheif applies while decoding, while the EXIF inside still says
orientation 6 (iPhones write both). Applying the EXIF tag as well turns the
picture twice. The HEIF specification makes the boxes normative and the EXIF
orientation informative, as libvips and browsers read it, so the pixels
libheif returns are upright and the EXIF orientation is never applied.

10-bit and 12-bit images come out as 8-bit (pillow-heif scales them), images
with alpha as RGBA, and for a file holding several images (a burst, a
sequence) the primary one, which viewers show.
"""

from __future__ import annotations

from PIL import Image

from thumbgen.options import OutputSpec

from .decoders import Stored, draft


def decode_heif(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode the primary image, from an embedded thumbnail when one is large enough."""
    # im.size is already the displayed size: libheif applies irot/imir.
    size = im.size
    draft(im, specs, size, swap=False)
    im.load()
    return Stored(im, size, orientation=1)
