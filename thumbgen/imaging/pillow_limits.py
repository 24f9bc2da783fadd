"""Pillow's decompression-bomb limit, lifted while thumbgen reads a header.

Its own module because both :mod:`.sniff` (asking Pillow about a file no
signature names) and :mod:`.reading` (opening a source) need it, and
``reading`` already imports ``sniff``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from PIL import Image

_PILLOW_LIMIT_LOCK = threading.Lock()


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
