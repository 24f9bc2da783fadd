"""Discovery: turn the PATH arguments of ``add`` into source images.

Files, folders (recursed) and quoted globs (expanded here, so they work the
same in every shell). Hidden entries, non-regular files and thumbgen's own
output folder are left out; symlink loops are walked once. Every file is
identified by its content, and anything that is not an image comes back as
:class:`Skipped` with the reason.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import stat
from collections.abc import Iterator, Sequence

from thumbgen.imaging.sniff import NotImage, sniff

from .naming import relative_dir


@dataclasses.dataclass(frozen=True)
class Source:
    """An image to thumbnail, with the ``{dir}`` it was found under and its signature."""

    path: str
    rel_dir: str
    size: int
    mtime_ns: int


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A path that will not be queued, and why."""

    path: str
    reason: str
    #: True for a PATH argument that matched nothing (an error, not just a skip).
    missing: bool = False


def is_glob(text: str) -> bool:
    """True when ``text`` has glob characters and is not itself an existing path."""
    return glob.has_magic(text) and not os.path.lexists(text)


def common_root(paths: Sequence[str]) -> str:
    """The folder that ``{dir}`` is measured from for this set of PATH arguments.

    It is the deepest folder holding every argument: ``add photos`` measures
    from ``photos``; ``add a/x b/y`` from their common parent, so same-named
    files in ``a/x`` and ``b/y`` never share a thumbnail name.
    """
    anchors = []
    for text in paths:
        if is_glob(text):
            anchors.append(_glob_base(text))
        elif os.path.isdir(text):
            anchors.append(os.path.abspath(text))
        else:
            anchors.append(os.path.dirname(os.path.abspath(text)))
    return os.path.commonpath(anchors) if anchors else os.getcwd()


def _glob_base(pattern: str) -> str:
    parts = []
    for part in os.path.normpath(pattern).split(os.sep):
        if glob.has_magic(part):
            break
        parts.append(part)
    base = os.sep.join(parts) or "."
    if pattern.startswith(os.sep) and not base.startswith(os.sep):
        base = os.sep + base
    return os.path.abspath(base)


def discover(
    paths: Sequence[str], *, exclude: Sequence[str] = (), root: str | None = None
) -> Iterator[Source | Skipped]:
    """Yield a :class:`Source` for each image under ``paths`` and a :class:`Skipped` otherwise.

    ``exclude`` lists folders never to enter (the output folder); ``root``
    overrides :func:`common_root` for ``{dir}``. The same file reached twice
    (``add a.jpg ./a.jpg``, or a folder and a file in it) is yielded once.
    """
    root = root or common_root(paths)
    excluded = {os.path.realpath(p) for p in exclude}
    seen_files: set[tuple[int, int, str]] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for text in paths:
        if is_glob(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                yield Skipped(text, "no file matches this pattern", missing=True)
            for match in matches:
                yield from _entry(match, root, excluded, seen_files, seen_dirs, explicit=True)
        elif not os.path.lexists(text):
            yield Skipped(text, "no such file or folder", missing=True)
        else:
            yield from _entry(text, root, excluded, seen_files, seen_dirs, explicit=True)


def _entry(
    path: str,
    root: str,
    excluded: set[str],
    seen_files: set[tuple[int, int, str]],
    seen_dirs: set[tuple[int, int]],
    *,
    explicit: bool,
) -> Iterator[Source | Skipped]:
    try:
        st = os.stat(path)
    except OSError as exc:
        yield Skipped(path, _why(exc))
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _walk(path, root, excluded, seen_files, seen_dirs)
    else:
        rel_dir = relative_dir(path, root)
        yield from _file(path, st, rel_dir, seen_files, explicit=explicit)


def _walk(
    top: str,
    root: str,
    excluded: set[str],
    seen_files: set[tuple[int, int, str]],
    seen_dirs: set[tuple[int, int]],
) -> Iterator[Source | Skipped]:
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            yield Skipped(folder, _why(exc))
            continue
        # A symlink loop brings us back to a folder already walked: stop there.
        if (st.st_dev, st.st_ino) in seen_dirs or os.path.realpath(folder) in excluded:
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield Skipped(folder, _why(exc))
            continue
        subfolders = []
        # One {dir} per folder: relpath per file cost a fifth of discovery.
        rel_dir = relative_dir(os.path.join(folder, "-"), root)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    subfolders.append(entry.path)
                    continue
                est = entry.stat()
            except OSError as exc:
                yield Skipped(entry.path, _why(exc))
                continue
            yield from _file(entry.path, est, rel_dir, seen_files, explicit=False)
        stack.extend(reversed(subfolders))


def _file(
    path: str,
    st: os.stat_result,
    rel_dir: str,
    seen_files: set[tuple[int, int, str]],
    *,
    explicit: bool,
) -> Iterator[Source | Skipped]:
    if not stat.S_ISREG(st.st_mode):
        if explicit:
            yield Skipped(path, "not a regular file")
        return
    identity = (st.st_dev, st.st_ino, os.path.basename(path))
    if identity in seen_files:
        return
    seen_files.add(identity)
    try:
        sniff(path)
    except NotImage as exc:
        yield Skipped(path, str(exc))
        return
    except OSError as exc:
        yield Skipped(path, _why(exc))
        return
    yield Source(os.path.abspath(path), rel_dir, st.st_size, st.st_mtime_ns)


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
