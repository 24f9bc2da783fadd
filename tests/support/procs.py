"""Running real thumbgen processes from tests: argv, run-to-completion, polling."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


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


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
