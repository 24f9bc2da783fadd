"""EXIF orientation: every source comes out upright, whatever its format or decode scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import UPRIGHT, decode_file, load, mean_difference, one, opts


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_every_exif_orientation_comes_out_upright(tmp_path: Path, orientation: int) -> None:
    picture = imagegen.asymmetric((120, 80))
    reference = one(
        imagegen.save_with_orientation(picture, tmp_path / "ref.jpg", 1), opts(tmp_path)
    )
    src = imagegen.save_with_orientation(picture, tmp_path / f"o{orientation}.jpg", orientation)
    thumb = one(src, opts(tmp_path))
    out = load(thumb.path)
    assert (thumb.width, thumb.height) == (120, 80)
    assert imagegen.quadrants(out) == UPRIGHT
    assert mean_difference(out, load(reference.path)) < 3  # equal within JPEG noise


@pytest.mark.parametrize("orientation", [0, 9, "missing", "garbage"])
def test_unknown_or_broken_orientation_counts_as_upright(tmp_path: Path, orientation: Any) -> None:
    src = imagegen.save_with_orientation(
        imagegen.asymmetric((120, 80)), tmp_path / "o.jpg", orientation
    )
    assert imagegen.quadrants(load(one(src, opts(tmp_path)).path)) == UPRIGHT


@pytest.mark.parametrize("orientation", [3, 5, 6, 8])
def test_orientation_survives_shrink_on_load(tmp_path: Path, orientation: int) -> None:
    # Large enough for DCT scaling, so the swapped box and the transpose of the
    # small decoded image are both exercised.
    picture = imagegen.asymmetric((2000, 1200))
    src = imagegen.save_with_orientation(picture, tmp_path / "big.jpg", orientation)
    assert decode_file(str(src), opts(tmp_path)).image.size == (1000, 600)
    thumb = one(src, opts(tmp_path))
    assert (thumb.width, thumb.height) == (256, 154)
    assert imagegen.quadrants(load(thumb.path)) == UPRIGHT


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_orientation_is_honoured_in_other_formats(tmp_path: Path, fmt: str) -> None:
    exif = Image.Exif()
    exif[imagegen.ORIENTATION] = 6
    stored = imagegen.asymmetric((120, 80)).transpose(Image.Transpose.ROTATE_90)
    src = tmp_path / f"o6.{fmt.lower()}"
    stored.save(src, fmt, exif=exif, **({"lossless": True} if fmt == "WEBP" else {}))
    thumb = one(src, opts(tmp_path))
    assert (thumb.width, thumb.height) == (120, 80)
    assert imagegen.quadrants(load(thumb.path)) == UPRIGHT
