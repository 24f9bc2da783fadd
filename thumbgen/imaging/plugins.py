"""Pillow plugins from other packages, imported and registered on the first file that needs one.

pillow-heif (HEIC/HEIF) and pillow-jxl-plugin (JPEG XL) add formats to
Pillow. Importing them costs start-up time that a folder of JPEGs should
not pay, so a plugin is loaded only once a file's signature names its
format (:func:`register`), once per process.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from types import ModuleType

from . import formats

_LOCK = threading.Lock()
_REGISTERED: set[str] = set()


def _heif(module: ModuleType) -> None:
    # thumbnails=True: draft() may then decode an embedded thumbnail that is
    # large enough instead of the whole picture (pillow-heif >= 1.8).
    module.register_heif_opener(thumbnails=True)


#: What to call after importing a plugin module; modules not listed register on import.
_SETUP: dict[str, Callable[[ModuleType], None]] = {"pillow_heif": _heif}


def register(fmt: formats.ImageFormat) -> None:
    """Make sure the Pillow plugin for ``fmt`` is loaded; a no-op for Pillow's own formats.

    Raises ``ImportError`` when the plugin's package is not installed.
    """
    module_name = fmt.module
    if module_name is None or not fmt.pillow_formats or module_name in _REGISTERED:
        return
    with _LOCK:
        if module_name in _REGISTERED:
            return
        module = importlib.import_module(module_name)
        setup = _SETUP.get(module_name)
        if setup is not None:
            setup(module)
        _REGISTERED.add(module_name)
