"""Shared fixtures: a private queue per test and helpers to run real thumbgen processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from thumbgen.huey_app import Queue


@pytest.fixture(autouse=True)
def _private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the user's THUMBGEN_* settings or touches the default queue."""
    for name in list(os.environ):
        if name.startswith("THUMBGEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("THUMBGEN_QUEUE", str(tmp_path / "queue.db"))


@pytest.fixture
def queue_path(tmp_path: Path) -> str:
    """The test's queue file (the same one THUMBGEN_QUEUE points at)."""
    return str(tmp_path / "queue.db")


@pytest.fixture
def queue(queue_path: str) -> Iterator[Queue]:
    """A real SQLite queue in the test's folder."""
    q = Queue(queue_path)
    yield q
    q.close()


@pytest.fixture
def env(queue_path: str) -> dict[str, str]:
    """Environment for thumbgen subprocesses: this test's queue, quick retries."""
    result = {k: v for k, v in os.environ.items() if not k.startswith("THUMBGEN_")}
    result["THUMBGEN_QUEUE"] = queue_path
    return result


def thumbgen_argv(*args: str) -> list[str]:
    """argv that runs the installed thumbgen package with this interpreter."""
    return [sys.executable, "-m", "thumbgen", *args]


def run_thumbgen(
    *args: str, env: dict[str, str], cwd: Path | str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``thumbgen ARGS`` to completion and capture its output."""
    return subprocess.run(
        thumbgen_argv(*args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_jpegs(
    folder: Path, count: int, size: tuple[int, int] = (64, 48), prefix: str = "img"
) -> list[Path]:
    """``count`` distinct JPEG photos-to-be (noise, so they do not compress to nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = Image.effect_noise(size, 60).convert("RGB")
    paths = []
    for i in range(count):
        path = folder / f"{prefix}{i:04d}.jpg"
        # A per-file marker pixel makes every file different content.
        im = base.copy()
        im.putpixel((0, 0), (i % 256, (i // 256) % 256, 7))
        im.save(path, quality=85)
        paths.append(path)
    return paths


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
