"""Reading sources: open an image stream with Pillow, with one-line errors for every failure.

The stream comes from storage (:mod:`thumbgen.storage`), already open; the
name given with it is only for messages (and the extension tie-break of
camera RAW formats).

Decoders raise all sorts of exceptions on damaged data (OSError, SyntaxError,
ValueError, struct.error...); everything here turns them into
:class:`~thumbgen.errors.ThumbgenError` subclasses that name the file. A file
whose first bytes name a format but that Pillow cannot open is described for
what it is (a 16-bit CIELab TIFF, an AVIF larger than its decoder accepts),
never called "not an image".
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from thumbgen.errors import (
    CorruptImage,
    NotAnImage,
    SourceError,
    ThumbgenError,
    TooManyPixels,
    TransientError,
    UnsupportedImage,
)
from thumbgen.messages import reason

from . import formats, headers, plugins
from .pillow_limits import pillow_limit_lifted
from .sniff import identify

#: Formats thumbgen decodes; rarer Pillow decoders stay off (less attack surface).
READ_FORMATS = formats.READ_FORMATS
#: libavif's default limits (avif.h: AVIF_DEFAULT_IMAGE_DIMENSION_LIMIT, _SIZE_LIMIT).
AVIF_MAX_SIDE, AVIF_MAX_PIXELS = 32768, 16384 * 16384
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
#: How decoder messages start the sentences meant for their developers.
_ADVICE = ("please ", "check ")


def check_source(f: BinaryIO, shown: str, name: str | None = None) -> formats.ImageFormat | None:
    """Tell the format of the open stream ``f`` by content, refusing one thumbgen cannot read.

    None when no signature matched (Pillow is then asked). ``name`` (the
    source's name, ``shown`` if not given) only breaks ties by extension.
    """
    try:
        fmt = identify(f, shown if name is None else name)
    except OSError as exc:
        raise TransientError(f"Cannot read {shown}: {exc.strerror or reason(exc)}") from None
    if fmt is not None:
        _check_readable(fmt, shown)
    return fmt


def _check_readable(fmt: formats.ImageFormat, shown: str) -> None:
    if fmt.skip is not None:
        raise NotAnImage(f"Not an image thumbgen can read: {shown} ({fmt.skip})")
    why = formats.missing(fmt)
    if why is not None:
        raise UnsupportedImage(f"Cannot read {shown}: {why}")


@contextlib.contextmanager
def open_pillow(
    f: BinaryIO, shown: str, fmt: formats.ImageFormat | None, max_pixels: int | None = None
) -> Iterator[Image.Image]:
    """Open ``f`` with Pillow reading only its header, with clear errors for every failure.

    ``max_pixels`` lets a refusal say "too many pixels" when the header shows it.
    """
    f.seek(0)
    allowed = READ_FORMATS
    if fmt is not None and fmt.module is not None:
        try:
            plugins.register(fmt)
        except ImportError as exc:
            # Installed (find_spec saw it) but broken: a missing shared library...
            raise UnsupportedImage(
                f"Cannot read {shown}: the {fmt.shown} decoder ({fmt.package}) "
                f"does not load: {reason(exc)}"
            ) from None
        allowed = (*fmt.pillow_formats, *READ_FORMATS)
    with pillow_errors(shown):
        with pillow_limit_lifted():
            try:
                im: Image.Image | None = Image.open(f, formats=allowed)
            except UnidentifiedImageError:
                im = None
        # Outside the lock: asking the plugin why takes it again.
        if im is None:
            raise refused(f, shown, fmt, max_pixels)
    # Not closed here: close() would also drop the decoded pixels, and the
    # file handle it would release is the caller's.
    yield im


@contextlib.contextmanager
def open_image(f: BinaryIO, shown: str) -> Iterator[Image.Image]:
    """Open the stream ``f`` reading only its header, with clear errors for every failure."""
    fmt = check_source(f, shown)
    with open_pillow(f, shown, fmt) as im:
        yield im


def check_pixels(size: tuple[int, int], shown: str, max_pixels: int) -> None:
    """Refuse a source larger than ``--max-pixels``, from its header size."""
    width, height = size
    pixels = width * height
    if pixels > max_pixels:
        raise TooManyPixels(
            f"Too many pixels: {shown} is {width}x{height} "
            f"({pixels:,} pixels, limit {max_pixels:,}); "
            "raise --max-pixels if you trust this file"
        )


def unsupported(shown: str, what: str) -> UnsupportedImage:
    """The error for a valid file in a variant thumbgen cannot decode: ``unsupported: <what>``."""
    return UnsupportedImage(
        f"Unsupported image: {shown} (unsupported: {what})", why=f"unsupported: {what}"
    )


def decoder_reason(exc: BaseException) -> str:
    """What a decoder said, without the advice its authors left for developers.

    libjxl's Rust binding ends every error with "Please build `libjxl` from
    source ... Check `stderr` ..."; such sentences tell a user nothing.
    """
    text = " ".join(str(exc).split())
    kept = [s for s in _SENTENCE.split(text) if s and not s.lower().startswith(_ADVICE)]
    return reason(RuntimeError(" ".join(kept))) if kept else type(exc).__name__


def refused(
    f: BinaryIO, shown: str, fmt: formats.ImageFormat | None, max_pixels: int | None
) -> ThumbgenError:
    """The error for a file Pillow would not open: what it is, and why it failed."""
    if fmt is None:
        return NotAnImage(
            f"Not an image thumbgen can read: {shown} "
            f"(content is not {formats.common_labels()} or another known format)"
        )
    why = _plugin_reason(f, fmt)
    if fmt.name in ("AVIF", "HEIF"):
        size = headers.iso_image_size(f)
        if size is not None:
            if max_pixels is not None:
                check_pixels(size, shown, max_pixels)
            width, height = size
            if fmt.name == "AVIF" and (
                max(size) > AVIF_MAX_SIDE or width * height > AVIF_MAX_PIXELS
            ):
                return unsupported(
                    shown,
                    f"a {width}x{height} AVIF, larger than its decoder (libavif) accepts: "
                    f"at most {AVIF_MAX_SIDE} pixels a side and {AVIF_MAX_PIXELS:,} in all",
                )
    if fmt.name == "TIFF":
        layout = headers.describe_tiff(f)
        if layout is not None:
            return unsupported(shown, f"{layout} TIFF")
    said = f" ({why})" if why is not None else ""
    return CorruptImage(
        f"Corrupt image: {shown} is {formats.article(fmt.shown)} {fmt.shown} "
        f"its decoder cannot read{said}"
    )


def _plugin_reason(f: BinaryIO, fmt: formats.ImageFormat) -> str | None:
    """What the format's own Pillow plugin says about the file (Image.open hides it), or None."""
    for name in fmt.pillow_formats:
        factory = Image.OPEN.get(name, (None, None))[0]
        if factory is None:
            continue
        f.seek(0)
        try:
            with warnings.catch_warnings(), pillow_limit_lifted():
                warnings.simplefilter("ignore")
                factory(f, "")
        except Exception as exc:
            return decoder_reason(exc)
    return None


@contextlib.contextmanager
def pillow_errors(shown: str) -> Iterator[None]:
    """Turn whatever a decoder raises on damaged data into a one-line error."""
    try:
        with warnings.catch_warnings():
            # Odd EXIF or truncated metadata only warns; the pixels decide.
            warnings.simplefilter("ignore")
            yield
    except SourceError:
        raise
    except OSError as exc:
        if exc.errno is not None:
            raise TransientError(f"Cannot read {shown}: {exc.strerror}") from None
        raise CorruptImage(f"Corrupt image: {shown} ({decoder_reason(exc)})") from None
    except MemoryError:
        raise TooManyPixels(
            f"Not enough memory to decode {shown}; run fewer workers (-w) "
            "or lower --max-pixels to refuse such files"
        ) from None
    except Exception as exc:
        # Decoders raise SyntaxError, ValueError, struct.error, EOFError...
        # on malformed input; all mean the same thing to the user.
        raise CorruptImage(f"Corrupt image: {shown} ({decoder_reason(exc)})") from None
