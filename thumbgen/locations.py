"""Locations: the one place that tells a path from a URL, for queues and storage alike.

A queue is a SQLite file path or a ``redis://`` / ``rediss://`` URL; sources
and outputs are folders or ``s3://bucket/prefix/`` URLs. Every
caller asks :func:`parse` what a location string is; nothing else looks for
``://``. Windows drive letters (``C:\\photos``) are paths: a scheme has at
least two letters.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re

from .errors import UsageError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")


class Kind(enum.StrEnum):
    """What a location string names."""

    PATH = "path"
    REDIS = "redis"
    S3 = "s3"
    OTHER = "other"


#: URL schemes by the kind of location they name.
SCHEMES = {
    "redis": Kind.REDIS,
    "rediss": Kind.REDIS,
    "redis+sentinel": Kind.REDIS,
    "s3": Kind.S3,
}


@dataclasses.dataclass(frozen=True)
class Location:
    """A parsed location: its kind, its scheme (None for a path) and the text as given."""

    text: str
    kind: Kind
    scheme: str | None = None

    @property
    def is_path(self) -> bool:
        """True for a local file or folder path."""
        return self.kind is Kind.PATH

    @property
    def rest(self) -> str:
        """What follows ``scheme://`` (``bucket/key`` of ``s3://bucket/key``); a path as it is."""
        return self.text if self.scheme is None else self.text[len(self.scheme) + 3 :]


def parse(text: str) -> Location:
    """What ``text`` names: a local path, or a URL of a known (or unknown) scheme."""
    m = _SCHEME.match(text)
    if m is None:
        return Location(text, Kind.PATH)
    scheme = m.group(1).lower()
    return Location(text, SCHEMES.get(scheme, Kind.OTHER), scheme)


def is_path(text: str) -> bool:
    """True when ``text`` is a local path rather than a URL."""
    return parse(text).is_path


def absolute(text: str) -> str:
    """A path made absolute (``~`` expanded); a URL as it is."""
    if not is_path(text):
        return text
    return os.path.abspath(os.path.expanduser(text))


def require_path(text: str, what: str) -> str:
    """``text`` if it is a local path; a UsageError naming ``what`` for a URL."""
    loc = parse(text)
    if loc.is_path:
        return text
    raise UsageError(f"Invalid {what} {text!r}: {loc.scheme}:// is not supported here; use a path")


def nearest_existing(path: str) -> str:
    """``path`` or its nearest ancestor that exists: where missing folders would be made."""
    probe = path
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return probe
