"""thumbgen: thumbnails from the command line through a durable local queue.

The library API is one call around the imaging core: build :class:`Options` with
:func:`build_options`, then call :func:`make_thumbnails` for each source.
Names are imported on first use, so that ``thumbgen status`` never pays for
Pillow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Options": "thumbgen.options",
    "OutputSpec": "thumbgen.options",
    "build_options": "thumbgen.options",
    "ThumbgenError": "thumbgen.errors",
    "Thumbnail": "thumbgen.thumbnailing",
    "make_thumbnails": "thumbgen.thumbnailing",
}

if TYPE_CHECKING:
    from .errors import ThumbgenError
    from .options import Options, OutputSpec, build_options
    from .thumbnailing import Thumbnail, make_thumbnails

__all__ = [
    "Options",
    "OutputSpec",
    "ThumbgenError",
    "Thumbnail",
    "__version__",
    "build_options",
    "make_thumbnails",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'thumbgen' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
