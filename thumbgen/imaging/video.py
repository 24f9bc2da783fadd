"""Videos (MP4, MOV, M4V, 3GP, MKV, WebM, AVI) through PyAV, FFmpeg's libraries in its wheels.

A video's thumbnail is one poster frame, and the first frame is often a bad
one (black, or fading in). So a few keyframes near the start are looked at
(:data:`POSTER_TIMES`: the first keyframe at or after each time) and the
first whose contrast, the standard deviation of its luma, reaches
:data:`GOOD_CONTRAST` is taken; when none does, the one with the most
contrast. Only keyframes are decoded (the decoder skips every other frame
and the demuxer seeks straight to them), so a 4K video costs a few
keyframe decodes whatever its length. Each frame is scaled by FFmpeg's
swscale straight from YUV to RGB at about twice the largest output, which
is cheaper than converting every 4K pixel; 10-bit frames go the same way.

The picture is turned by the container's display matrix (phones store
portrait video sideways) and stretched by its sample aspect ratio, as
players show it; HDR frames (PQ, HLG) are tone-mapped to SDR by
:mod:`.tonemap`. The memory budget and ``--max-pixels`` are checked from the
stream's header before any frame is decoded. PyAV is an optional extra,
imported only when a video is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fractions
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from PIL import Image, ImageStat

from thumbgen.errors import (
    CorruptImage,
    ThumbgenError,
    TooManyPixels,
    TransientError,
    UnsupportedImage,
)
from thumbgen.messages import reason
from thumbgen.options import Options

from . import formats
from .decoders import Stored, decode_box
from .reading import check_pixels, unsupported

if TYPE_CHECKING:
    import av.video.stream

#: Seconds from the start at which a keyframe is looked for, in this order.
POSTER_TIMES = (0.0, 1.0, 2.0, 4.0)
#: Luma standard deviation (0..127) from which a frame is worth showing: a
#: black or faded frame is near 0, an ordinary scene 40 or more.
GOOD_CONTRAST = 20.0
#: Bytes the demuxer reads at a time from the stream it is given.
_BUFFER = 1 << 20
#: Display-matrix rotations (degrees anticlockwise) as EXIF orientations.
_ROTATION_TO_ORIENTATION = {0: 1, 90: 8, 180: 3, 270: 6}
#: Reference frames a decoder may hold besides the one decoded (H.264 allows 16).
_DECODER_FRAMES = 17


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What the header of a video stream says."""

    codec: str
    #: Stored size in pixels (before the sample aspect ratio and rotation).
    coded: tuple[int, int]
    #: Size shown, sample aspect ratio applied, not yet turned.
    display: tuple[int, int]
    #: Seconds, or None when the container does not say.
    duration: float | None
    bits: int


def decode_video(f: BinaryIO, shown: str, options: Options) -> Stored:
    """The poster frame of the video open as ``f``, scaled to about twice the largest output."""
    with _opened(f, shown) as (container, stream, info):
        check_pixels(info.display, shown, options.max_pixels)
        image, orientation, _ = _poster(container, stream, info, options, shown)
    return Stored(image, info.display, orientation, {"video": recorded(info, orientation)})


def recorded(info: VideoInfo, orientation: int = 1) -> dict[str, Any]:
    """What a job records about a video: seconds (None when unknown), codec, size as shown.

    The size is the one a player shows: sample aspect ratio applied and
    turned by the display matrix (``orientation``).
    """
    w, h = info.display
    if orientation in (6, 8):
        w, h = h, w
    duration = round(info.duration, 3) if info.duration is not None else None
    return {"duration": duration, "codec": info.codec, "width": w, "height": h}


def probe(f: BinaryIO, shown: str) -> VideoInfo:
    """The header of the video open as ``f`` (no frame decoded); ``f`` is left at its start."""
    try:
        with _opened(f, shown) as (_, _, info):
            return info
    finally:
        f.seek(0)


def estimate(f: BinaryIO, shown: str) -> tuple[int, tuple[int, int]]:
    """Bytes a poster-frame decode needs at its peak, and the stored size, from the header.

    The decoder holds its reference frames at full size (bytes per sample
    times 1.5 for 4:2:0, kept at 3 for every chroma layout) besides the RGB
    frame scaled from one of them.
    """
    info = probe(f, shown)
    w, h = info.coded
    per_sample = 2 if info.bits > 8 else 1
    return w * h * (3 * per_sample * _DECODER_FRAMES // 2 + 4), info.coded


def _av(shown: str) -> Any:
    try:
        import av
    except ImportError:
        fmt = next(x for x in formats.INPUTS if x.module == "av")
        raise UnsupportedImage(f"Cannot read {shown}: {formats.missing(fmt)}") from None
    av.logging.set_level(None)  # FFmpeg's own console messages: the error says it once
    return av


@contextlib.contextmanager
def _opened(f: BinaryIO, shown: str) -> Iterator[tuple[Any, Any, VideoInfo]]:
    """The container open as ``f``, its video stream and header; any failure in one line."""
    av = _av(shown)
    with _errors(shown), _open(av, f) as container:
        stream = _video_stream(container, shown)
        yield container, stream, _info(container, stream)


def _open(av: Any, f: BinaryIO) -> Any:
    f.seek(0)
    # discardcorrupt: a packet the demuxer knows is cut short is dropped, not
    # decoded into a half-grey picture.
    return av.open(f, mode="r", buffer_size=_BUFFER, options={"fflags": "+discardcorrupt"})


def _video_stream(container: Any, shown: str) -> av.video.stream.VideoStream:
    for stream in container.streams.video:
        # A cover picture (attached_pic) is a stream too; the moving one comes first.
        if not stream.disposition & 0x400:
            return stream  # type: ignore[no-any-return]
    if not any(s.type == "audio" for s in container.streams):
        # A header cut short or garbled names no stream at all.
        raise CorruptImage(f"Corrupt image: {shown} is a video file whose header names no stream")
    raise unsupported(shown, "a video file with no video stream (sound only)")


def _info(container: Any, stream: Any) -> VideoInfo:
    ctx = stream.codec_context
    coded = (int(ctx.width), int(ctx.height))
    if coded[0] <= 0 or coded[1] <= 0:
        raise ValueError("no picture size in the header")
    sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
    display = coded
    if sar and sar > 0 and sar != 1:
        display = (max(1, round(coded[0] * fractions.Fraction(sar))), coded[1])
    duration = container.duration / 1_000_000 if container.duration else None
    if duration is None and stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    fmt = ctx.format
    bits = max((c.bits for c in fmt.components), default=8) if fmt is not None else 8
    return VideoInfo(ctx.name, coded, display, duration, int(bits))


def _scaled_size(display: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The size to scale a frame to: the least that covers ``box``, never above ``display``."""
    scale = min(1.0, max(box[0] / display[0], box[1] / display[1]))
    return (max(1, math.ceil(display[0] * scale)), max(1, math.ceil(display[1] * scale)))


def _poster(
    container: Any, stream: Any, info: VideoInfo, options: Options, shown: str
) -> tuple[Image.Image, int, int]:
    """The first good-enough keyframe near the start (else the one with the most contrast),
    scaled, the EXIF orientation of the display matrix's rotation, and the keyframe's pts."""
    from .tonemap import to_sdr

    stream.codec_context.skip_frame = "NONKEY"
    best: tuple[float, Image.Image, int] | None = None
    seen: set[int | None] = set()
    orientation, size = 1, info.display
    for at in POSTER_TIMES:
        if at and info.duration is not None and at >= info.duration:
            break
        frame = _keyframe_after(container, stream, at)
        if frame is None or frame.pts in seen:
            continue
        if not seen:
            # FFmpeg gives every frame the stream's display matrix; the stream
            # object does not expose it, so the first frame tells.
            rotation = int(getattr(frame, "rotation", 0) or 0) % 360
            orientation = _ROTATION_TO_ORIENTATION.get(rotation, 1)
            swap = orientation in (6, 8)
            upright = info.display[::-1] if swap else info.display
            size = _scaled_size(info.display, decode_box(options.specs, upright, swap=swap))
        seen.add(frame.pts)
        image = to_sdr(frame, size)
        score = contrast(image)
        if best is None or score > best[0]:
            best = (score, image, int(frame.pts or 0))
        if score >= GOOD_CONTRAST:
            break
    if best is None:
        raise CorruptImage(
            f"Corrupt image: {shown} is a video with no picture that decodes (damaged or truncated)"
        )
    return best[1], orientation, best[2]


@dataclasses.dataclass(frozen=True)
class Preview:
    """A short run of frames from the poster point on, for ``--animated``."""

    #: Scaled, not yet upright (see ``orientation``), as ``Stored`` keeps pixels.
    frames: list[Image.Image]
    #: Milliseconds each frame is shown: the time to the next one sampled.
    durations: list[int]
    size: tuple[int, int]
    orientation: int
    media: dict[str, Any]


def preview(
    f: BinaryIO,
    shown: str,
    options: Options,
    seconds: float,
    fps: int,
    size_for: Callable[[tuple[int, int]], tuple[int, int]] | None = None,
) -> Preview:
    """``seconds`` of the video open as ``f`` from its poster frame on, sampled at ``fps``.

    The demuxer seeks to the poster keyframe and decodes only up to the end
    of the span: the rest of the file is never read. A video with fewer
    frames a second than ``fps`` gives each frame its own time on screen.
    ``size_for`` gives the size to show frames at from the video's upright
    size, and swscale scales them to it straight from YUV (else to the
    poster's size): scaling each frame once costs half of scaling it twice.
    """
    with _opened(f, shown) as (container, stream, info):
        check_pixels(info.display, shown, options.max_pixels)
        first, orientation, start = _poster(container, stream, info, options, shown)
        stream.codec_context.skip_frame = "DEFAULT"
        # The poster is a keyframe: seeking back to its pts lands on it.
        container.seek(start, backward=True, stream=stream)
        size = first.size
        if size_for is not None:
            swap = orientation in (6, 8)
            size = size_for(info.display[::-1] if swap else info.display)
            size = size[::-1] if swap else size
        frames, times = _span(container, stream, size, start, seconds, fps)
        base = float(stream.time_base or 0)
        offset = (stream.start_time or 0) * base
    if not frames:
        frames, times = [first.resize(size, Image.Resampling.LANCZOS)], [start * base]
    end = times[0] + seconds
    if info.duration is not None:
        # The last frame is shown until the video ends, if that comes first.
        end = min(end, offset + info.duration)
    edges = [*times[1:], max(end, times[-1] + 1 / fps)]
    durations = [max(10, round((b - a) * 1000)) for a, b in zip(times, edges, strict=True)]
    media = {"video": recorded(info, orientation)}
    return Preview(frames, durations, info.display, orientation, media)


def _span(
    container: Any, stream: Any, size: tuple[int, int], start: int, seconds: float, fps: int
) -> tuple[list[Image.Image], list[float]]:
    """Frames from pts ``start`` for ``seconds``, one per 1/``fps`` s, scaled to ``size``."""
    import av

    from .tonemap import to_sdr

    base = float(stream.time_base)
    begin = start * base
    frames: list[Image.Image] = []
    times: list[float] = []
    due = begin
    for packet in container.demux(stream):
        try:
            decoded = packet.decode()
        except av.error.InvalidDataError:
            continue
        for frame in decoded:
            if frame.pts is None or getattr(frame, "is_corrupt", False):
                continue
            at = frame.pts * base
            if at >= begin + seconds:
                return frames, times
            if at + 1e-6 >= due:
                frames.append(to_sdr(frame, size))
                times.append(at)
                due = at + 1 / fps
    return frames, times


def _keyframe_after(container: Any, stream: Any, seconds: float) -> Any:
    """The first keyframe at or after ``seconds``, decoded; None when there is none."""
    import av

    if seconds > 0:
        target = int(seconds / stream.time_base) + (stream.start_time or 0)
        try:
            # backward=False: the keyframe at or after the target, not before.
            container.seek(target, backward=False, stream=stream)
        except av.error.FFmpegError:
            return None
    for packet in container.demux(stream):
        try:
            for frame in packet.decode():
                if not getattr(frame, "is_corrupt", False):
                    return frame
        except av.error.InvalidDataError:
            continue  # a damaged keyframe: the next one may do
    return None


def contrast(image: Image.Image) -> float:
    """How much there is to see: the standard deviation of the luma of a small copy."""
    small = image.convert("L").resize((32, 32), Image.Resampling.BOX)
    return float(ImageStat.Stat(small).stddev[0])


@contextlib.contextmanager
def _errors(shown: str) -> Iterator[None]:
    """Turn what PyAV raises into one-line errors that name the file."""
    try:
        yield
    except ThumbgenError:
        raise
    except MemoryError:
        raise TooManyPixels(
            f"Not enough memory to decode {shown}; run fewer workers (-w) "
            "or lower --max-pixels to refuse such files"
        ) from None
    except OSError as exc:
        if exc.errno is not None and exc.errno > 0 and _is_io(exc):
            raise TransientError(f"Cannot read {shown}: {exc.strerror}") from None
        raise CorruptImage(
            f"Corrupt image: {shown} is a video FFmpeg cannot read ({_said(exc)})"
        ) from None
    except Exception as exc:
        raise CorruptImage(
            f"Corrupt image: {shown} is a video FFmpeg cannot read ({_said(exc)})"
        ) from None


def _is_io(exc: OSError) -> bool:
    """True for a real I/O error from reading the file, not one FFmpeg made up for bad data."""
    import av

    return not isinstance(exc, av.error.FFmpegError)


def _said(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return reason(RuntimeError(text))
