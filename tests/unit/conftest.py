"""The unit tier starts no process: every test here runs with process starts forbidden.

A test that needs a real process (a worker, a subprocess, a fresh
interpreter, a system tool) belongs in tests/e2e. CliRunner runs commands
in this process, so command-line tests stay here as long as the command
forks no workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.procs import forbid_processes


@pytest.fixture(autouse=True)
def _no_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Starting a process raises, and fails the test even if the code under test caught it."""
    attempts = forbid_processes(monkeypatch)
    yield
    assert not attempts, f"this unit test tried to start a process: {attempts}"
