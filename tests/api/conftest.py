"""The HTTP API in-process: the real app on a real SQLite queue file, driven by httpx.

No process and no socket: :func:`support.inprocess.in_process` builds the
app as ``thumbgen serve`` does and the client talks to it through httpx's
ASGI transport. Processes are forbidden here as in tests/unit; what needs
workers, signals, real sockets, a browser, slow uploads or load is in
tests/e2e/test_server_*.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.inprocess import TOKEN, ApiClient, InProcessServer, in_process
from support.procs import forbid_processes

from thumbgen.jobqueue.huey_app import Queue


@pytest.fixture(autouse=True)
def _no_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    attempts = forbid_processes(monkeypatch)
    yield
    assert not attempts, f"this api test tried to start a process: {attempts}"


@pytest.fixture
def serve(tmp_path: Path, queue: Queue) -> Iterator[Callable[..., InProcessServer]]:
    """A factory: ``serve(token=..., max_files=...)`` is the app on this test's queue."""
    with contextlib.ExitStack() as stack:

        def make(**kwargs: Any) -> InProcessServer:
            return stack.enter_context(in_process(tmp_path, queue, **kwargs))

        yield make


@pytest.fixture
def srv(serve: Callable[..., InProcessServer]) -> InProcessServer:
    """The app without a token (loopback), as ``thumbgen serve -o tmp_path/thumbs``."""
    return serve()


@pytest.fixture
def http(srv: InProcessServer) -> Iterator[ApiClient]:
    """A client of :func:`srv`."""
    with srv.client() as client:
        yield client


@pytest.fixture
def guarded(serve: Callable[..., InProcessServer]) -> InProcessServer:
    """The app with the token :data:`TOKEN`."""
    return serve(token=TOKEN)
