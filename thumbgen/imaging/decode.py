"""Decoding a source once: open, check its size, decode, turn upright, convert to sRGB.

The source comes open, as a stream from storage, and is told by its first
bytes (:mod:`.sniff`). Only
the header is read before the ``--max-pixels`` check. The pixels then come
from the decoder registered for the source's format: :data:`DECODERS` for
formats Pillow opens (JPEG shrinks while decoding; everything else loads in
full), :data:`FILE_DECODERS` for formats read by other libraries from the
file itself. A new way of decoding is one new function and one new entry.
The steps after it are the same for every format: apply the EXIF
orientation, convert to sRGB (for RGB sources: after resizing, see
:attr:`Decoded.transform`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, BinaryIO

from PIL import Image, ImageCms

from thumbgen.messages import display_path
from thumbgen.options import Options

from . import formats, geometry
from .bmp import decode_bitfields
from .colour import to_srgb_later
from .decoders import Decoder, Stored, decode_full, decode_reduced, turn_upright, upright_size
from .fixups import decode_bmp, decode_gif, decode_png
from .heif import check_avif, check_heif, decode_avif, decode_heif
from .jxl import decode_cmyk_jxl, decode_jxl, header_size
from .pdf import decode_pdf
from .raw import decode_raw
from .reading import check_pixels, check_source, open_pillow, pillow_errors
from .svg import decode_svg
from .tiff import decode_lab16, decode_tiff
from .video import decode_video

__all__ = [
    "DECODERS",
    "EARLY_SIZES",
    "FILE_DECODERS",
    "Decoded",
    "Decoder",
    "FileDecoder",
    "Stored",
    "check_pixels",
    "decode",
    "decode_full",
    "decode_reduced",
]


@dataclasses.dataclass(frozen=True)
class Decoded:
    """A source decoded once: upright 8-bit sRGB pixels and the size they stand for."""

    #: Possibly shrunk while decoding (JPEG DCT scaling), never below 1.95x an output.
    image: Image.Image
    #: The source's upright size from its header. Outputs are planned from this,
    #: not from ``image.size``, so their pixel size never depends on how far the
    #: decoder happened to shrink (a JPEG and a PNG of one picture match).
    source_size: tuple[int, int]
    #: The colour transform to sRGB still to apply, after resizing (RGB
    #: sources with a profile: a tenth of the pixels to convert); None when
    #: ``image`` is sRGB already.
    transform: ImageCms.ImageCmsTransform | None = None
    #: The largest output's resample size: smaller outputs are resampled from
    #: it when it is at least twice their size (cheaper than from the decode).
    largest: tuple[int, int] | None = None
    #: The largest output's resampled pixels, once made (see ``largest``).
    steps: dict[tuple[int, int], Image.Image] = dataclasses.field(default_factory=dict)
    #: The EXIF orientation (1-8) the stored pixels were turned by; 1 when upright.
    orientation: int = 1
    #: A video's or PDF's header facts (:attr:`Stored.media`); empty for images.
    media: dict[str, Any] = dataclasses.field(default_factory=dict)


#: A decoder for a format (or variant) Pillow does not open: it gets the open
#: file (at its start), the name to show and the options, checks
#: ``--max-pixels`` itself and raises one-line
#: :class:`~thumbgen.errors.ThumbgenError` subclasses; None leaves the file to Pillow.
FileDecoder = Callable[[BinaryIO, str, Options], Stored | None]


def decode(f: BinaryIO, name: str, options: Options) -> Decoded:
    """Size-check, decode small, orient and colour-convert the source open as ``f``.

    ``name`` names the source in messages (and breaks format ties by extension).
    """
    shown = display_path(name)
    fmt = check_source(f, shown, name)
    file_decoder = FILE_DECODERS.get(fmt.name) if fmt is not None else None
    stored = file_decoder(f, shown, options) if file_decoder is not None else None
    if stored is not None:
        with pillow_errors(shown):
            pixels, upright = _turn_upright(stored)
        srgb, transform = to_srgb_later(pixels, shown)
        return Decoded(
            srgb,
            upright,
            transform,
            _largest(options, upright),
            orientation=stored.orientation,
            media=stored.media,
        )
    early = EARLY_SIZES.get(fmt.name) if fmt is not None else None
    declared = early(f) if early is not None else None
    if declared is not None:
        check_pixels(declared, shown, options.max_pixels)
    with open_pillow(f, shown, fmt, options.max_pixels) as im:
        check_pixels(im.size, shown, options.max_pixels)
        decoder = decoder_for(im.format)
        with pillow_errors(shown):
            stored = decoder(im, options.specs)
            pixels, upright = _turn_upright(stored)
        srgb, transform = to_srgb_later(pixels, shown)
        return Decoded(
            srgb, upright, transform, _largest(options, upright), orientation=stored.orientation
        )


def decoder_for(pillow_format: str | None) -> Decoder:
    """The decoder for Pillow's ``im.format``: its entry in :data:`DECODERS`, else the full one."""
    fmt = formats.by_pillow(pillow_format)
    return DECODERS.get(fmt.name, decode_full) if fmt is not None else decode_full


#: Decoders by format name (``formats.INPUTS``) for what Pillow opens; others load in full.
DECODERS: dict[str, Decoder] = {
    "JPEG": decode_reduced,
    "TIFF": decode_tiff,
    "BMP": decode_bmp,
    "PNG": decode_png,
    "GIF": decode_gif,
    "HEIF": decode_heif,
    "AVIF": decode_avif,
    "JXL": decode_jxl,
}

#: Header readers for formats whose Pillow plugin decodes everything while
#: opening: ``--max-pixels`` is checked from these before the plugin runs.
EARLY_SIZES: dict[str, Callable[[BinaryIO], tuple[int, int] | None]] = {"JXL": header_size}

#: Decoders by format name for formats read from the file by other libraries.
#: A decoder that returns None leaves the file to Pillow (TIFF: all but 16-bit CIELab;
#: BMP: all but bitfields; AVIF and HEIF: all, once their header shows a variant the
#: decoders can read; JPEG XL: all but CMYK).
FILE_DECODERS: dict[str, FileDecoder] = {
    "RAW": decode_raw,
    "SVG": decode_svg,
    "TIFF": decode_lab16,
    "AVIF": check_avif,
    "HEIF": check_heif,
    "BMP": decode_bitfields,
    "MP4": decode_video,
    "MKV": decode_video,
    "AVI": decode_video,
    "PDF": decode_pdf,
    "JXL": decode_cmyk_jxl,
}


def _largest(options: Options, upright: tuple[int, int]) -> tuple[int, int] | None:
    """The resample size of the largest output (by area), when there are several."""
    if len(options.specs) < 2:
        return None
    sizes = [geometry.plan(spec, *upright).resize for spec in options.specs]
    return max(sizes, key=lambda s: s[0] * s[1])


def _turn_upright(stored: Stored) -> tuple[Image.Image, tuple[int, int]]:
    """The pixels turned by their EXIF orientation, and the upright header size."""
    pixels = turn_upright(stored.image, stored.orientation)
    return pixels, upright_size(stored.size, stored.orientation)
