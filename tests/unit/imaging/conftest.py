"""Fixtures of the imaging unit tests: both ways of writing atomically, a known umask,
a Python module made impossible to import (an optional extra not installed)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

from thumbgen.imaging import formats
from thumbgen.storage import atomic


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


@pytest.fixture
def without_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Call with a module name to make it unimportable for the test, as if not installed.

    ``sys.modules[name] = None`` is the import system's own "not available":
    ``import`` raises ImportError and ``importlib.util.find_spec`` returns None.
    """

    def block(name: str) -> None:
        monkeypatch.setitem(sys.modules, name, None)
        formats.importable.cache_clear()

    yield block
    monkeypatch.undo()
    formats.importable.cache_clear()
