"""End-to-end tests on object storage: a real S3 server (SeaweedFS), buckets, the environment."""

from __future__ import annotations

import itertools
from pathlib import Path

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


@pytest.fixture
def env(s3_server: S3Server, tmp_path: Path) -> dict[str, str]:
    """The server's AWS variables and a private queue, as a user's shell would have them."""
    return s3_server.env(THUMBGEN_QUEUE=str(tmp_path / "queue.db"))
