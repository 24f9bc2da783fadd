"""What the imaging core gives back: encoded thumbnails, and what is known of their source.

Apart from :mod:`.pipeline` so that :mod:`.animation` makes the same results
without importing the pipeline that calls it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from thumbgen.options import Format, OutputSpec

#: Names an output once its pixel size and format are known, right before
#: it is encoded: for messages and the caller's records (the caller stores
#: the bytes, and may get ready to there and then). The last argument is the
#: content hash of its bytes: "" before encoding; a name with ``{hash}`` is
#: asked for again with it once encoded.
NameFor = Callable[[OutputSpec, int, int, Format, str], str]


@dataclasses.dataclass(frozen=True)
class Encoded:
    """One thumbnail encoded in memory: the spec it was made for, its size, format and bytes."""

    spec: OutputSpec
    name: str
    width: int
    height: int
    format: Format
    data: bytes
    #: SHA-256 of ``data``, in hex: ``{hash}`` in names is its first 16 digits.
    digest: str = ""
    #: For ``cover``: the window kept, as (left, top, right, bottom) in the
    #: upright source's pixels; None when nothing was cut.
    crop: tuple[int, int, int, int] | None = None


@dataclasses.dataclass(frozen=True)
class Rendered:
    """Every thumbnail of one source, and what a web page wants to know about the source."""

    outputs: list[Encoded]
    #: The upright size the header gave, and the EXIF orientation (1-8) it was turned by.
    source_size: tuple[int, int] = (0, 0)
    orientation: int = 1
    #: ``#rrggbb``; "" unless asked for (a placeholder or a manifest).
    average_colour: str = ""
    #: The ``--placeholder`` string; "" when none was asked for.
    placeholder: str = ""
    #: A video's or PDF's header facts for the job's record (:attr:`Decoded.media`).
    media: dict[str, Any] = dataclasses.field(default_factory=dict)
