"""Watch folders and hand every image that has completely arrived to a callback.

A watchdog observer feeds hints into a :class:`~thumbgen.settle.Settler`; a
scan at start (after the observer is running, so nothing falls between the
two) and periodic rescans catch what events missed: files that arrived while
thumbgen was stopped, events lost when the kernel queue overflowed, folders
beyond the inotify watch limit. The callback decides what "queue" means;
this module never thumbnails anything itself.

With an ``on_gone`` callback (``--mirror-deletes``) the watcher also reports
sources that went: deleted, renamed or moved away (a folder too: every file
it handed over from under it), or missing at a rescan (events lost). The
callback returns the paths it could not finish yet (their job is running);
they are offered again about once a second.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from thumbgen.errors import ThumbgenError, UsageError

from .config import WatchConfig as WatchConfig
from .config import WatchStatus as WatchStatus
from .settle import Settler, is_candidate

__all__ = [
    "WatchConfig",
    "WatchError",
    "WatchStatus",
    "Watcher",
    "filesystem_type",
    "network_hints",
]

log = logging.getLogger("thumbgen.watch")

#: File systems whose changes made elsewhere produce no local events.
NETWORK_FS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "afs", "ceph")
_EVENTS = [FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileMovedEvent,
           FileDeletedEvent, DirMovedEvent, DirDeletedEvent]  # fmt: skip
#: Seconds between offers of gone paths the callback could not finish yet.
GONE_RETRY_SECONDS = 1.0


class WatchError(ThumbgenError):
    """The watcher cannot go on (its observer thread died, a folder vanished)."""


class Watcher:
    """Observer + settle map + rescans; ``on_ready(root, paths)`` gets complete files.

    ``on_gone(root, paths)``, if given, gets sources that went and returns
    those to offer again later.
    """

    def __init__(
        self,
        config: WatchConfig,
        on_ready: Callable[[str, list[str]], None],
        on_gone: Callable[[str, list[str]], list[str]] | None = None,
    ) -> None:
        for folder in config.folders:
            if not os.path.isdir(folder):
                raise UsageError(f"Cannot watch {folder}: it is not a folder")
        self.config = dataclasses.replace(
            config,
            folders=tuple(os.path.abspath(f) for f in config.folders),
            exclude=tuple(os.path.realpath(f) for f in config.exclude),
        )
        self._on_ready = on_ready
        self._on_gone = on_gone
        #: Sources seen to go since the last tick (events, rescans), in order.
        self._gone: dict[str, None] = {}
        #: Sources the callback could not finish yet, and when to offer them again.
        self._gone_later: list[str] = []
        self._next_gone = 0.0
        self._lock = threading.Lock()
        self._settler = Settler(quiet=config.settle)
        self._known: dict[str, tuple[int, int]] = {}
        self._handed_over = 0
        self._last_scan: float | None = None
        self._next_scan = 0.0
        self._overflow = threading.Event()
        self._overflow_hook = _OverflowHook(self._overflow)
        self._observer: BaseObserver = (
            PollingObserver(timeout=config.poll) if config.poll else Observer()
        )

    @property
    def observer_kind(self) -> str:
        """``inotify``, ``polling every 5 s``, ... for the status line."""
        if self.config.poll:
            return f"polling every {self.config.poll:g} s"
        return type(self._observer).__name__.removesuffix("Observer").lower() or "native"

    def start(self) -> None:
        """Start observing, then scan what is already there."""
        closes = not self.config.poll and "inotify" in type(self._observer).__name__.lower()
        handler = _Handler(self, closes_reported=closes)
        for folder in self.config.folders:
            self._observer.schedule(
                handler, folder, recursive=self.config.recursive, event_filter=_EVENTS
            )
        logging.getLogger("watchdog").addHandler(self._overflow_hook)
        self._observer.start()
        self.scan()

    def stop(self) -> None:
        """Stop observing."""
        logging.getLogger("watchdog").removeHandler(self._overflow_hook)
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join(5)

    def tick(self) -> int:
        """Hand over what is complete, rescan when due; return how many were handed over."""
        if not self._observer.is_alive():
            raise WatchError(
                "The file watcher stopped unexpectedly; restart thumbgen watch "
                "(files that arrive meanwhile are picked up by the start-up scan)"
            )
        now = time.monotonic()
        if self._overflow.is_set() or now >= self._next_scan:
            if self._overflow.is_set():
                log.warning("events were lost (kernel queue overflow); rescanning")
            self._overflow.clear()
            self.scan()
        self._hand_over_gone(now)
        with self._lock:
            ready = self._settler.ready()
        by_root: dict[str, list[str]] = {}
        for path in ready:
            try:
                st = os.stat(path)
            except OSError:
                continue
            with self._lock:
                self._known[path] = (st.st_size, st.st_mtime_ns)
            by_root.setdefault(self._root_of(path), []).append(path)
        for root, paths in by_root.items():
            self._on_ready(root, paths)
        self._handed_over += len(ready)
        return len(ready)

    def _hand_over_gone(self, now: float) -> None:
        """Give ``on_gone`` the sources that went (before the arrivals: a rename's new
        name may be given the old one's thumbnail names)."""
        if self._on_gone is None:
            return
        with self._lock:
            gone = list(self._gone)
            self._gone.clear()
        if now >= self._next_gone:
            gone += self._gone_later
            self._gone_later = []
            self._next_gone = now + GONE_RETRY_SECONDS
        by_root: dict[str, list[str]] = {}
        for path in dict.fromkeys(gone):
            root = self._root_of(path)
            if root:
                by_root.setdefault(root, []).append(path)
        for root, paths in by_root.items():
            self._gone_later += self._on_gone(root, paths)

    def scan(self) -> int:
        """Feed every candidate file not handed over in its current state; return how many.

        Files handed over before that are no longer there went unseen (lost
        events): with ``on_gone`` they are reported gone.
        """
        found = 0
        seen = set()
        for path, st in self._files():
            seen.add(path)
            if self._known.get(path) == (st.st_size, st.st_mtime_ns):
                continue
            with self._lock:
                self._settler.found(path)
            found += 1
        if self._on_gone is not None:
            with self._lock:
                for path in [p for p in self._known if p not in seen]:
                    self._went(path)
        self._last_scan = time.time()
        self._next_scan = time.monotonic() + (self.config.poll or self.config.rescan)
        if found:
            log.info("scan found %d new or changed file(s)", found)
        return found

    def status(self) -> WatchStatus:
        """A snapshot for the status line."""
        with self._lock:
            settling = len(self._settler)
        return WatchStatus(
            self.config.folders, self.observer_kind, settling, self._handed_over, self._last_scan
        )

    def hints(self) -> list[str]:
        """Advice about the watched folders (network file systems need --poll)."""
        return [] if self.config.poll else network_hints(self.config.folders)

    # -- internals ------------------------------------------------------

    def wanted(self, path: str) -> bool:
        """Whether ``path`` is inside a watched folder (at the right depth) and not excluded."""
        if self._excluded(path):
            return False
        parent = os.path.dirname(os.path.abspath(path))
        for folder in self.config.folders:
            if parent == folder:
                return True
            if self.config.recursive and parent.startswith(folder + os.sep):
                return True
        return False

    def _excluded(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == e or real.startswith(e + os.sep) for e in self.config.exclude)

    def _root_of(self, path: str) -> str:
        inside = [f for f in self.config.folders if path.startswith(f + os.sep)]
        return max(inside, key=len) if inside else ""

    def _went(self, path: str) -> None:
        """``path`` is gone (called with the lock held)."""
        self._known.pop(path, None)
        if self._on_gone is not None:
            self._gone[path] = None

    def _folder_went(self, folder: str) -> None:
        """Every source handed over from under ``folder`` is gone (lock held)."""
        prefix = folder + os.sep
        for path in [p for p in self._known if p.startswith(prefix)]:
            self._settler.deleted(path)
            self._went(path)

    def _files(self) -> Iterator[tuple[str, os.stat_result]]:
        stack = list(self.config.folders)
        seen: set[tuple[int, int]] = set()
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
                dev_ino = os.stat(folder)
            except OSError:
                continue
            if (dev_ino.st_dev, dev_ino.st_ino) in seen:
                continue
            seen.add((dev_ino.st_dev, dev_ino.st_ino))
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if self.config.recursive and not self._excluded(entry.path):
                        stack.append(entry.path)
                elif (
                    stat.S_ISREG(st.st_mode)
                    and is_candidate(entry.path)
                    and self.wanted(entry.path)
                ):
                    yield entry.path, st

    def _event(self, event: FileSystemEvent, closes_reported: bool) -> None:
        src = os.fsdecode(event.src_path)
        with self._lock:
            if isinstance(event, (DirMovedEvent, DirDeletedEvent)):
                # A moved folder's files arrive as created events (watchdog >= 7.1).
                self._folder_went(src)
            elif isinstance(event, FileMovedEvent):
                dest = os.fsdecode(event.dest_path)
                if self.wanted(dest):
                    self._settler.moved(src, dest)
                else:
                    self._settler.deleted(src)
                if is_candidate(src) and self.wanted(src) and src != dest:
                    self._went(src)
            elif not self.wanted(src):
                return
            elif isinstance(event, FileClosedEvent):
                self._settler.closed(src)
            elif isinstance(event, FileModifiedEvent):
                self._settler.modified(src, closes_reported=closes_reported)
            elif isinstance(event, FileCreatedEvent):
                self._settler.created(src)
            elif isinstance(event, FileDeletedEvent):
                self._settler.deleted(src)
                if is_candidate(src):
                    self._went(src)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher, *, closes_reported: bool) -> None:
        self._watcher = watcher
        self._closes = closes_reported

    def on_any_event(self, event: FileSystemEvent) -> None:
        # An exception here would kill watchdog's dispatcher thread and leave
        # a deaf watcher (notes/watch.md pitfall 4): log it and carry on.
        try:
            self._watcher._event(event, self._closes)
        except Exception:
            log.exception("error handling %r", event)


class _OverflowHook(logging.Handler):
    """watchdog only logs a lost-events overflow; turn that log line into a rescan."""

    def __init__(self, flag: threading.Event) -> None:
        super().__init__(logging.WARNING)
        self._flag = flag

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._flag.set()


def network_hints(
    folders: Sequence[str], fstype: Callable[[str], str | None] | None = None
) -> list[str]:
    """A hint for each folder on a file system whose remote changes send no events."""
    kind_of = fstype or filesystem_type
    result = []
    for folder in folders:
        kind = kind_of(folder)
        if kind and (kind in NETWORK_FS or kind.startswith("fuse")):
            result.append(
                f"{folder} is on {kind}: changes made by other machines send no "
                "events here; use --poll 5"
            )
    return result


def filesystem_type(path: str) -> str | None:
    """The file-system type of the mount holding ``path`` (Linux), else None."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) >= 3]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", None
    for point, fstype in mounts:
        point = point.replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fstype
    return kind
