"""Crops that keep the subject: ``attention`` (a saliency map) and ``faces`` (a detector).

``attention`` follows sharp's (libvips') strategy of that name: what draws
the eye is detail (edges in the luminance), saturated colour and skin
tones. Each is measured on a copy at most :data:`_SIDE` pixels a side,
summed into one score per pixel, and the window is put where it holds the
most score (a summed-area table makes every placement one lookup), then
centred on the score inside it, so that a small subject sits in the middle
of the crop rather than at its edge.

``faces`` uses OpenCV's frontal-face Haar cascade, which ships inside the
``opencv-python-headless`` wheel (``cv2.data.haarcascades``): nothing is
fetched at run time. No face, or no OpenCV: attention.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from PIL import Image, ImageFilter

#: The longest side of the copy the score is computed on.
_SIDE = 96
#: Weights of the three measures (each 0..255 per pixel): detail counts
#: most, then skin (faces and bodies are what people crop for), then colour.
_EDGE, _SKIN, _SATURATION = 3, 2, 1
#: The longest side of the grey copy faces are looked for in. The cascade's
#: cost grows with the pixels and the scales tried: at 200 px it is a third of
#: its cost at 340 px (``python tests/benchmarks/run.py web``), and it finds
#: faces down to its 24 px window, an eighth of the picture's long side;
#: smaller faces (a crowd) fall back to attention. On the peers' photos (no
#: faces) larger copies only added false detections in fruit and bowls.
_FACE_SIDE = 200


def attention_origin(im: Image.Image, window: tuple[int, int]) -> tuple[int, int]:
    """Top-left corner of ``window`` inside ``im`` that keeps its most salient part."""
    score, scale = _score(im)
    return _place(score, scale, im.size, window)


def faces_origin(im: Image.Image, window: tuple[int, int]) -> tuple[int, int]:
    """Top-left corner of ``window`` that keeps the faces found, or :func:`attention_origin`."""
    found = _faces(im)
    if not found:
        return attention_origin(im, window)
    left = min(x for x, _, _, _ in found)
    top = min(y for _, y, _, _ in found)
    right = max(x + w for x, _, w, _ in found)
    bottom = max(y + h for _, y, _, h in found)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    return (
        _clamp(round(cx - window[0] / 2), im.width - window[0]),
        _clamp(round(cy - window[1] / 2), im.height - window[1]),
    )


def _score(im: Image.Image) -> tuple[list[list[int]], float]:
    """Saliency per pixel of a small copy of ``im``, and that copy's scale."""
    scale = min(1.0, _SIDE / max(im.size))
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    small = im.convert("RGB").resize(size, Image.Resampling.BOX)
    edges = small.convert("L").filter(ImageFilter.FIND_EDGES).tobytes()
    hsv = small.convert("HSV")
    sat, val = hsv.getchannel("S").tobytes(), hsv.getchannel("V").tobytes()
    _, cb, cr = (c.tobytes() for c in small.convert("YCbCr").split())
    w = size[0]
    rows: list[list[int]] = []
    for y in range(size[1]):
        row = []
        for x in range(w):
            i = y * w + x
            # Saturation means little in near-black pixels (noise, shadows).
            colour = sat[i] if val[i] > 48 else 0
            skin = 255 if 77 <= cb[i] <= 127 and 133 <= cr[i] <= 173 and val[i] > 60 else 0
            row.append(_EDGE * edges[i] + _SKIN * skin + _SATURATION * colour)
        rows.append(row)
    return rows, size[0] / im.width


def _place(
    score: list[list[int]], scale: float, full: tuple[int, int], window: tuple[int, int]
) -> tuple[int, int]:
    h, w = len(score), len(score[0])
    ww = max(1, min(w, round(window[0] * scale)))
    wh = max(1, min(h, round(window[1] * scale)))
    table = [[0] * (w + 1) for _ in range(h + 1)]  # summed-area table
    for y in range(h):
        acc = 0
        for x in range(w):
            acc += score[y][x]
            table[y + 1][x + 1] = table[y][x + 1] + acc

    def total(x: int, y: int, cw: int, ch: int) -> int:
        return table[y + ch][x + cw] - table[y][x + cw] - table[y + ch][x] + table[y][x]

    best = max(
        ((x, y) for y in range(h - wh + 1) for x in range(w - ww + 1)),
        key=lambda p: total(p[0], p[1], ww, wh),
    )
    inside = total(best[0], best[1], ww, wh)
    if inside == 0:  # nothing salient anywhere: the centre
        return ((full[0] - window[0]) // 2, (full[1] - window[1]) // 2)
    # Centre on the score's centroid inside the best window.
    bx, by = best
    cx = sum(score[y][x] * (x + 0.5) for y in range(by, by + wh) for x in range(bx, bx + ww))
    cy = sum(score[y][x] * (y + 0.5) for y in range(by, by + wh) for x in range(bx, bx + ww))
    cx, cy = cx / inside / scale, cy / inside / scale
    return (
        _clamp(round(cx - window[0] / 2), full[0] - window[0]),
        _clamp(round(cy - window[1] / 2), full[1] - window[1]),
    )


def _clamp(value: int, high: int) -> int:
    return max(0, min(value, high))


@functools.cache
def _cascade() -> Any:
    """OpenCV's bundled frontal-face cascade (None without OpenCV: the faces extra)."""
    try:
        import cv2

        # Through importlib: cv2's stubs do not declare its data module.
        folder = importlib.import_module("cv2.data").haarcascades
    except ImportError:
        return None
    return cv2.CascadeClassifier(folder + "haarcascade_frontalface_default.xml")


def _faces(im: Image.Image) -> list[tuple[int, int, int, int]]:
    """Faces in ``im`` as (x, y, w, h) in its pixels; [] without OpenCV or faces."""
    cascade = _cascade()
    if cascade is None or cascade.empty():
        return []
    import numpy as np

    scale = min(1.0, _FACE_SIDE / max(im.size))
    small = im.convert("L")
    if scale < 1:
        small = small.resize(
            (max(1, round(im.width * scale)), max(1, round(im.height * scale))),
            Image.Resampling.BOX,
        )
    grey = np.asarray(small)
    side = max(24, min(grey.shape) // 12)
    found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    return [
        (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for x, y, w, h in found
    ]
