"""``repair``: salvage what a damaged queue file still holds into a fresh queue.

On Redis, where there is no file, it lets a new queue start where one was
lost (its keys gone), which no command does by itself.
"""

from __future__ import annotations

import dataclasses

from thumbgen.jobqueue import backend
from thumbgen.messages import display_path


@dataclasses.dataclass(frozen=True)
class RepairReport:
    """What ``repair`` did, as one line for people."""

    #: The location, fit to print (a Redis password hidden).
    queue: str
    #: False for a Redis queue: there is no file to salvage.
    applies: bool
    #: A Redis queue marked lost, whose marker was removed (a new queue may start).
    restarted: bool = False
    #: False when the file was sound and left as it was.
    repaired: bool = False
    requeued: int = 0
    kept: int = 0
    #: Jobs the damaged file counted that could not be read (None: unknown).
    lost: int | None = None
    damaged_copy: str | None = None

    def summary(self) -> str:
        """The one line ``thumbgen repair`` prints."""
        if self.restarted:
            return (
                f"Queue {self.queue} was lost; the next `thumbgen add` or `thumbgen worker` "
                "starts a new, empty queue there"
            )
        if not self.applies:
            return (
                f"Nothing to repair: {self.queue} is a Redis queue, whose data Redis keeps "
                "itself; `thumbgen repair` salvages damaged queue files"
            )
        if not self.repaired:
            return f"Queue {self.queue} is not damaged; nothing to repair"
        lost = "" if self.lost is None else f", {self.lost} unreadable"
        copy = display_path(self.damaged_copy or "")
        return (
            f"Salvaged {self.requeued + self.kept} jobs into a fresh {self.queue} "
            f"({self.requeued} queued again, {self.kept} finished kept{lost}); "
            f"the damaged file is kept as {copy}"
        )


def repair(location: str) -> RepairReport:
    """Salvage the damaged queue at ``location``; a sound one, or Redis, is left alone.

    Never touches thumbnails.
    """
    salvage = backend.repair(location)
    if salvage is None:
        restarted = backend.forget_loss(location)
        return RepairReport(backend.shown(location), applies=False, restarted=restarted)
    return RepairReport(
        display_path(location),
        applies=True,
        repaired=salvage.damaged_copy is not None,
        requeued=salvage.requeued,
        kept=salvage.kept,
        lost=salvage.lost,
        damaged_copy=salvage.damaged_copy,
    )
