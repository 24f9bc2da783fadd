"""What a web page shows while a thumbnail loads: a placeholder string and the average colour.

Both are computed from pixels already decoded for the thumbnails (no second
decode), shrunk to at most :data:`_SIDE` pixels a side first: a placeholder
keeps only a handful of cosine components, so more pixels change nothing
visible and cost time in the pure-Python encoders.

ThumbHash through ``thash`` (a maintained, typed fork of the Python port of
Evan Wallace's reference; pure Python, no dependencies; its own decoder
checks the round trip in the tests); BlurHash through ``blurhash`` (pure
Python, encoder and decoder). Both are small and pure, so they are ordinary
dependencies rather than an extra.
"""

from __future__ import annotations

import base64

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
        import thash

        rgba = small.convert("RGBA")
        data = thash.rgba_to_thumb_hash_pure(rgba.width, rgba.height, list(rgba.tobytes()))
        return base64.b64encode(bytes(data)).decode("ascii")
    import blurhash

    rgb = small.convert("RGB")
    x, y = (4, 3) if rgb.width >= rgb.height else (3, 4)
    px = rgb.load()
    assert px is not None
    rows = [[px[i, j] for i in range(rgb.width)] for j in range(rgb.height)]
    return str(blurhash.encode(rows, components_x=x, components_y=y))
