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

#: Tests that still start a process, by file::function, with why they are let off.
#: The in-process fuzz test feeds SVG seeds to make_thumbnails, and SVG is drawn
#: in a child process (thumbgen/imaging/svg.py); that file belongs to the imaging
#: work under way, so it is left as it is for now. Keep this list short.
STARTS_PROCESSES = {
    "tests/unit/imaging/test_fuzz_decode.py::test_every_seed_makes_thumbnails": "SVG seed",
    "tests/unit/imaging/test_fuzz_decode.py::"
    "test_every_damaged_file_ends_in_thumbnails_or_one_error_line": "SVG seeds",
}


@pytest.fixture(autouse=True)
def _no_processes(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Starting a process raises, and fails the test even if the code under test caught it."""
    node = request.node
    name = f"{node.path.relative_to(request.config.rootpath)}::{node.originalname}"
    if name in STARTS_PROCESSES:
        yield
        return
    attempts = forbid_processes(monkeypatch)
    yield
    assert not attempts, f"this unit test tried to start a process: {attempts}"
