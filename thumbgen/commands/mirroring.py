"""``watch --mirror-deletes``: find the thumbnails a gone source made, and remove them.

A source's thumbnails are known two ways: the outputs its job recorded when
it was done, and the names ``--name`` gives it for each size (a job queued
again after a change has no recorded outputs yet, but its earlier
thumbnails are still there). Names are matched exactly: ``{width}`` and
``{height}`` only as digits, ``{ext}`` only as an output format's extension,
so ``a.jpg``'s pattern never matches ``a_b.jpg``'s thumbnails. Only files
inside the output folder are ever removed, each with one ``unlink`` (a
thumbnail is there whole or not at all), and folders left empty go too.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable

from thumbgen.naming import render
from thumbgen.options import Format, Options, OutputSpec

# Stand-ins for the placeholders a name pattern leaves open; no file name
# holds these characters, and normpath leaves them alone.
_WIDTH, _HEIGHT, _EXT = "\x01w\x01", "\x01h\x01", "\x01e\x01"


def thumbnails_of(
    source: str,
    rel_dir: str,
    options: Options,
    recorded: Iterable[str] = (),
    listings: dict[str, list[str]] | None = None,
) -> list[str]:
    """The thumbnails of ``source`` that exist in ``options.out_dir``: recorded or by name.

    ``listings`` caches the output folders' listings across calls (many
    sources gone at once, say a folder removed, share a few output folders).
    """
    out_dir = os.path.realpath(options.out_dir)
    found = {p for p in recorded if _inside(p, out_dir) and os.path.isfile(p)}
    cache = {} if listings is None else listings
    for spec in options.specs:
        found.update(_named(source, rel_dir, options, spec, out_dir, cache))
    return sorted(found)


def _named(
    source: str,
    rel_dir: str,
    options: Options,
    spec: OutputSpec,
    out_dir: str,
    listings: dict[str, list[str]],
) -> list[str]:
    rel = render(
        options.name,
        source=source,
        rel_dir=rel_dir,
        size_label=spec.size.label,
        width=_WIDTH,
        height=_HEIGHT,
        ext=_EXT,
    )
    folder, name = os.path.split(os.path.join(options.out_dir, rel))
    if any(s in folder for s in (_WIDTH, _HEIGHT, _EXT)):
        return []  # a folder named by pixel size: only recorded outputs are trusted
    # Imported here: the format table costs every command (status too) 5 ms to load.
    from thumbgen.imaging.formats import OUTPUTS

    formats = (Format.JPEG, Format.PNG) if spec.format is Format.AUTO else (spec.format,)
    exts = "|".join(re.escape(OUTPUTS[f].extension) for f in formats)
    pattern = (
        re.escape(name)
        .replace(_WIDTH, r"\d+")
        .replace(_HEIGHT, r"\d+")
        .replace(_EXT, f"(?:{exts})")
    )
    matcher = re.compile(pattern)
    if folder not in listings:
        try:
            listings[folder] = os.listdir(folder)
        except OSError:
            listings[folder] = []
    names = listings[folder]
    paths = (os.path.join(folder, n) for n in names if matcher.fullmatch(n))
    return [p for p in paths if _inside(p, out_dir) and os.path.isfile(p)]


def _inside(path: str, out_dir: str) -> bool:
    """Whether ``path`` (its folder's real location) lies inside the output folder."""
    real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    return real.startswith(out_dir + os.sep)


def remove(paths: Iterable[str], out_dir: str) -> int:
    """Remove ``paths`` (thumbnails inside ``out_dir``) and the folders they leave empty.

    Returns how many files went; one already gone is not an error.
    """
    top = os.path.realpath(out_dir)
    removed = 0
    folders = set()
    for path in paths:
        if not _inside(path, top):
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        removed += 1
        folders.add(os.path.dirname(path))
    for folder in sorted(folders, key=len, reverse=True):
        # rmdir only ever removes an empty folder; stop at the first that is not.
        while os.path.realpath(folder).startswith(top + os.sep):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
            if os.path.isdir(folder):
                break
            folder = os.path.dirname(folder)
    return removed
