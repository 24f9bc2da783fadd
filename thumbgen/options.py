"""Output options: what a thumbnail should look like and where it goes.

Parsing lives here (not in the CLI) so that the library, the queue and the
watcher all accept the same spellings and give the same error messages.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import re
import string
from collections.abc import Iterable, Sequence
from typing import Any

from . import locations
from .errors import UsageError
from .naming import check_template

DEFAULT_SIZE = "256"
DEFAULT_FIT = "contain"
DEFAULT_CROP = "center"
DEFAULT_FORMAT = "auto"
DEFAULT_QUALITY = 85
DEFAULT_OUT = "thumbnails"
DEFAULT_NAME = "{dir}/{stem}_{size}.{ext}"
DEFAULT_BACKGROUND = "white"
#: Per-worker decode budget (``--max-memory``), in MiB: one worker per core fits
#: in a small machine (2 GiB for 2 cores), and a 100-megapixel photo still fits.
DEFAULT_MAX_MEMORY_MIB = 1024
#: Pillow refuses images above twice its MAX_IMAGE_PIXELS; thumbgen keeps that line.
DEFAULT_MAX_PIXELS = 2 * 89_478_485


class Fit(enum.StrEnum):
    """How a picture is fitted into the requested box."""

    CONTAIN = "contain"
    COVER = "cover"
    PAD = "pad"
    FILL = "fill"


class Format(enum.StrEnum):
    """Output file format; AUTO picks JPEG, or PNG when the picture has transparency."""

    AUTO = "auto"
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"
    #: Mostly for ``--animated`` (animated GIF); a still GIF is a 256-colour picture.
    GIF = "gif"


class Placeholder(enum.StrEnum):
    """A placeholder a web page decodes while the thumbnail loads (``--placeholder``)."""

    THUMBHASH = "thumbhash"
    BLURHASH = "blurhash"


#: Where ``cover`` crops: a keyword, or a focal point (x, y) in 0..1.
Crop = str | tuple[float, float]

_SIZE_RE = re.compile(r"^\s*(\d*)\s*(x?)\s*(\d*)\s*$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Size:
    """A requested box; ``None`` leaves that side free (``320x`` or ``x240``)."""

    width: int | None
    height: int | None

    @property
    def label(self) -> str:
        """The ``{size}`` value in output names, e.g. ``256x256``, ``320x``, ``x240``."""
        return f"{self.width or ''}x{self.height or ''}"


def parse_size(text: str) -> Size:
    """Parse ``256`` (a 256x256 box), ``320x240``, ``320x`` or ``x240``."""
    m = _SIZE_RE.match(text)
    if m is None or not (m.group(1) or m.group(3)) or (m.group(3) and not m.group(2)):
        raise UsageError(f"Invalid size {text!r}: use 256 (a 256x256 box), 320x240, 320x or x240")
    width = int(m.group(1)) if m.group(1) else None
    height = int(m.group(3)) if m.group(3) else None
    if not m.group(2):
        height = width
    for side in (width, height):
        if side is not None and not 1 <= side <= 16384:
            raise UsageError(f"Invalid size {text!r}: each side must be between 1 and 16384 pixels")
    return Size(width, height)


def parse_crop(text: str) -> Crop:
    """Parse ``center``, ``entropy``, ``attention``, ``faces`` or a focal point ``x,y`` in 0..1."""
    word = text.strip().lower()
    if word in ("center", "centre"):
        return "center"
    if word in ("entropy", "attention", "faces"):
        return word
    parts = word.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise UsageError(
            f"Invalid crop {text!r}: use center, entropy, attention, faces,"
            " or a focal point x,y such as 0.5,0.3"
        ) from None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise UsageError(f"Invalid crop {text!r}: focal point coordinates must be between 0 and 1")
    return (x, y)


def parse_background(text: str) -> tuple[int, int, int, int]:
    """Parse a colour name, ``#rgb``/``#rrggbb``/``#rrggbbaa`` or ``transparent`` to RGBA."""
    if text.strip().lower() in ("transparent", "none"):
        return (0, 0, 0, 0)
    # Imported here: Pillow costs ~20 ms at start-up, and ``status`` never needs it.
    from PIL import ImageColor

    try:
        rgba = ImageColor.getcolor(text.strip(), "RGBA")
    except ValueError:
        raise UsageError(
            f"Invalid background colour {text!r}: use a name (white), #rrggbb, or transparent"
        ) from None
    assert isinstance(rgba, tuple)
    return (rgba[0], rgba[1], rgba[2], rgba[3])


#: Other spellings users type for a choice.
_ALIASES = {"jpg": "jpeg"}


def _parse_enum(kind: type[enum.StrEnum], name: str, text: str) -> Any:
    word = text.strip().lower()
    try:
        return kind(_ALIASES.get(word, word))
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise UsageError(f"Invalid {name} {text!r}: choose one of {choices}") from None


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    """One thumbnail to make from a source: box, fit, crop, format and quality."""

    size: Size
    fit: Fit = Fit.CONTAIN
    crop: Crop = "center"
    format: Format = Format.AUTO
    quality: int = DEFAULT_QUALITY
    upscale: bool = False
    background: tuple[int, int, int, int] = (255, 255, 255, 255)


@dataclasses.dataclass(frozen=True)
class Options:
    """Everything that decides a job's outputs: the specs, where and how they are named."""

    specs: tuple[OutputSpec, ...]
    out_dir: str
    name: str = DEFAULT_NAME
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: ``Cache-Control`` stored with each output where the storage keeps one (buckets).
    cache_control: str | None = None
    #: ``--placeholder``: "thumbhash" or "blurhash", computed with each job.
    placeholder: str | None = None
    #: ``--manifest``: the JSON file (a path or an ``s3://`` key) listing every
    #: finished source made with these options (:mod:`thumbgen.manifest`).
    manifest: str | None = None
    #: ``--animated``: animations (GIF, WebP, APNG) give animated thumbnails
    #: and videos a short animated preview (:mod:`thumbgen.imaging.animation`).
    animated: bool = False

    def to_json(self) -> str:
        """Canonical JSON: equal options give byte-equal text (and equal hashes)."""
        data = dataclasses.asdict(self)
        for field in ("cache_control", "placeholder", "manifest"):
            if data[field] is None:
                # Left out when unset: options from before it existed keep their digest.
                del data[field]
        if not data["animated"]:
            del data["animated"]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Options:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        specs = tuple(
            OutputSpec(
                size=Size(s["size"]["width"], s["size"]["height"]),
                fit=Fit(s["fit"]),
                crop=tuple(s["crop"]) if isinstance(s["crop"], list) else s["crop"],
                format=Format(s["format"]),
                quality=s["quality"],
                upscale=s["upscale"],
                background=tuple(s["background"]),
            )
            for s in data["specs"]
        )
        return cls(
            specs,
            data["out_dir"],
            data["name"],
            data["max_pixels"],
            data.get("cache_control"),
            data.get("placeholder"),
            data.get("manifest"),
            bool(data.get("animated", False)),
        )

    @property
    def digest(self) -> str:
        """A short hash of the options; part of a job's identity and freshness check."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]


def build_options(
    sizes: Sequence[str] = (DEFAULT_SIZE,),
    *,
    fit: str = DEFAULT_FIT,
    crop: str = DEFAULT_CROP,
    format: str = DEFAULT_FORMAT,
    quality: int = DEFAULT_QUALITY,
    out_dir: str | os.PathLike[str] = DEFAULT_OUT,
    name: str = DEFAULT_NAME,
    upscale: bool = False,
    background: str = DEFAULT_BACKGROUND,
    max_pixels: int | None = None,
    cache_control: str | None = None,
    placeholder: str | None = None,
    manifest: str | os.PathLike[str] | None = None,
    srcset: str | None = None,
    animated: bool = False,
) -> Options:
    """Validate user-facing option values and build :class:`Options`.

    ``out_dir`` (and ``manifest``) are made absolute here, so a job queued
    from one folder writes to the same place whichever folder the worker
    runs in. ``srcset`` (``320,640,1280``) adds one width-only size per width.
    """
    if not 1 <= quality <= 100:
        raise UsageError(f"Invalid quality {quality}: use a number from 1 to 100")
    if max_pixels is not None and max_pixels < 1:
        raise UsageError(f"Invalid max-pixels {max_pixels}: use a positive number of pixels")
    check_template(name)
    if cache_control is not None and (
        not cache_control.strip() or not cache_control.isascii() or not cache_control.isprintable()
    ):
        raise UsageError(
            f"Invalid cache-control {cache_control!r}: use one line of printable ASCII, "
            "e.g. 'public, max-age=31536000, immutable'"
        )
    if isinstance(sizes, str):
        sizes = [sizes]  # "320x240" is one size, not seven one-character ones
    if srcset is not None:
        sizes = [*sizes, *parse_srcset(srcset)]
    fmt = _parse_enum(Format, "format", format)
    if fmt is Format.GIF and not animated:
        # A still GIF is a 256-colour PNG: worse in every way, so only animations get one.
        still = ", ".join(f.value for f in Format if f is not Format.GIF)
        raise UsageError(
            f"Invalid format {format!r}: choose one of {still} (gif only with --animated)"
        )
    common = {
        "fit": _parse_enum(Fit, "fit", fit),
        "crop": parse_crop(crop),
        "format": fmt,
        "quality": quality,
        "upscale": upscale,
        "background": parse_background(background),
    }
    parsed = _unique(parse_size(s) for s in sizes or (DEFAULT_SIZE,))
    specs = tuple(OutputSpec(size=size, **common) for size in parsed)
    _check_sizes_named(name, specs)
    return Options(
        specs=specs,
        out_dir=locations.absolute(os.fspath(out_dir)),
        name=name,
        max_pixels=max_pixels or DEFAULT_MAX_PIXELS,
        cache_control=cache_control.strip() if cache_control else None,
        placeholder=_placeholder(placeholder),
        manifest=locations.absolute(os.fspath(manifest)) if manifest else None,
        animated=animated,
    )


def parse_srcset(text: str) -> list[str]:
    """``320,640,1280`` as the sizes ``320x``, ``640x``, ``1280x`` (widths for an HTML srcset)."""
    widths = [w.strip().lower().removesuffix("w") for w in text.split(",") if w.strip()]
    if not widths or not all(w.isdigit() for w in widths):
        raise UsageError(f"Invalid srcset {text!r}: use widths in pixels, e.g. 320,640,1280")
    return [f"{w}x" for w in widths]


def _placeholder(text: str | None) -> str | None:
    if not text:
        return None
    return str(_parse_enum(Placeholder, "placeholder", text).value)


def _check_sizes_named(name: str, specs: Sequence[OutputSpec]) -> None:
    """Refuse a template under which two sizes of one source would share a file.

    ``{size}`` always tells them apart; ``{width}`` with ``{height}`` does too,
    because equal pixel sizes from one source and fit are identical pictures.
    """
    if len(specs) < 2:
        return
    fields = {f for _, f, _, _ in string.Formatter().parse(name) if f}
    if "size" not in fields and not {"width", "height"} <= fields:
        raise UsageError(
            f"Invalid --name {name!r}: with several sizes it must contain {{size}} "
            "(or both {width} and {height}), or the sizes would overwrite each other"
        )


def _unique(sizes: Iterable[Size]) -> list[Size]:
    seen: list[Size] = []
    for size in sizes:
        if size not in seen:
            seen.append(size)
    return seen
