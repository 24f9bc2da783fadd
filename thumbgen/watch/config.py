"""What ``watch`` watches and how: plain settings and the watchers' common face,
importable without watchdog."""

from __future__ import annotations

import dataclasses
from typing import Protocol

#: Seconds between listings of a watched bucket when ``--poll`` is not given.
BUCKET_POLL = 10.0


@dataclasses.dataclass(frozen=True)
class WatchConfig:
    """What to watch and how."""

    folders: tuple[str, ...]
    recursive: bool = False
    #: Poll every this many seconds instead of using OS events (network shares);
    #: a bucket is always polled, by default every :data:`BUCKET_POLL` seconds.
    poll: float | None = None
    #: Seconds without events before a file is looked at.
    settle: float = 2.0
    #: Seconds between reconciling rescans.
    rescan: float = 300.0
    #: Folders whose files are never sources (the output folder).
    exclude: tuple[str, ...] = ()
    #: Remove the thumbnails of sources deleted or renamed away (``--mirror-deletes``).
    mirror_deletes: bool = False


@dataclasses.dataclass(frozen=True)
class WatchStatus:
    """A snapshot for the status line."""

    folders: tuple[str, ...]
    observer: str
    settling: int
    handed_over: int
    last_scan: float | None


class Watching(Protocol):
    """What ``watch`` drives: a folder watcher or a bucket poller."""

    def start(self) -> None:
        """Begin watching, and hand over what is already there."""
        ...

    def stop(self) -> None:
        """Stop watching."""
        ...

    def tick(self) -> int:
        """Hand over what has arrived since the last tick; how many."""
        ...

    def status(self) -> WatchStatus:
        """A snapshot for the status line."""
        ...

    def hints(self) -> list[str]:
        """Advice about what is watched, for the user."""
        ...
