"""--crop faces on a real photo: the astronaut in scikit-image's bundled data.

``skimage.data.astronaut()`` is Eileen Collins' NASA portrait (public
domain, shipped inside the scikit-image wheel: nothing is downloaded). Its
face is in the upper third: a wide centre crop cuts it, the face crop keeps it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from thumbgen import build_options
from thumbgen.thumbnailing import make

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("cv2")

#: Where the face is in the 512 x 512 photo (checked by eye: forehead to chin).
FACE = (185, 75, 265, 165)


def _contains(box: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    return box[0] <= inner[0] and box[1] <= inner[1] and box[2] >= inner[2] and box[3] >= inner[3]


def test_faces_keeps_the_astronauts_face_that_center_cuts(tmp_path: Path) -> None:
    source = tmp_path / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(source)
    boxes = {}
    for crop in ("center", "faces"):
        options = build_options(["400x100"], fit="cover", crop=crop, out_dir=tmp_path / crop)
        (thumb,) = make(str(source), options).thumbnails
        assert thumb.crop is not None
        boxes[crop] = thumb.crop
    assert not _contains(boxes["center"], FACE)
    assert _contains(boxes["faces"], FACE), boxes
