"""Camera RAW (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2...) through rawpy, a binding of LibRaw.

As photographers' tools do, the JPEG preview the camera embedded is used when
it is large enough for the largest output (fast: no demosaicing), else the
sensor data is demosaiced at half size (each 2x2 Bayer block becomes one
pixel) or, when even that is too small, at full size. Orientation comes from
the RAW's own metadata (LibRaw's ``flip``), never from the preview's EXIF:
the preview is stored as the sensor saw it. rawpy is an optional extra; it
is imported only when a RAW file is decoded.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, BinaryIO

from PIL import Image

from thumbgen.errors import CorruptImage, TooManyPixels, UnsupportedImage
from thumbgen.messages import reason
from thumbgen.options import Options

from . import formats, geometry, headers
from .decoders import Stored, draft, upright_size
from .reading import check_pixels, pillow_errors, unsupported

if TYPE_CHECKING:
    import rawpy

#: LibRaw's ``flip`` as EXIF orientation (LibRaw maps TIFF orientation 1-8 to 0,1,3,2,4,6,7,5).
FLIP_TO_ORIENTATION = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}
#: A preview whose shape differs more than this from the sensor's is not the whole picture.
_RATIO_TOLERANCE = 0.02


def decode_raw(f: BinaryIO, shown: str, options: Options) -> Stored:
    """Decode ``f`` small: from the embedded preview when large enough, else by demosaicing."""
    try:
        import rawpy
    except ImportError:
        raw_format = next(x for x in formats.INPUTS if x.name == "RAW")
        raise UnsupportedImage(f"Cannot read {shown}: {formats.missing(raw_format)}") from None
    if headers.raw_strips_empty(f):
        raise unsupported(shown, "a camera RAW with no image data (its sensor strips are empty)")
    f.seek(0)
    try:
        with rawpy.imread(f) as raw:
            return _decode(raw, shown, options)
    except MemoryError:
        raise TooManyPixels(
            f"Not enough memory to decode {shown}; run fewer workers (-w) "
            "or lower --max-pixels to refuse such files"
        ) from None
    except rawpy.LibRawFileUnsupportedError:
        version = ".".join(str(v) for v in rawpy.libraw_version)
        raise UnsupportedImage(
            f"Unsupported camera RAW: {shown} (LibRaw {version} does not read this camera's files)"
        ) from None
    except rawpy.LibRawError as exc:
        raise CorruptImage(
            f"Corrupt image: {shown} is a camera RAW LibRaw cannot read ({reason(exc)})"
        ) from None


def _decode(raw: rawpy.RawPy, shown: str, options: Options) -> Stored:
    sizes = raw.sizes
    stored = (int(sizes.width), int(sizes.height))
    orientation = FLIP_TO_ORIENTATION.get(int(sizes.flip), 1)
    check_pixels(stored, shown, options.max_pixels)
    upright = upright_size(stored, orientation)
    target = geometry.decode_target([geometry.plan(spec, *upright) for spec in options.specs])
    if orientation in (5, 6, 7, 8):
        target = (target[1], target[0])  # in stored orientation, like the preview
    preview = _preview(raw, shown, stored, target)
    if preview is not None:
        with pillow_errors(shown):
            draft(preview, options.specs, upright, swap=orientation in (5, 6, 7, 8))
            preview.load()
        return Stored(preview.convert("RGB"), stored, orientation)
    half = stored[0] // 2 >= target[0] and stored[1] // 2 >= target[1]
    # Camera white balance, as the camera's own JPEG would have it; LibRaw
    # applies the flip itself, so these pixels are upright.
    rgb = raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8)
    with pillow_errors(shown):
        # A damaged file can demosaic to other than three channels (TypeError).
        image = Image.fromarray(rgb, "RGB")
    return Stored(image, upright, 1)


def _preview(
    raw: rawpy.RawPy, shown: str, stored: tuple[int, int], target: tuple[int, int]
) -> Image.Image | None:
    """The embedded preview, opened (header only), when it can stand for the picture."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError:
        return None  # a damaged preview: the sensor data may still be fine
    image: Image.Image
    data: Any = thumb.data  # bytes for a JPEG preview, an RGB array for a bitmap one
    if thumb.format == rawpy.ThumbFormat.JPEG:
        try:
            image = Image.open(io.BytesIO(data), formats=("JPEG",))
        except Exception:
            return None
    else:
        try:
            image = Image.fromarray(data)
        except Exception:
            return None  # a bitmap preview of a shape Pillow cannot take
    width, height = image.size
    if width < target[0] or height < target[1]:
        return None
    if abs(width / height - stored[0] / stored[1]) > _RATIO_TOLERANCE * stored[0] / stored[1]:
        return None  # a cropped or letterboxed preview (16:9 of a 4:3 sensor...)
    return image
