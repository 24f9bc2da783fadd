"""Uploads on disk: streamed into a temporary file, then named by their content hash."""

from __future__ import annotations

import contextlib
import os
import time

from thumbgen.errors import OutputError
from thumbgen.naming import display_path

#: Temporary upload files start with this; they never look like a stored upload.
TEMP_PREFIX = ".upload-"
#: A temporary file older than this at start-up was left by a server that died.
STALE_SECONDS = 3600.0


def prepare_uploads_dir(path: str) -> None:
    """Make the uploads folder, check it is writable, remove stale temporary files."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Cannot make the uploads folder {display_path(path)}: {exc.strerror}; "
            "check --uploads and its permissions"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot write uploads to {display_path(path)}: it is not writable; "
            "check --uploads and its permissions"
        )
    # Several servers may share the folder: only old leftovers are theirs no more.
    cutoff = time.time() - STALE_SECONDS
    for entry in os.scandir(path):
        if entry.name.startswith(TEMP_PREFIX):
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
