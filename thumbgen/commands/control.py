"""Steering the queue: ``retry``, ``cancel``, ``clear``, ``pause``, ``resume``."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from thumbgen.errors import UsageError
from thumbgen.jobqueue.contract import State

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``12h``, ``7d`` or ``2w`` as seconds."""
    m = _AGE.match(text)
    if m is None:
        raise UsageError(f"Invalid age {text!r}: use a number with s, m, h, d or w, such as 7d")
    return float(m.group(1)) * _UNIT[m.group(2).lower()]


def split_refs(refs: Sequence[str]) -> tuple[list[int], list[str]]:
    """Job references as ids (numbers) and source paths (made absolute)."""
    ids = [int(r) for r in refs if r.isdigit()]
    sources = [os.path.abspath(r) for r in refs if not r.isdigit()]
    return ids, sources


def retry(queue: Queue, refs: Sequence[str] = ()) -> int:
    """Queue failed (or cancelled, or vanished) jobs again: those named, else every failure."""
    if not refs:
        n: int = queue.store.retry()
        return n
    ids, sources = split_refs(refs)
    n = queue.store.retry(ids=ids, sources=sources)
    return n


def cancel(queue: Queue, refs: Sequence[str] = (), *, every: bool = False) -> int:
    """Cancel queued jobs: those named, or with ``every`` all of them."""
    if not refs and not every:
        raise UsageError("Name the jobs to cancel (ids or source paths), or use --all")
    if every:
        return queue.store.cancel()
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
