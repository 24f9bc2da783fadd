"""The imaging core in real child processes: killed mid-write, and its own memory peak."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support import imagegen
from support.thumbs import files_under, slow_to_encode

from thumbgen.storage import atomic


@pytest.mark.skipif(not atomic.UNNAMED_FILES, reason="needs O_TMPFILE (Linux)")
def test_a_writer_killed_mid_write_leaves_nothing(tmp_path: Path) -> None:
    src = slow_to_encode(tmp_path)
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        from thumbgen import build_options, make_thumbnails
        options = build_options(["2048"], upscale=True, format="png", out_dir={str(out)!r})
        make_thumbnails({str(src)!r}, options)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        # The folder is made right before the file; encoding then takes about a second.
        deadline = time.monotonic() + 30
        while not out.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.1)
        assert child.poll() is None, "finished before it could be killed"
        child.kill()
    finally:
        child.wait(30)
    assert out.is_dir()
    assert files_under(out) == []


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_huge_header_stays_small_in_memory(tmp_path: Path) -> None:
    # In a fresh process: decoding 10^10 RGB pixels would need 30 GB. VmHWM is
    # that process's own peak; ru_maxrss would also count the pytest process
    # it was forked from (Linux keeps the high-water mark across exec).
    src = imagegen.huge_header_png(tmp_path / "bomb.png")
    script = textwrap.dedent(
        f"""
        from thumbgen import build_options, make_thumbnails
        from thumbgen.errors import TooManyPixels
        try:
            make_thumbnails({str(src)!r}, build_options(out_dir={str(tmp_path / "out")!r}))
        except TooManyPixels as exc:
            print(str(exc).split(":")[0])
        with open("/proc/self/status") as f:
            print(next(line.split()[1] for line in f if line.startswith("VmHWM:")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    refusal, peak_kib = result.stdout.split("\n")[:2]
    assert refusal == "Too many pixels"
    assert int(peak_kib) < 150 * 1024
