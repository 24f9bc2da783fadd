"""Start-up stays lean: the commands people type all day import only what they use."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.imagegen import write_jpegs
from support.procs import run_thumbgen

#: Heavy modules that ``status`` has no use for (Pillow, the watcher, progress
#: bars, Huey's consumer machinery, reading and writing images' storage,
#: starting worker processes).
NOT_FOR_STATUS = (
    "PIL",
    "watchdog",
    "rich.progress",
    "huey.consumer",
    "thumbgen.storage",
    "thumbgen.workers.embedded",
)


def imported_modules(*args: str, env: dict[str, str]) -> set[str]:
    """Every module a real ``thumbgen ARGS`` process imported (from ``-X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "thumbgen", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "thumbgen.cli" in names  # the parse found the import lines
    return names


@pytest.fixture
def a_queue(env: dict[str, str], tmp_path) -> None:
    """A queue with a job in it (status refuses a queue that does not exist)."""
    (tmp_path / "src").mkdir()
    write_jpegs(tmp_path / "src", 1)
    assert run_thumbgen("add", str(tmp_path / "src"), env=env).returncode == 0


@pytest.mark.parametrize("heavy", NOT_FOR_STATUS)
def test_status_json_does_not_import_heavy_modules(
    heavy: str, env: dict[str, str], a_queue: None
) -> None:
    names = imported_modules("status", "--json", env=env)
    assert not {n for n in names if n == heavy or n.startswith(heavy + ".")}


def test_the_check_sees_what_add_imports(env: dict[str, str], tmp_path) -> None:
    # The same check on a command that does need Pillow: it must see it.
    write_jpegs(tmp_path / "src", 1)
    names = imported_modules("add", str(tmp_path / "src"), env=env)
    assert "PIL" in names
    assert "thumbgen.storage" in names


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "thumbgen", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "Make thumbnails through a durable local queue." in result.stdout


def test_a_quiet_wait_draws_no_bar_and_imports_no_rich(env: dict[str, str], tmp_path) -> None:
    # The fixed cost of a small batch: with --quiet there is nothing to draw,
    # so rich's progress machinery (about 40 ms) is not loaded at all, nor
    # rich itself for the one summary line (another 40 ms).
    write_jpegs(tmp_path / "src", 1)
    argv = ("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "--wait", "-w", "1")
    names = imported_modules(*argv, "--quiet", env=env)
    assert "huey.consumer" in names or "thumbgen.workers.supervisor" in names  # it did wait
    assert "rich.progress" not in names
    assert "rich.console" not in names
    assert len(list((tmp_path / "out").iterdir())) == 1
    # Without --quiet the bar is there (the check is real).
    write_jpegs(tmp_path / "more", 1)
    argv = ("add", str(tmp_path / "more"), "-o", str(tmp_path / "out2"), "--wait", "-w", "1")
    assert "rich.progress" in imported_modules(*argv, env=env)
