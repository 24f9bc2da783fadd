"""The job queue as the front ends hold it: opening one, its type, its job states.

The HTTP server reaches the queue through the service layer only (its
import rule, ``tests/unit/test_import_rules.py``); these are the names of
:mod:`thumbgen.jobqueue` it needs to open a queue, type what it passes
around and say where the queue is.
"""

from __future__ import annotations

from thumbgen.jobqueue.backend import open_queue, shown
from thumbgen.jobqueue.contract import State
from thumbgen.jobqueue.huey_app import Queue

__all__ = ["Queue", "State", "open_queue", "shown"]
