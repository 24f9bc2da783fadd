"""One error hierarchy for thumbgen.

Every message is one line meant for a person: it names the file and, where it
can, says what to do. The CLI turns these into ``Error: ...`` and an exit code;
the queue uses ``transient`` to decide between retrying and failing a job.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    ERROR = 1
    USAGE = 2
    SOME_FAILED = 3
    INTERRUPTED = 130


class ThumbgenError(Exception):
    """Base of every error thumbgen expects; ``str()`` is the user-facing line."""

    exit_code: ExitCode = ExitCode.ERROR
    #: A transient error may succeed if tried again later (the queue retries it).
    transient: bool = False

    def __init__(self, message: str, *, why: str | None = None) -> None:
        super().__init__(message)
        #: The cause alone, without the file it is about ("permission denied"),
        #: for lists that name the file themselves (``add``'s skipped files).
        self.why = why if why is not None else message


class UsageError(ThumbgenError):
    """An option or argument value that cannot be used."""

    exit_code = ExitCode.USAGE


class SourceError(ThumbgenError):
    """A source file that cannot be thumbnailed; retrying will not help."""


class SourceMissing(SourceError):
    """The source file does not exist (any more)."""


class NotAnImage(SourceError):
    """The file's content is not an image format thumbgen can read."""


class CorruptImage(SourceError):
    """The image is truncated or its data is damaged."""


class TooManyPixels(SourceError):
    """The header declares more pixels than ``--max-pixels`` allows."""


class UnsupportedImage(SourceError):
    """A readable image in a mode or format thumbgen cannot convert."""


class OutputError(ThumbgenError):
    """A thumbnail could not be written (permissions, bad output path)."""


class TransientError(ThumbgenError):
    """A failure that may go away by itself: an I/O error, a full disk, a busy database."""

    transient = True


class QueueError(ThumbgenError):
    """The queue cannot be opened or used."""


class ClaimLost(QueueError):
    """A worker's claim on its job lapsed and another worker runs it now: nothing was written."""


class QueueLost(QueueError):
    """The queue this process opened is gone: its file was replaced, or Redis lost its keys.

    Not transient: going on would write into someone else's file, or
    quietly start a new queue where the old one's jobs were. The process
    stops using the queue (a worker exits, once) and leaves what is there now
    untouched.
    """


class Interrupted(ThumbgenError):
    """The user stopped the command; running jobs were finished or put back."""

    exit_code = ExitCode.INTERRUPTED
