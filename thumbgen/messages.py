"""Text for one-line messages: paths and exceptions made fit to print on one line.

Every layer names files and quotes decoders in its errors; these two helpers
keep those messages on one line whatever a file name or an exception holds.
"""

from __future__ import annotations


def display_path(path: str) -> str:
    """``path`` made safe for a one-line message.

    File names may hold newlines, tabs or undecodable bytes (surrogate
    escapes); those are shown escaped (``\\n``, ``\\udcff``) so that an error
    stays one line and prints on any terminal. Ordinary names are unchanged.
    """
    return path if path.isprintable() else repr(path)[1:-1]


def os_reason(exc: OSError) -> str:
    """An ``OSError``'s cause alone, for a line that names the file itself ("permission denied")."""
    return (exc.strerror or str(exc)).lower()


def reason(exc: BaseException) -> str:
    """An exception as a short single line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
