"""``thumbgen add`` in a real process where an optional extra is not installed.

The child blocks the extra's module the way a missing package looks to the
import system (``sys.modules[name] = None``), then runs thumbgen's own
``__main__``: the file must be skipped with one line naming the extra.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from support import formatgen, imagegen, rawgen


def _svg(path: Path) -> Path:
    return formatgen.svg_quadrants(path)


def _jxl(path: Path) -> Path:
    # Signature only: the file is skipped before anything decodes it.
    path.write_bytes(b"\xff\x0a" + bytes(64))
    return path


CASES: list[tuple[str, str, Callable[[Path], Path], str]] = [
    ("rawpy", "photo.dng", lambda p: rawgen.dng(p, preview=None), "camera RAW needs the raw extra"),
    ("pillow_jxl", "photo.jxl", _jxl, "JPEG XL needs the jxl extra"),
    ("resvg_py", "drawing.svg", _svg, "SVG needs the svg extra"),
]


@pytest.mark.parametrize(
    ("module", "name", "make", "line"), CASES, ids=[c[1].split(".")[1] for c in CASES]
)
def test_add_skips_a_file_whose_extra_is_missing(
    tmp_path: Path,
    env: dict[str, str],
    module: str,
    name: str,
    make: Callable[[Path], Path],
    line: str,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    src = make(folder / name)
    imagegen.asymmetric().save(folder / "ok.jpg")
    script = textwrap.dedent(
        f"""
        import runpy, sys
        sys.modules[{module!r}] = None
        sys.argv = ["thumbgen", "add", {str(folder)!r}, "-o", {str(tmp_path / "out")!r}]
        runpy.run_module("thumbgen", run_name="__main__")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    extra = line.split(" the ")[1].split(" ")[0]
    assert f"{src}: {line}: from the thumbgen checkout, pipx install --force '.[{extra}]'" in output
    assert "1 queued" in output, output
