"""The contract suite's fixtures: every test runs once per backend.

``backend`` gives the location of a fresh, empty queue on one backend;
``queue`` opens it through :func:`~thumbgen.jobqueue.backend.open_queue`,
so a test sees only what every backend provides: the ``JobStore`` protocol
(``queue.store``) and Huey's public API (``queue.huey``) for the tokens.
Issue 9 adds "redis" to ``BACKENDS`` with a ``redis-server`` on a free port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.redis_server import RedisServer

from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import JobStore
from thumbgen.jobqueue.huey_app import Queue

BACKENDS = ["sqlite", "redis"]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One ``redis-server`` (persistence off) for the session; each test empties it."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The location of a fresh queue on the backend named by the parameter."""
    if request.param == "sqlite":
        return str(tmp_path / "queue.db")
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flushall()
        return server.url
    raise AssertionError(f"no fixture for backend {request.param!r}")


@pytest.fixture
def queue(backend: str) -> Iterator[Queue]:
    """The test's queue on that backend, closed afterwards."""
    q = open_queue(backend)
    yield q
    q.close()


@pytest.fixture
def store(queue: Queue) -> JobStore:
    """The queue's job store, typed as the protocol."""
    return queue.store
