"""--crop attention: a small, high-contrast subject off centre stays in the crop.

Generated scenes: a flat, slightly noisy background with a small busy,
saturated subject to one side. The centre crop cuts it off; attention must
keep it whole (and near the middle of the crop).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from thumbgen import build_options
from thumbgen.thumbnailing import make


def _scene(size: tuple[int, int], subject: tuple[int, int, int, int]) -> Image.Image:
    """A grey-green field with a chequered red-and-yellow subject in ``subject``."""
    im = Image.new("RGB", size, (96, 110, 96))
    noise = Image.effect_noise(size, 6).convert("RGB")
    im = Image.blend(im, noise, 0.08)
    draw = ImageDraw.Draw(im)
    left, top, right, bottom = subject
    step = 6
    for y in range(top, bottom, step):
        for x in range(left, right, step):
            odd = ((x - left) // step + (y - top) // step) % 2
            draw.rectangle(
                (x, y, x + step - 1, y + step - 1), fill=(230, 20, 20) if odd else (250, 230, 0)
            )
    return im


def _contains(box: list[int], subject: tuple[int, int, int, int]) -> bool:
    return (
        box[0] <= subject[0]
        and box[1] <= subject[1]
        and box[2] >= subject[2]
        and box[3] >= subject[3]
    )


SCENES = [
    # landscape, subject near the right edge
    ((800, 400), (660, 170, 740, 250)),
    # landscape, subject near the left edge, low
    ((900, 450), (40, 300, 110, 370)),
    # portrait, subject near the top
    ((400, 800), (150, 40, 230, 120)),
]


@pytest.mark.parametrize(("size", "subject"), SCENES)
def test_attention_keeps_the_subject_that_center_cuts(
    tmp_path: Path, size: tuple[int, int], subject: tuple[int, int, int, int]
) -> None:
    source = tmp_path / "scene.png"
    _scene(size, subject).save(source)
    boxes = {}
    for crop in ("center", "attention"):
        options = build_options(["200"], fit="cover", crop=crop, out_dir=tmp_path / crop)
        (thumb,) = make(str(source), options).thumbnails
        assert thumb.crop is not None
        boxes[crop] = list(thumb.crop)
    assert not _contains(boxes["center"], subject)
    assert _contains(boxes["attention"], subject), boxes


def test_faces_without_a_face_falls_back_to_attention(tmp_path: Path) -> None:
    size, subject = SCENES[0]
    source = tmp_path / "scene.png"
    _scene(size, subject).save(source)
    made = {}
    for crop in ("attention", "faces"):
        options = build_options(["200"], fit="cover", crop=crop, out_dir=tmp_path / crop)
        made[crop] = make(str(source), options).thumbnails[0].crop
    assert made["faces"] == made["attention"]
