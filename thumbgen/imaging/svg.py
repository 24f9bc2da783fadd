"""SVG through resvg (resvg-py, the svg extra): drawn at the size the thumbnails need.

An SVG is vector art, so it is drawn at the size of the largest output box
(``--upscale`` is moot: drawing larger loses nothing), never at its own
nominal size, which may be anything (``width="1e9"``). The drawing happens
in a separate process (:mod:`.svg_render`) that this module starts per file,
caps in memory (``RLIMIT_AS``) and kills after :data:`SECONDS`: resvg aborts
the whole process when an allocation fails, and a hostile drawing (filters,
deep ``<use>`` trees) can take any time, so neither may happen in a worker.
That process strips every reference to other files or URLs first; nothing
but the file itself is read (system fonts aside, for text).
"""

from __future__ import annotations

import io
import os
import struct
import sys
import threading
from typing import TYPE_CHECKING, BinaryIO

from PIL import Image

from thumbgen.errors import CorruptImage, TooManyPixels, UnsupportedImage
from thumbgen.messages import reason
from thumbgen.options import Options

from . import geometry
from .decoders import Stored

if TYPE_CHECKING:
    import subprocess

#: The drawing process is killed after this long, whatever it is doing.
SECONDS = 20.0
#: Its address space: this much for Python and the parsed document, plus
#: :data:`BYTES_PER_PIXEL` per pixel drawn (the canvas and filter buffers).
BASE_MEMORY = 512 << 20
BYTES_PER_PIXEL = 32
_CHILD = os.path.join(os.path.dirname(__file__), "svg_render.py")
#: Largest document accepted, compressed or not (libvips refuses SVGs over 10 MB).
MAX_BYTES = 16 << 20


def decode_svg(f: BinaryIO, shown: str, options: Options) -> Stored:
    """Draw ``f`` at the size its largest thumbnail needs, in a capped, timed child."""
    # (Whether resvg_py is installed was asked when the file was identified.)
    data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UnsupportedImage(
            f"Unsupported image: {shown} is an SVG larger than {MAX_BYTES >> 20} MiB"
        )
    child = _Child(shown)
    try:
        natural = child.start(data)
        size = geometry.vector_size(natural, options.specs)
        geometry.check_vector_size(size, shown, options.max_pixels, "drawn")
        png = child.draw(size)
    finally:
        child.close()
    with Image.open(io.BytesIO(png), formats=("PNG",)) as im:
        im.load()
        pixels = im.convert("RGBA")
    return Stored(pixels, size, 1)


class _Child:
    """One drawing process and the conversation with it, killed at the deadline."""

    def __init__(self, shown: str) -> None:
        import subprocess  # here: a folder of JPEGs should not pay for it

        self.shown = shown
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["RUST_BACKTRACE"] = "0"
        argv = [
            sys.executable,
            "-I",
            _CHILD,
            str(BASE_MEMORY),
            str(BYTES_PER_PIXEL),
            str(MAX_BYTES),
        ]
        self.proc: subprocess.Popen[bytes] = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.timed_out = False
        self.timer = threading.Timer(SECONDS, self._kill)
        self.timer.daemon = True
        self.timer.start()

    def _kill(self) -> None:
        self.timed_out = True
        self.proc.kill()

    def start(self, data: bytes) -> tuple[float, float]:
        """Send the document; the drawing's own size in CSS pixels."""
        line = self._exchange(struct.pack(">Q", len(data)) + data, line=True)
        parts = line.split()
        if len(parts) != 3 or parts[0] != b"size":
            raise self._failure()
        return float(parts[1]), float(parts[2])

    def draw(self, size: tuple[int, int]) -> bytes:
        """The PNG drawn at ``size``."""
        header = self._exchange(f"draw {size[0]} {size[1]}\n".encode(), line=False)
        if len(header) != 8:
            raise self._failure()
        assert self.proc.stdout is not None
        (length,) = struct.unpack(">Q", header)
        png = self.proc.stdout.read(length)
        if len(png) != length:
            raise self._failure()
        return png

    def _exchange(self, message: bytes, *, line: bool) -> bytes:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        try:
            self.proc.stdin.write(message)
            self.proc.stdin.flush()
        except OSError:
            raise self._failure() from None  # it died reading: its stderr says why
        return self.proc.stdout.readline() if line else self.proc.stdout.read(8)

    def _failure(self) -> Exception:
        """The error that explains why the process stopped answering."""
        code = self.proc.wait()
        assert self.proc.stderr is not None
        said = " ".join(self.proc.stderr.read().decode("utf-8", "replace").split())
        if self.timed_out:
            return UnsupportedImage(
                f"Unsupported image: {self.shown} took longer than {SECONDS:g} s to draw "
                "(an SVG too complex, or made to be)"
            )
        if code == 2:
            return CorruptImage(
                f"Corrupt image: {self.shown} is not an SVG resvg can read ({said})"
            )
        if code == 3:
            return UnsupportedImage(f"Unsupported image: {self.shown} cannot be drawn ({said})")
        if code < 0 or "memory" in said.lower() or "MemoryError" in said:
            return TooManyPixels(
                f"Not enough memory to draw {self.shown}: the drawing needs more than "
                "its memory limit (an SVG too complex, or made to be)"
            )
        return UnsupportedImage(
            f"Unsupported image: {self.shown} could not be drawn "
            f"({reason(RuntimeError(said)) if said else f'exit status {code}'})"
        )

    def close(self) -> None:
        """Stop the timer and the process, whatever state they are in."""
        self.timer.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
