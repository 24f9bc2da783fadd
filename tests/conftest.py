"""Shared fixtures: a private queue per test; tiers marked by folder (unit, contract, api, e2e).

Helpers (image generators, process runners) live in :mod:`support`. The
hypothesis profiles: ``suite`` (the default) and ``fuzz`` (``nox -s fuzz``:
examples kept in .hypothesis/, each run replays what earlier runs found).
The soak run (tests/soak) and the deploy test (tests/deploy) are collected
only when asked for with ``-m soak`` or ``-m deploy``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from support.s3_server import S3Server, running

from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.huey_app import Queue

# Fuzz tests take their example counts from THUMBGEN_FUZZ_EXAMPLES (support.fuzzing);
# the profiles set what every hypothesis test shares. Select one with
# --hypothesis-profile=fuzz.
settings.register_profile("suite", deadline=None, print_blob=True)
settings.register_profile(
    "fuzz",
    deadline=None,
    print_blob=True,
    database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("suite")


@pytest.fixture(autouse=True)
def _private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the user's THUMBGEN_* settings or touches the default queue."""
    for name in list(os.environ):
        if name.startswith("THUMBGEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("THUMBGEN_QUEUE", str(tmp_path / "queue.db"))
    # Nor the user's config file (platformdirs looks there first).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One real S3 server (SeaweedFS) for the session; tests make their own buckets or prefixes."""
    with running(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def queue_path(tmp_path: Path) -> str:
    """The test's queue file (the same one THUMBGEN_QUEUE points at)."""
    return str(tmp_path / "queue.db")


@pytest.fixture
def queue(queue_path: str) -> Iterator[Queue]:
    """A real SQLite queue in the test's folder."""
    q = open_queue(queue_path)
    yield q
    q.close()


@pytest.fixture
def env(queue_path: str) -> dict[str, str]:
    """Environment for thumbgen subprocesses: this test's queue, quick retries."""
    result = {k: v for k, v in os.environ.items() if not k.startswith("THUMBGEN_")}
    result["THUMBGEN_QUEUE"] = queue_path
    return result


_TIERS = ("unit", "contract", "api", "e2e", "soak", "deploy")
#: Tiers that run only when ``-m`` names them: minutes long, or needing a daemon.
_ON_REQUEST = ("soak", "deploy")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its tier, taken from its folder: ``pytest -m "not e2e"``.

    Soak tests run for many minutes, the deploy test builds images on a
    Docker daemon: each is left out unless ``-m`` names it (``nox -s soak``,
    ``nox -s deploy``), whatever else is selected.
    """
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in _TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))
    for tier in _ON_REQUEST:
        if tier not in (config.option.markexpr or ""):
            left = [item for item in items if item.get_closest_marker(tier)]
            if left:
                config.hook.pytest_deselected(items=left)
                items[:] = [item for item in items if not item.get_closest_marker(tier)]
