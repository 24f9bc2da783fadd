"""Fixtures of the imaging unit tests: both ways of writing atomically, a known umask."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from thumbgen.imaging import atomic


@pytest.fixture(params=["unnamed", "named"])
def temp_files(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with both ways of writing: Linux unnamed files and the hidden-name fallback."""
    if request.param == "unnamed" and not atomic.UNNAMED_FILES:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(atomic, "UNNAMED_FILES", request.param == "unnamed")
    return str(request.param)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
