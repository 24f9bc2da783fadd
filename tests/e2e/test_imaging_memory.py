"""Running out of memory after the decode, for real: a child process with a capped address space."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import imagegen

resource = pytest.importorskip("resource")


def test_resize_beyond_the_memory_limit_gives_the_documented_line(tmp_path: Path) -> None:
    # A 300x200 source upscaled to 16384x10923 needs 537 MB for the resize;
    # the child may use 400 MiB once imported. Decoding succeeds, resampling cannot.
    src = tmp_path / "small.png"
    imagegen.asymmetric((300, 200)).save(src)
    script = textwrap.dedent(
        f"""
        import resource
        from thumbgen import build_options, make_thumbnails
        from thumbgen.errors import TooManyPixels
        import thumbgen.imaging.pipeline
        limit = 400 << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        out = {str(tmp_path / "out")!r}
        options = build_options(["16384"], upscale=True, format="png", out_dir=out)
        try:
            make_thumbnails({str(src)!r}, options)
        except TooManyPixels as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == (
        f"Not enough memory to make the 16384x16384 thumbnail of {src}; run fewer workers (-w), "
        "ask for smaller sizes or lower --max-pixels to refuse such files"
    ), result.stderr
    assert not list((tmp_path / "out").rglob("*.png"))
