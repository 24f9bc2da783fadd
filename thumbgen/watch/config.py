"""What ``watch`` watches and how: plain settings, importable without watchdog."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class WatchConfig:
    """What to watch and how."""

    folders: tuple[str, ...]
    recursive: bool = False
    #: Poll every this many seconds instead of using OS events (network shares).
    poll: float | None = None
    #: Seconds without events before a file is looked at.
    settle: float = 2.0
    #: Seconds between reconciling rescans.
    rescan: float = 300.0
    #: Folders whose files are never sources (the output folder).
    exclude: tuple[str, ...] = ()
    #: Remove the thumbnails of sources deleted or renamed away (``--mirror-deletes``).
    mirror_deletes: bool = False
