"""Geometry: from a source size and an output spec to resize, crop and pad boxes.

Pure arithmetic (plus the entropy crop search) so that the imaging pipeline
can plan the decode size from the header before any pixel is read.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from PIL import Image

from thumbgen.errors import TooManyPixels
from thumbgen.options import Crop, Fit, OutputSpec


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to do with an upright source of a given size to meet one spec."""

    #: Size to resample the whole picture to.
    resize: tuple[int, int]
    #: For ``cover``: the window cut out of the resampled picture.
    crop: tuple[int, int] | None = None
    #: For ``pad``: the canvas the resampled picture is centred on.
    canvas: tuple[int, int] | None = None

    @property
    def final(self) -> tuple[int, int]:
        """Size of the finished thumbnail."""
        return self.canvas or self.crop or self.resize


def plan(spec: OutputSpec, width: int, height: int) -> Plan:
    """Plan one output for an upright source of ``width`` x ``height`` pixels.

    A box with a free side (``320x``) only constrains the other side, so every
    fit behaves like ``contain`` there. Without ``upscale`` nothing is enlarged:
    ``cover`` then cuts the largest window of the box's shape instead.
    """
    box_w, box_h = spec.size.width, spec.size.height
    if box_w is None or box_h is None:
        scale = box_w / width if box_w is not None else (box_h or height) / height
        return Plan(_scaled(width, height, _limit(scale, spec.upscale)))
    if spec.fit is Fit.FILL:
        if spec.upscale:
            return Plan((box_w, box_h))
        return Plan((min(box_w, width), min(box_h, height)))
    if spec.fit is Fit.COVER:
        scale = max(box_w / width, box_h / height)
        if scale > 1 and not spec.upscale:
            window = (max(1, round(box_w / scale)), max(1, round(box_h / scale)))
            return Plan((width, height), crop=window)
        resized = (max(box_w, round(width * scale)), max(box_h, round(height * scale)))
        return Plan(resized, crop=(box_w, box_h))
    scale = _limit(min(box_w / width, box_h / height), spec.upscale)
    resized = _scaled(width, height, scale)
    if spec.fit is Fit.PAD:
        return Plan(resized, canvas=(box_w, box_h))
    return Plan(resized)


def _limit(scale: float, upscale: bool) -> float:
    return scale if upscale else min(scale, 1.0)


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def crop_origin(im: Image.Image, window: tuple[int, int], crop: Crop) -> tuple[int, int]:
    """Top-left corner of ``window`` inside ``im`` for the requested crop."""
    excess_x, excess_y = im.width - window[0], im.height - window[1]
    if isinstance(crop, tuple):
        fx, fy = crop
        left = _clamp(round(fx * im.width - window[0] / 2), excess_x)
        top = _clamp(round(fy * im.height - window[1] / 2), excess_y)
        return (left, top)
    if crop == "entropy":
        return (_entropy_offset(im, excess_x, axis=0), _entropy_offset(im, excess_y, axis=1))
    if crop in ("attention", "faces") and (excess_x > 0 or excess_y > 0):
        from . import saliency  # its own cost only for those who ask

        find = saliency.faces_origin if crop == "faces" else saliency.attention_origin
        return find(im, window)
    return (excess_x // 2, excess_y // 2)


def in_source(
    window: tuple[int, int, int, int], resized: tuple[int, int], source: tuple[int, int]
) -> tuple[int, int, int, int]:
    """``window`` (a box in the picture resampled to ``resized``) in the source's own pixels."""
    sx, sy = source[0] / resized[0], source[1] / resized[1]
    left, top, right, bottom = window
    return (
        round(left * sx),
        round(top * sy),
        min(source[0], round(right * sx)),
        min(source[1], round(bottom * sy)),
    )


def _clamp(value: int, high: int) -> int:
    return max(0, min(value, high))


def _entropy_offset(im: Image.Image, excess: int, axis: int) -> int:
    """Offset that trims ``excess`` pixels along ``axis`` (0 = x, 1 = y).

    The same idea as easy-thumbnails' smart crop: keep cutting a thin slice
    from whichever edge holds less detail (lower entropy).
    """
    if excess <= 0:
        return 0
    gray = im.convert("L")
    length = gray.width if axis == 0 else gray.height
    keep = length - excess
    start, end = 0, length
    step = max(1, math.ceil(excess / 20))
    while end - start > keep:
        cut = min(step, end - start - keep)
        if axis == 0:
            low = gray.crop((start, 0, start + cut, gray.height)).entropy()
            high = gray.crop((end - cut, 0, end, gray.height)).entropy()
        else:
            low = gray.crop((0, start, gray.width, start + cut)).entropy()
            high = gray.crop((0, end - cut, gray.width, end)).entropy()
        if low < high:
            start += cut
        else:
            end -= cut
    return start


def decode_target(plans: list[Plan]) -> tuple[int, int]:
    """The smallest decode size that still serves every planned output."""
    return (max(p.resize[0] for p in plans), max(p.resize[1] for p in plans))


#: Precision of the virtual integer size a vector picture's boxes are planned on.
_VECTOR_PLAN_SIDE = 10_000


def vector_size(natural: tuple[float, float], specs: Sequence[OutputSpec]) -> tuple[int, int]:
    """Pixels to draw a vector picture (SVG, PDF page) of ``natural`` size at.

    The least size from which every output is a reduction; a vector picture
    may always be "enlarged", so each spec is planned as if ``--upscale``.
    """
    width, height = natural
    k = _VECTOR_PLAN_SIDE / max(width, height)
    base = (max(1, round(width * k)), max(1, round(height * k)))
    scale = 0.0
    for spec in specs:
        plan_ = plan(dataclasses.replace(spec, upscale=True), *base)
        scale = max(scale, plan_.resize[0] / base[0], plan_.resize[1] / base[1])
    return (max(1, round(base[0] * scale)), max(1, round(base[1] * scale)))


def check_vector_size(size: tuple[int, int], shown: str, max_pixels: int, done: str) -> None:
    """Refuse a vector picture that would be ``done`` ("drawn", "rendered") past ``max_pixels``."""
    pixels = size[0] * size[1]
    if pixels > max_pixels:
        raise TooManyPixels(
            f"Too many pixels: {shown} would be {done} at {size[0]}x{size[1]} "
            f"({pixels:,} pixels, limit {max_pixels:,}) for these sizes; "
            "raise --max-pixels if you trust this file"
        )
