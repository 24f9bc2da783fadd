"""Deciding when a file that is arriving in a watched folder is complete.

File-system events are hints, not facts (notes/watch.md section 1): a moved-in
file gets only "created", a copied tree sometimes misses "closed", events
repeat. Every hint lands in one per-path map; a path becomes ready once its
size and mtime hold still across two looks, and never while a writer on
Linux still has it open for writing (seen "modified" but not yet "closed").

Pure logic with an injected clock and ``stat``, so that tests can replay any
event sequence without a file system or a watcher.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

from thumbgen.imaging.formats import READ_EXTENSIONS

#: Extensions the watcher considers (names only decide candidacy; content decides the rest).
IMAGE_EXTENSIONS = READ_EXTENSIONS
#: Names downloaders, editors and sync tools use while a file is incomplete.
TEMP_SUFFIXES = (".part", ".crdownload", ".download", ".partial", ".tmp", ".swp", "~")

#: Give up waiting for a "closed" after this long without any event (a writer that died).
STALLED_WRITER_SECONDS = 60.0


def is_candidate(path: str) -> bool:
    """True for a name that may be a finished image: not hidden, not a temp name."""
    name = os.path.basename(path)
    if not name or name.startswith(".") or name.lower().endswith(TEMP_SUFFIXES):
        return False
    parts = os.path.normpath(path).split(os.sep)
    if any(p.startswith(".") or p.lower().endswith(".download") for p in parts[:-1] if p):
        return False
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


@dataclasses.dataclass
class _Pending:
    due: float
    last_event: float
    writing: bool = False
    seen: tuple[int, int] | None = None


class Settler:
    """Per-path settle timers fed by file-system hints.

    ``quiet``: seconds without events before a file is looked at; ``quick``:
    the shorter wait after a strong signal (closed, renamed into place).
    """

    def __init__(
        self,
        quiet: float = 2.0,
        quick: float = 0.3,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        stat: Callable[[str], os.stat_result] = os.stat,
    ) -> None:
        self.quiet = quiet
        self.quick = quick
        self._clock = clock
        self._wall = wall
        self._stat = stat
        self._pending: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def created(self, path: str) -> None:
        """A file appeared (also: moved in from elsewhere, found by a scan)."""
        self._touch(path, strong=False)

    def modified(self, path: str, *, closes_reported: bool) -> None:
        """A file was written to; with close events a writer now holds it open."""
        entry = self._touch(path, strong=False)
        if entry is not None and closes_reported:
            entry.writing = True

    def closed(self, path: str) -> None:
        """A writer closed the file (inotify's IN_CLOSE_WRITE)."""
        entry = self._touch(path, strong=True)
        if entry is not None:
            entry.writing = False

    def moved(self, src: str, dest: str) -> None:
        """A rename: the old name is gone, the new one was just put in place."""
        self.deleted(src)
        entry = self._touch(dest, strong=True)
        if entry is not None:
            entry.writing = False

    def deleted(self, path: str) -> None:
        """The file is gone."""
        self._pending.pop(path, None)

    def found(self, path: str) -> None:
        """A scan saw the file; a file already being watched keeps its state.

        No event vouches for it, so it gets the full quiet time: it may be
        one that a writer started before the watch began.
        """
        if path not in self._pending:
            self._touch(path, strong=False)

    def _touch(self, path: str, *, strong: bool) -> _Pending | None:
        if not is_candidate(path):
            return None
        now = self._clock()
        due = now + (self.quick if strong else self.quiet)
        entry = self._pending.get(path)
        if entry is None:
            entry = self._pending[path] = _Pending(due=due, last_event=now)
        else:
            entry.last_event = now
            # A strong signal brings the look forward; any other event pushes it back.
            entry.due = min(entry.due, due) if strong else due
        return entry

    def ready(self) -> list[str]:
        """Paths complete now; they leave the map. Others are re-armed or dropped."""
        now = self._clock()
        done = []
        for path, entry in list(self._pending.items()):
            if entry.due > now:
                continue
            if entry.writing and now - entry.last_event < STALLED_WRITER_SECONDS:
                entry.due = now + self.quiet
                continue
            try:
                st = self._stat(path)
            except OSError:
                del self._pending[path]  # gone, or never was a file we can read
                continue
            if st.st_size == 0:
                # An empty placeholder (Firefox writes one before renaming over it).
                del self._pending[path]
                continue
            signature = (st.st_size, st.st_mtime_ns)
            old = self._wall() - st.st_mtime_ns / 1e9 >= self.quiet
            if entry.seen == signature or old:
                del self._pending[path]
                done.append(path)
            else:
                entry.seen = signature
                entry.due = now + self.quick
        return done
