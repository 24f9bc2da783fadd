"""Steering the queue: ``retry``, ``cancel``, ``clear``, ``pause``, ``resume``."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from thumbgen.errors import QueueError, UsageError
from thumbgen.jobqueue.backend import shown
from thumbgen.jobqueue.contract import State

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """``90s``, ``30m``, ``12h``, ``7d`` or ``2w`` as seconds.

    The unit is required: a bare ``7`` read as seconds cleared a week's
    worth of jobs for someone who meant days.
    """
    m = _AGE.match(text)
    if m is None:
        bare = text.strip().replace(".", "", 1).isdigit()
        why = "give it a unit" if bare else "use a number with a unit"
        raise UsageError(f"Invalid age {text!r}: {why}: s, m, h, d or w, such as 7d")
    return float(m.group(1)) * _UNIT[m.group(2).lower()]


def split_refs(refs: Sequence[str]) -> tuple[list[int], list[str]]:
    """Job references as ids (numbers) and source paths (made absolute)."""
    ids = [int(r) for r in refs if r.isdigit()]
    sources = [os.path.abspath(r) for r in refs if not r.isdigit()]
    return ids, sources


def check_known(queue: Queue, refs: Sequence[str]) -> None:
    """Refuse job references that name no job, before anything is changed.

    A typo in an id would otherwise say "0 cancelled" and exit 0, as if the
    job had simply not been queued any more.
    """
    unknown = [ref for ref in refs if not _known(queue, ref)]
    if unknown:
        named = ", ".join(repr(r) for r in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        noun = "job" if len(unknown) == 1 else "jobs"
        raise QueueError(
            f"No {noun} {named}{more} in {shown(queue.location)}; `thumbgen jobs` lists them"
        )


def _known(queue: Queue, ref: str) -> bool:
    if ref.isdigit() and queue.store.job(int(ref)) is not None:
        return True
    return queue.store.job(os.path.abspath(ref)) is not None  # a source (or a file named "12")


def retry(queue: Queue, refs: Sequence[str] = ()) -> int:
    """Queue failed (or cancelled, or vanished) jobs again: those named, else every failure.

    Raises QueueError, changing nothing, when a reference names no job.
    """
    if not refs:
        n: int = queue.store.retry()
        return n
    check_known(queue, refs)
    ids, sources = split_refs(refs)
    n = queue.store.retry(ids=ids, sources=sources)
    return n


def cancel(queue: Queue, refs: Sequence[str] = (), *, every: bool = False) -> int:
    """Cancel queued jobs: those named, or with ``every`` all of them.

    Raises QueueError, changing nothing, when a reference names no job.
    """
    if not refs and not every:
        raise UsageError("Name the jobs to cancel (ids or source paths), or use --all")
    if every:
        return queue.store.cancel()
    check_known(queue, refs)
    ids, sources = split_refs(refs)
    return queue.store.cancel(ids=ids, sources=sources)


def clear(queue: Queue, states: Sequence[State], *, older_than: float | None = None) -> int:
    """Forget jobs in ``states`` (finished more than ``older_than`` seconds ago)."""
    return queue.store.clear(states, older_than=older_than)


def pause(queue: Queue) -> None:
    """Stop every worker, on every machine, from starting jobs (running ones finish)."""
    queue.store.pause()


def resume(queue: Queue) -> None:
    """Let workers start jobs again."""
    queue.store.resume()
