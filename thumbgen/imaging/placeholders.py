"""What a web page shows while a thumbnail loads: a placeholder string and the average colour.

Both are computed from pixels already decoded for the thumbnails (no second
decode), shrunk to at most :data:`_SIDE` pixels a side first: a placeholder
keeps only a handful of cosine components, so more pixels change nothing
visible and cost time in the pure-Python encoders.

ThumbHash through ``thash`` (a maintained, typed fork of the Python port of
Evan Wallace's reference), on its numpy encoder: byte for byte the pure one's
output at a fifteenth of the cost, which is what keeps a placeholder under 5%
of a job. BlurHash through ``blurhash`` (the Python implementation blurha.sh
links to) for its quantisation and base-83 text, with the one costly step,
the cosine sums over every pixel, done here in numpy: the library runs them
as a pure-Python loop (6 ms for 32 x 21 pixels, a fifth of a job). The
library whose C encoder is fast (``blurhash-python``) installs under the same
import name and has no decoder, which the tests need; the unit tests check
the numpy sums give the library's own string.
"""

from __future__ import annotations

import base64
import math

from PIL import Image, ImageStat

from thumbgen.options import Placeholder

#: The longest side placeholders are computed from.
_SIDE = 32


def shrink(im: Image.Image) -> Image.Image:
    """``im`` at most :data:`_SIDE` pixels a side, RGB or RGBA, for the functions below."""
    small = im.copy()
    # A box reduction is all a 32 px summary needs (and a fraction of Lanczos' cost).
    small.thumbnail((_SIDE, _SIDE), Image.Resampling.BOX, reducing_gap=2.0)
    if small.mode not in ("RGB", "RGBA"):
        has_alpha = small.mode in ("LA", "PA") or "transparency" in small.info
        small = small.convert("RGBA" if has_alpha else "RGB")
    return small


def average_colour(small: Image.Image) -> str:
    """The average colour of ``small`` as ``#rrggbb`` (transparent pixels left out)."""
    rgb = small.convert("RGB")
    mask = small.getchannel("A") if small.mode == "RGBA" else None
    if mask is not None and mask.getbbox() is None:
        return "#000000"
    # ImageStat weighs by the mask; a fully transparent picture has no colour.
    means = ImageStat.Stat(rgb, mask).mean
    return "#" + "".join(f"{round(c):02x}" for c in means[:3])


def encode(small: Image.Image, kind: Placeholder) -> str:
    """The placeholder string of ``small`` (see :func:`shrink`).

    ThumbHash: its bytes in base64, as its reference decoders take them;
    BlurHash: its own base-83 text, 4 components along the long side and 3
    along the short one (the library's and blurha.sh's default).
    """
    if kind is Placeholder.THUMBHASH:
        import numpy
        import thash

        rgba = small.convert("RGBA")
        pixels = numpy.frombuffer(rgba.tobytes(), dtype=numpy.uint8)
        # thash picks its numpy encoder when numpy imports (it is a dependency).
        data = thash.rgba_to_thumb_hash(rgba.width, rgba.height, pixels)
        return base64.b64encode(bytes(data)).decode("ascii")
    rgb = small.convert("RGB")
    x, y = (4, 3) if rgb.width >= rgb.height else (3, 4)
    return blurhash_of(rgb, x, y)


def blurhash_of(rgb: Image.Image, components_x: int, components_y: int) -> str:
    """The BlurHash of the RGB image ``rgb``: the ``blurhash`` library's encoding, sums in numpy.

    Same steps as ``blurhash.encode`` (sRGB to linear, one cosine sum per
    component, then the library's quantisation and base 83), so the same
    string but for a last-bit rounding difference in a sum.
    """
    import numpy
    from blurhash import blurhash as ref

    w, h = rgb.size
    srgb = numpy.frombuffer(rgb.tobytes(), dtype=numpy.uint8).reshape(h, w, 3) / 255.0
    linear = numpy.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    # basis_x[i, x] = cos(pi i x / w): the sums are two small matrix products.
    basis_x = numpy.cos(numpy.pi * numpy.outer(numpy.arange(components_x), numpy.arange(w)) / w)
    basis_y = numpy.cos(numpy.pi * numpy.outer(numpy.arange(components_y), numpy.arange(h)) / h)
    sums = numpy.einsum("jy,yxc,ix->jic", basis_y, linear, basis_x) / (w * h)
    sums[1:, :] *= 2.0
    sums[0, 1:] *= 2.0
    components = [
        [float(v) for v in sums[j, i]] for j in range(components_y) for i in range(components_x)
    ]
    max_ac = max((abs(v) for c in components[1:] for v in c), default=0.0)
    dc = components[0]
    dc_value = (
        (ref.linear_to_srgb(dc[0]) << 16)
        + (ref.linear_to_srgb(dc[1]) << 8)
        + ref.linear_to_srgb(dc[2])
    )
    quant_max_ac = int(max(0, min(82, math.floor(max_ac * 166 - 0.5))))
    ac_norm = float(quant_max_ac + 1) / 166.0

    def quantised(v: float) -> int:
        return int(max(0.0, min(18.0, math.floor(ref.sign_pow(v / ac_norm, 0.5) * 9.0 + 9.5))))

    text = ref.base83_encode((components_x - 1) + (components_y - 1) * 9, 1)
    text += ref.base83_encode(quant_max_ac, 1) + ref.base83_encode(dc_value, 4)
    for r, g, b in components[1:]:
        text += ref.base83_encode(quantised(r) * 361 + quantised(g) * 19 + quantised(b), 2)
    return str(text)
