"""Where things live: the queue location and the settings read from the environment.

Command-line flags win, then ``THUMBGEN_*`` environment variables, then the
defaults here. Typer reads the variables for flags; this module covers what
the core needs on its own: the queue location.
"""

from __future__ import annotations

import os

import platformdirs

QUEUE_ENV = "THUMBGEN_QUEUE"


def default_queue() -> str:
    """The per-user queue file, so ``add``, ``worker`` and ``status`` meet from any folder."""
    return os.path.join(platformdirs.user_data_dir("thumbgen", appauthor=False), "queue.db")


def resolve_queue(flag: str | None = None) -> str:
    """The queue location: ``--queue``, then ``THUMBGEN_QUEUE``, then :func:`default_queue`."""
    value = flag or os.environ.get(QUEUE_ENV) or default_queue()
    if "://" in value:
        return value
    return os.path.abspath(os.path.expanduser(value))
