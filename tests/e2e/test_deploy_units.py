"""examples/deploy's systemd units pass ``systemd-analyze verify`` (a real process).

The executable a unit names (/usr/local/bin/thumbgen, where ``pip install``
puts it) does not exist in the test environment, so a copy of the unit with
ExecStart pointing at the installed thumbgen is verified; nothing else in
the unit is changed. What needs no process (the YAML recipes, every command
line through thumbgen's parser) is in tests/unit/test_deploy_examples.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "examples" / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALLED = "/usr/local/bin/thumbgen"


def test_there_are_units_to_verify() -> None:
    assert len(UNITS) >= 1


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_analyze_verifies_each_unit(unit: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: apt-get install -y systemd"
    thumbgen_exe = Path(sys.executable).with_name("thumbgen")
    assert thumbgen_exe.exists(), thumbgen_exe
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace(INSTALLED, str(thumbgen_exe)))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    # Warnings about this unit (not about the host's own units) count as failures.
    ours = [line for line in result.stderr.splitlines() if unit.name in line]
    assert ours == [], ours
