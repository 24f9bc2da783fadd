"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import itertools

import pytest
from support.s3_server import S3Server

_BUCKETS = itertools.count()


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket on the session's S3 server; this process may reach it too."""
    for name, value in s3_server.env().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return s3_server.make_bucket(f"photos{next(_BUCKETS)}")
