"""Reading sources: open an image file with Pillow, with one-line errors for every failure.

Decoders raise all sorts of exceptions on damaged data (OSError, SyntaxError,
ValueError, struct.error...); everything here turns them into
:class:`~thumbgen.errors.ThumbgenError` subclasses that name the file.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator

from PIL import Image, UnidentifiedImageError

from thumbgen.errors import (
    CorruptImage,
    NotAnImage,
    SourceError,
    SourceMissing,
    TooManyPixels,
    TransientError,
)
from thumbgen.naming import display_path

from . import formats

#: Formats thumbgen decodes; rarer Pillow decoders stay off (less attack surface).
READ_FORMATS = formats.READ_FORMATS

_PILLOW_LIMIT_LOCK = threading.Lock()


@contextlib.contextmanager
def open_image(source: str) -> Iterator[Image.Image]:
    """Open ``source`` reading only its header, with clear errors for every failure."""
    shown = display_path(source)
    try:
        f = open(source, "rb")  # noqa: SIM115 - closed below, after the image
    except OSError as exc:
        raise _source_error(source, exc) from None
    with f:
        with pillow_errors(shown), pillow_limit_lifted():
            try:
                im = Image.open(f, formats=READ_FORMATS)
            except UnidentifiedImageError:
                raise NotAnImage(
                    f"Not an image thumbgen can read: {shown} "
                    f"(content is not {formats.common_labels()} or another known format)"
                ) from None
        # Not closed here: close() would also drop the decoded pixels, and the
        # file handle it would release is ours and closed by ``with f``.
        yield im


def stat_source(source: str) -> os.stat_result:
    """``os.stat`` with the same one-line errors as reading the file."""
    try:
        return os.stat(source)
    except OSError as exc:
        raise _source_error(source, exc) from None


def _source_error(source: str, exc: OSError) -> Exception:
    shown = display_path(source)
    if isinstance(exc, FileNotFoundError):
        return SourceMissing(f"Source file not found: {shown} (moved or deleted?)")
    if isinstance(exc, IsADirectoryError):
        return NotAnImage(f"Not an image: {shown} is a folder")
    if isinstance(exc, PermissionError):
        return SourceError(f"Permission denied reading {shown}; check the file's permissions")
    if isinstance(exc, NotADirectoryError):
        return SourceMissing(f"Source file not found: {shown} (a parent is not a folder)")
    return TransientError(f"Cannot read {shown}: {exc.strerror or reason(exc)}")


@contextlib.contextmanager
def pillow_limit_lifted() -> Iterator[None]:
    """Switch off Pillow's own decompression-bomb check for the ``with`` block.

    It is process-wide and fixed; thumbgen applies ``--max-pixels`` itself right
    after reading the header, so the user can raise the limit. The lock keeps
    concurrent callers from restoring the limit early.
    """
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


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
        raise CorruptImage(f"Corrupt image: {shown} ({reason(exc)})") from None
    except MemoryError:
        raise TooManyPixels(
            f"Not enough memory to decode {shown}; run fewer workers (-w) "
            "or lower --max-pixels to refuse such files"
        ) from None
    except Exception as exc:
        # Decoders raise SyntaxError, ValueError, struct.error, EOFError...
        # on malformed input; all mean the same thing to the user.
        raise CorruptImage(f"Corrupt image: {shown} ({reason(exc)})") from None


def reason(exc: BaseException) -> str:
    """An exception as a short single line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
