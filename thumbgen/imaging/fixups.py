"""Decoders for formats Pillow opens but reads too literally: BMP's fourth byte, PNG, GIF.

- A 32-bit BMP stored as BI_RGB has a fourth byte per pixel that the format
  calls reserved but that Windows tools and browsers use as alpha; Pillow
  drops it. It is kept as alpha unless it holds one value everywhere (0 from
  most writers, or 255), which means "opaque", as browsers read it.
- A grey PNG's transparent colour (``tRNS``) is compared by Pillow with
  samples it has already scaled (1, 2 and 4 bits) or loses when it scales
  them (16 bits); it is applied here to the samples as stored.
- A GIF's first frame may cover only part of the canvas (the logical
  screen). Pillow fills the rest with palette entry 0; browsers and the GIF
  reference decoders leave it transparent, and so does thumbgen.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFile, ImageMath

from thumbgen.options import OutputSpec

from .colour import scale_16bit
from .decoders import Stored, decode_full


def decode_bmp(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode in full, keeping the fourth byte of 32-bit BI_RGB pixels as alpha when it varies."""
    with_alpha = _bgra_pixels(im)
    stored = decode_full(im, specs)
    if with_alpha is None:
        return stored
    low, high = with_alpha.getchannel("A").getextrema()
    if low == high:
        return stored  # one value everywhere: no alpha was meant
    with_alpha.info = dict(stored.image.info)
    return Stored(with_alpha, stored.size, stored.orientation)


def _bgra_pixels(im: Image.Image) -> Image.Image | None:
    """The pixels again with their fourth byte as alpha, for 32-bit BI_RGB BMPs; else None."""
    if not isinstance(im, ImageFile.ImageFile) or im.mode != "RGB":
        return None
    if im.info.get("compression") != 0 or len(im.tile) != 1:
        return None
    tile = im.tile[0]
    args = tile.args
    if tile.codec_name != "raw" or not isinstance(args, tuple) or len(args) != 3:
        return None
    rawmode, stride, direction = args
    if rawmode != "BGRX" or im.fp is None:
        return None
    im.fp.seek(tile.offset)
    data = im.fp.read(stride * im.height)
    if len(data) < stride * im.height:
        return None  # truncated: let the normal decoder report it
    return Image.frombuffer("RGBA", im.size, data, "raw", "BGRA", stride, direction)


#: How Pillow scales grey samples of fewer than 8 bits (its rawmode), to read tRNS alike
#: (for 1-bit images Pillow scales the key itself).
_GREY_SCALE = {"1": 1, "L;2": 85, "L;4": 17, "L": 1}


def decode_png(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode in full, applying a grey PNG's transparent colour to the samples as stored."""
    key = im.info.get("transparency")
    rawmode = _rawmode(im)
    stored = decode_full(im, specs)
    pixels = stored.image
    if not isinstance(key, int) or pixels.mode not in ("1", "L", "I", "I;16", "I;16B"):
        return stored
    if rawmode is not None and rawmode.startswith("I;16"):
        wide = pixels.convert("I")
        alpha = ImageMath.lambda_eval(lambda a: (a["x"] != key) * 255, x=wide).convert("L")
        grey = scale_16bit(pixels)
    elif rawmode in _GREY_SCALE:
        grey = pixels.convert("L")
        scaled = key * _GREY_SCALE[rawmode]
        alpha = grey.point([0 if v == scaled else 255 for v in range(256)])
    else:
        return stored
    with_alpha = Image.merge("LA", (grey, alpha))
    with_alpha.info = {k: v for k, v in stored.image.info.items() if k != "transparency"}
    return Stored(with_alpha, stored.size, stored.orientation)


def _rawmode(im: Image.Image) -> str | None:
    if not isinstance(im, ImageFile.ImageFile):
        return None
    tile = im.tile[0] if len(im.tile) == 1 else None
    args = tile.args if tile is not None else None
    return args if isinstance(args, str) else None


def decode_gif(im: Image.Image, specs: tuple[OutputSpec, ...]) -> Stored:
    """Decode the first frame in full, the canvas it does not cover left transparent."""
    stored = decode_full(im, specs)
    box = getattr(im, "dispose_extent", None)
    width, height = stored.image.size
    if box is None or (box[0] <= 0 and box[1] <= 0 and box[2] >= width and box[3] >= height):
        return stored
    pixels = stored.image
    rgba = pixels.convert("RGBA") if pixels.mode != "RGBA" else pixels.copy()
    covered = Image.new("L", (width, height), 0)
    covered.paste(255, box)
    rgba.putalpha(ImageChops.multiply(rgba.getchannel("A"), covered))
    rgba.info = {k: v for k, v in pixels.info.items() if k not in ("transparency", "background")}
    return Stored(rgba, stored.size, stored.orientation)
