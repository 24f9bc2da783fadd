"""Whether many outputs are still stored, without one request per output.

``add`` asks of every done job whether each output it recorded is still
there (a deleted thumbnail is made again). Locally that is a ``stat``; in a
bucket it is a HEAD, and a re-add of 100,000 unchanged objects would send
100,000 of them. :class:`Presence` sends HEADs for the first few locations
and then lists each output folder once instead (a listing page holds 1,000
keys), so that the cost follows the number of folders, not of outputs.
"""

from __future__ import annotations

import os

from thumbgen import locations

from . import exists, open_storage
from .base import Entry, Unlisted

#: HEADs sent before folders are listed instead: a few new sources in a big
#: output folder should not cost a listing of all of it.
HEADS_BEFORE_LISTING = 64


class Presence:
    """``exists`` for many locations: a stat locally, HEADs then folder listings in a bucket.

    One instance serves one pass over the queue (an ``add``): a listing is a
    snapshot, so a long-lived instance would miss outputs stored since.
    """

    def __init__(self, heads: int = HEADS_BEFORE_LISTING) -> None:
        self._heads = heads
        #: Folder location -> the names listed in it (None: listing failed, ask each).
        self._folders: dict[str, set[str] | None] = {}

    def __call__(self, location: str) -> bool:
        """Whether an object is stored at ``location``."""
        if locations.is_path(location):
            return os.path.exists(location)
        folder, _, name = location.rpartition("/")
        if folder not in self._folders:
            if self._heads > 0:
                self._heads -= 1
                return exists(location)
            self._folders[folder] = _listed(folder)
        names = self._folders[folder]
        return exists(location) if names is None else name in names


def _listed(folder: str) -> set[str] | None:
    """The object names directly in ``folder``; None when it cannot be listed."""
    names = set()
    for item in open_storage(folder + "/").entries(recursive=False):
        if isinstance(item, Unlisted):
            return None
        if isinstance(item, Entry):
            names.add(item.key)
    return names
