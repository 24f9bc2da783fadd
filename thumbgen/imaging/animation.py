"""``--animated``: animated thumbnails of animations, and short animated previews of videos.

An animated GIF, WebP or PNG (APNG; and AVIF where Pillow's plugin gives its
frames) becomes an animated WebP, or GIF when GIF was asked for, with each
frame's time on screen and the loop count kept. Frames are composited by
Pillow (disposal and blending applied) and shrunk as they are read, so only
the kept frames, at about the largest output's size, are ever held at once.
Past :data:`MAX_FRAMES` frames are dropped evenly, each dropped frame's time
going to the frame kept before it, so the animation lasts as long; an output
over :data:`MAX_BYTES` drops every other frame the same way until it fits.
A video gives :data:`PREVIEW_SECONDS` from its poster frame at
:data:`PREVIEW_FPS` (:func:`.video.preview`). A source with one frame is left
to the still pipeline (None from :func:`read`).

Animation frames are taken as sRGB with no EXIF turn: browsers animate them so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
from typing import Any, BinaryIO

from PIL import Image

from thumbgen.errors import OutputError, TooManyPixels
from thumbgen.messages import display_path, reason
from thumbgen.options import Format, Options, OutputSpec, Placeholder

from . import geometry, placeholders, video
from .decoders import turn_upright, upright_size
from .reading import check_pixels, check_source, open_pillow, pillow_errors
from .results import Encoded, NameFor, Rendered

#: Frames an output keeps at most; more are dropped evenly.
MAX_FRAMES = 300
#: Bytes an animated output may take; over it, every other frame is dropped until it fits.
MAX_BYTES = 5 * 1024 * 1024
#: Seconds of a video's preview, from its poster frame, and frames a second sampled.
PREVIEW_SECONDS = 3.0
PREVIEW_FPS = 10
#: Formats (``formats.INPUTS`` names) whose files may hold several frames.
_MOVING = ("GIF", "WEBP", "PNG", "AVIF")
_VIDEOS = ("MP4", "MKV", "AVI")


@dataclasses.dataclass(frozen=True)
class Frames:
    """An animation decoded: upright sRGB frames at about the largest output's size."""

    frames: list[Image.Image]
    #: Milliseconds each frame is shown.
    durations: list[int]
    #: Plays this many times (0: for ever); None: once (the file has no loop count).
    loop: int | None
    source_size: tuple[int, int]
    #: What the job records (``{"animation": ...}`` or ``{"video": ...}``).
    media: dict[str, Any]


def read(f: BinaryIO, source: str, options: Options, max_memory: int = 0) -> Frames | None:
    """The frames of the animation or video open as ``f``; None for a still picture.

    ``max_memory`` (bytes, 0: no limit) bounds the frames held, checked
    from the header before any frame is decoded. ``f`` is left at its start.
    """
    shown = display_path(source)
    try:
        fmt = check_source(f, shown, source)
        if fmt is not None and fmt.name in _VIDEOS:
            return _from_video(f, shown, options, max_memory)
        if fmt is not None and fmt.name in _MOVING:
            return _from_pillow(f, shown, fmt, options, max_memory)
        return None
    finally:
        f.seek(0)


def kept(count: int, cap: int) -> list[int]:
    """Indices of the frames kept of ``count``: all up to ``cap``, else ``cap`` spread evenly."""
    if count <= cap:
        return list(range(count))
    return [i * count // cap for i in range(cap)]


def _from_pillow(
    f: BinaryIO, shown: str, fmt: Any, options: Options, max_memory: int
) -> Frames | None:
    with open_pillow(f, shown, fmt, options.max_pixels) as im:
        try:
            count = int(getattr(im, "n_frames", 1))
        except Exception:
            # Counting reads every frame header (GIF): damage past the first
            # frame is left to the still pipeline, which shows the first one
            # or says what is wrong with it. (Found by the fuzzer: IndexError.)
            return None
        # An APNG's default image may stand apart from its animation, for
        # viewers that do not animate: browsers never show it then.
        first = 1 if im.info.get("default_image") else 0
        if count - first < 2:
            return None
        check_pixels(im.size, shown, options.max_pixels)
        size = im.size
        target = _frame_size(options, size)
        keep = {first + i for i in kept(count - first, MAX_FRAMES)}
        _check_memory(shown, len(keep), target, size, max_memory)
        loop = im.info.get("loop")
        if loop is None and fmt.name != "GIF":
            # Only a GIF without a loop count plays once; Pillow's AVIF plugin
            # gives none, and browsers loop an AVIF sequence for ever.
            loop = 0
        frames: list[Image.Image] = []
        durations: list[int] = []
        with pillow_errors(shown):
            for i in range(count):
                im.seek(i)
                # Every frame is loaded, kept or not: the next one is drawn over it.
                im.load()
                ms = int(im.info.get("duration") or 0)
                if i < first:
                    continue
                if i not in keep:
                    durations[-1] += ms
                    continue
                frame = im.convert("RGBA")
                if frame.size != target:
                    frame = frame.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
                frames.append(frame)
                durations.append(ms)
    media = {
        "animation": {
            "frames": count - first,
            "duration": round(sum(durations) / 1000, 3),
            "loop": int(loop) if loop is not None else None,
        }
    }
    return Frames(frames, durations, int(loop) if loop is not None else None, size, media)


def _from_video(f: BinaryIO, shown: str, options: Options, max_memory: int) -> Frames:
    info = video.probe(f, shown)
    count = math.ceil(PREVIEW_SECONDS * PREVIEW_FPS)
    # The turn is known once the first frame is decoded: allow for either way.
    sizes = {_frame_size(options, info.display), _frame_size(options, info.display[::-1])}
    w, h = max(sizes, key=lambda s: s[0] * s[1])
    _check_memory(shown, count, (w, h), (0, 0), max_memory)
    shot = video.preview(
        f, shown, options, PREVIEW_SECONDS, PREVIEW_FPS, lambda up: _frame_size(options, up)
    )
    frames = [turn_upright(fr, shot.orientation) for fr in shot.frames]
    upright = upright_size(shot.size, shot.orientation)
    return Frames(frames, shot.durations, 0, upright, shot.media)


def _frame_size(options: Options, size: tuple[int, int]) -> tuple[int, int]:
    """The largest output's resample size: every output is made from frames of this size."""
    sizes = [geometry.plan(spec, *size).resize for spec in options.specs] or [size]
    return max(sizes, key=lambda s: s[0] * s[1])


def _check_memory(
    shown: str, count: int, frame: tuple[int, int], canvas: tuple[int, int], limit: int
) -> None:
    """Refuse before decoding when ``count`` RGBA frames and two full canvases exceed ``limit``."""
    need = 4 * (count * frame[0] * frame[1] + 2 * canvas[0] * canvas[1])
    if limit > 0 and need > limit:
        raise TooManyPixels(
            f"Too much memory: {shown} would hold {count} frames of {frame[0]}x{frame[1]} "
            f"({need // 2**20:,} MiB, budget {limit // 2**20:,} MiB); ask for smaller sizes, "
            "raise --max-memory, or leave out --animated"
        )


def render(
    frames: Frames, source: str, options: Options, name_for: NameFor, hashed: bool
) -> Rendered:
    """Every output of ``options`` as an animation of ``frames``."""
    made = [_encode(frames, spec, source, name_for, hashed) for spec in options.specs]
    colour = text = ""
    if options.placeholder or options.manifest:
        small = placeholders.shrink(frames.frames[0])
        colour = placeholders.average_colour(small)
        if options.placeholder:
            text = placeholders.encode(small, Placeholder(options.placeholder))
    return Rendered(made, frames.source_size, 1, colour, text, frames.media)


def _encode(
    frames: Frames, spec: OutputSpec, source: str, name_for: NameFor, hashed: bool
) -> Encoded:
    fmt = Format.GIF if spec.format is Format.GIF else Format.WEBP
    plan = geometry.plan(spec, *frames.source_size)
    first = _resize(frames.frames[0], plan.resize)
    window = box = None
    if plan.crop is not None:
        # One window for every frame, chosen on the first: the picture must not jump.
        left, top = geometry.crop_origin(first, plan.crop, spec.crop)
        window = (left, top, left + plan.crop[0], top + plan.crop[1])
        box = geometry.in_source(window, plan.resize, frames.source_size)
    pictures = [_fit(_resize(fr, plan.resize), window, plan.canvas, spec) for fr in frames.frames]
    durations = list(frames.durations)
    width, height = pictures[0].size
    name = name_for(spec, width, height, fmt, "")
    data = _save(pictures, durations, frames.loop, fmt, spec.quality, name)
    while len(data) > MAX_BYTES and len(pictures) > 1:
        pictures, durations = _halved(pictures, durations)
        data = _save(pictures, durations, frames.loop, fmt, spec.quality, name)
    digest = hashlib.sha256(data).hexdigest()
    if hashed:
        name = name_for(spec, width, height, fmt, digest)
    return Encoded(spec, name, width, height, fmt, data, digest, box)


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    return im if im.size == size else im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _fit(
    im: Image.Image,
    window: tuple[int, int, int, int] | None,
    canvas: tuple[int, int] | None,
    spec: OutputSpec,
) -> Image.Image:
    if window is not None:
        im = im.crop(window)
    if canvas is not None:
        padded = Image.new("RGBA", canvas, spec.background)
        rgba = im.convert("RGBA")
        padded.paste(rgba, ((canvas[0] - im.width) // 2, (canvas[1] - im.height) // 2), rgba)
        im = padded
    im = im.convert("RGBA") if im.mode != "RGBA" else im.copy()
    im.info = {}  # no EXIF, XMP or profile, as for stills
    return im


def _halved(frames: list[Image.Image], durations: list[int]) -> tuple[list[Image.Image], list[int]]:
    """Every other frame, each kept one also showing for the time of the one dropped after it."""
    times = [sum(durations[i : i + 2]) for i in range(0, len(durations), 2)]
    return frames[::2], times


def _save(
    frames: list[Image.Image],
    durations: list[int],
    loop: int | None,
    fmt: Format,
    quality: int,
    name: str,
) -> bytes:
    params: dict[str, Any] = {"save_all": True, "append_images": frames[1:], "duration": durations}
    if fmt is Format.WEBP:
        # WebP has no "once": a loop count of 1 is.
        params.update(loop=1 if loop is None else loop, quality=quality)
    else:
        if loop is not None:
            params["loop"] = loop
        # Transparent frames must not pile up: each replaces the last.
        params["disposal"] = 2
    buf = io.BytesIO()
    try:
        frames[0].save(buf, format=fmt.value.upper(), **params)
    except MemoryError:
        raise
    except Exception as exc:
        raise OutputError(f"Cannot encode {display_path(name)}: {reason(exc)}") from None
    return buf.getvalue()
