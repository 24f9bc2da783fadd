"""thumbgen: thumbnails from the command line through a durable local queue.

The library API is the imaging core: build :class:`Options` with
:func:`build_options`, then call :func:`make_thumbnails` for each source.
"""

from .errors import ThumbgenError
from .imaging import Thumbnail, make_thumbnails
from .options import Options, OutputSpec, build_options

__version__ = "0.1.0"

__all__ = [
    "Options",
    "OutputSpec",
    "ThumbgenError",
    "Thumbnail",
    "__version__",
    "build_options",
    "make_thumbnails",
]
