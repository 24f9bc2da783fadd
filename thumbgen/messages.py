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


#: The distribution's name: ``thumbgen`` on PyPI is an unrelated project.
DISTRIBUTION = "thumbgen-cli"


def install_hint(extra: str) -> str:
    """Commands that add ``extra`` to this install, for the line that says it is missing.

    thumbgen-cli is not on the package index, so ``pip install
    'thumbgen-cli[redis]'`` fails: the commands install from the checkout
    (``'.[redis]'``), or inject the extra's own packages, read from the
    installed metadata, so the hint holds for an install from a built wheel
    too.
    """
    hint = f"from the thumbgen checkout, pipx install --force '.[{extra}]'"
    packages = extra_requirements(extra)
    if packages:
        hint += f", or pipx inject {DISTRIBUTION} " + " ".join(f"'{p}'" for p in packages)
    return hint + f" (in a virtual environment: pip install '.[{extra}]')"


def extra_requirements(extra: str) -> list[str]:
    """The packages ``extra`` adds, as the installed distribution declares them ([] if unknown)."""
    import importlib.metadata
    import re

    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    return [
        req.strip().replace(" ", "")
        for req, _, cond in (r.partition(";") for r in declared)
        if marker.search(cond)
    ]
