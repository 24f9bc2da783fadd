"""Short videos made on the fly with PyAV's own encoders (no binary fixtures).

Every writer takes the destination path and returns it. The frames are
pictures from :mod:`support.imagegen`, so a thumbnail can be checked for
which way up it is and how close it is to the picture encoded.
"""

from __future__ import annotations

import fractions
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from .imagegen import asymmetric

#: Frames per second of every test video: few frames, still several keyframes.
FPS = 10


def picture(size: tuple[int, int]) -> Image.Image:
    """The picture most test videos show: four coloured quadrants, distinct under every turn."""
    return asymmetric(size)


def video(
    path: Path,
    *,
    size: tuple[int, int] = (160, 96),
    seconds: float = 3.0,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int = FPS,
    rotation: int | None = None,
    sar: fractions.Fraction | None = None,
    frame: Callable[[int], Image.Image] | None = None,
    container: str | None = None,
    options: dict[str, str] | None = None,
    faststart: bool = False,
    colour: dict[str, Any] | None = None,
) -> Path:
    """Encode ``seconds`` of ``frame(i)`` (default: :func:`picture`) into ``path``.

    ``gop`` frames between keyframes; ``rotation`` (degrees anticlockwise)
    goes into the stream's display matrix, as a phone writes it; ``sar`` is
    the sample aspect ratio; ``colour`` sets the stream's colour tags
    (``color_primaries``, ``color_trc``, ``colorspace``, ``color_range``).
    """
    import av

    still = picture(size)
    draw = frame or (lambda i: still)
    mux_options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", format=container, options=mux_options) as out:
        stream = out.add_stream(codec, rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        stream.codec_context.gop_size = gop
        keyint = f"keyint={gop}:min-keyint={gop}:scenecut=0"
        params = {"libx264": {"x264-params": keyint}, "libx265": {"x265-params": keyint}}
        stream.codec_context.options = {**params.get(codec, {}), **(options or {})}
        if sar is not None:
            stream.codec_context.sample_aspect_ratio = sar
        for key, value in (colour or {}).items():
            setattr(stream.codec_context, key, value)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(round(seconds * FPS)):
            vf = av.VideoFrame.from_image(draw(i).convert("RGB"))
            vf = vf.reformat(format=pix_fmt) if pix_fmt != "yuv420p" else vf
            vf.pts = i
            vf.time_base = fractions.Fraction(1, FPS)
            for colour_key, value in (colour or {}).items():
                setattr(vf, colour_key, value)
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return path


def black_first_second(i: int, size: tuple[int, int] = (160, 96)) -> Image.Image:
    """A frame of a video that starts black for a second, then shows :func:`picture`."""
    return Image.new("RGB", size) if i < FPS else picture(size)


def truncated(src: Path, dest: Path, keep: float) -> Path:
    """``src`` cut to its first ``keep`` (a fraction) of bytes."""
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def garbled(src: Path, dest: Path, start: float = 0.3, length: int = 4096) -> Path:
    """``src`` with ``length`` bytes from ``start`` (a fraction of its size) overwritten."""
    data = bytearray(src.read_bytes())
    at = int(len(data) * start)
    data[at : at + length] = bytes((i * 97 + 13) % 256 for i in range(len(data[at : at + length])))
    dest.write_bytes(bytes(data))
    return dest
