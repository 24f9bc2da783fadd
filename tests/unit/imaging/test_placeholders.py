"""Placeholders and the average colour: made from the decoded pixels, decodable back.

Each placeholder is decoded with its own library's decoder (thash, blurhash)
and compared with the thumbnail it stands for: a page showing it while the
thumbnail loads must show the same picture, blurred.
"""

from __future__ import annotations

import base64
from pathlib import Path

import blurhash
import pytest
import thash
from PIL import Image, ImageDraw

from thumbgen import build_options
from thumbgen.imaging import placeholders
from thumbgen.options import Placeholder
from thumbgen.thumbnailing import make


def _scene(path: Path) -> Path:
    """Four big blocks of colour: what any placeholder must get right."""
    im = Image.new("RGB", (480, 320), (200, 40, 30))
    draw = ImageDraw.Draw(im)
    draw.rectangle((240, 0, 480, 160), fill=(20, 60, 210))
    draw.rectangle((0, 160, 240, 320), fill=(240, 220, 40))
    draw.rectangle((240, 160, 480, 320), fill=(30, 160, 60))
    im.save(path, quality=95)
    return path


def _distance(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0..255."""
    a, b = a.convert("RGB"), b.convert("RGB").resize(a.size, Image.Resampling.BOX)
    pa, pb = a.tobytes(), b.tobytes()
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def _thumbnail(made_path: str) -> Image.Image:
    with Image.open(made_path) as im:
        return im.convert("RGB")


def test_thumbhash_decodes_back_close_to_the_thumbnail(tmp_path: Path) -> None:
    source = _scene(tmp_path / "scene.jpg")
    options = build_options(["128"], out_dir=tmp_path / "out", placeholder="thumbhash")
    made = make(str(source), options)
    assert made.placeholder
    w, h, rgba = thash.thumb_hash_to_rgba(list(base64.b64decode(made.placeholder)))
    decoded = Image.frombytes("RGBA", (w, h), bytes(rgba))
    thumb = _thumbnail(made.thumbnails[0].path)
    assert w / h == pytest.approx(thumb.width / thumb.height, rel=0.1)
    assert _distance(decoded, thumb) < 40  # a blur of four blocks, not another picture
    # and far from a picture with the blocks the other way round
    assert _distance(decoded, thumb.transpose(Image.Transpose.ROTATE_180)) > 60


def test_blurhash_decodes_back_close_to_the_thumbnail(tmp_path: Path) -> None:
    source = _scene(tmp_path / "scene.jpg")
    options = build_options(["128"], out_dir=tmp_path / "out", placeholder="blurhash")
    made = make(str(source), options)
    thumb = _thumbnail(made.thumbnails[0].path)
    rows = blurhash.decode(made.placeholder, 32, 21)
    decoded = Image.new("RGB", (32, 21))
    decoded.putdata([tuple(int(c) for c in px[:3]) for row in rows for px in row])
    assert _distance(decoded, thumb) < 40
    assert _distance(decoded, thumb.transpose(Image.Transpose.ROTATE_180)) > 60


def test_average_colour_and_source_facts_come_with_a_placeholder(tmp_path: Path) -> None:
    im = Image.new("RGB", (300, 200), (10, 120, 250))
    im.save(tmp_path / "blue.png")
    made = make(
        str(tmp_path / "blue.png"),
        build_options(["64"], out_dir=tmp_path / "out", placeholder="blurhash"),
    )
    assert made.average_colour == "#0a78fa"
    assert (made.source_size, made.orientation) == ((300, 200), 1)


def test_no_placeholder_no_cost(tmp_path: Path) -> None:
    _scene(tmp_path / "scene.jpg")
    made = make(str(tmp_path / "scene.jpg"), build_options(["64"], out_dir=tmp_path / "out"))
    assert (made.placeholder, made.average_colour) == ("", "")


def test_an_unknown_placeholder_is_a_usage_error(tmp_path: Path) -> None:
    from thumbgen.errors import UsageError

    with pytest.raises(UsageError, match="thumbhash, blurhash"):
        build_options(["64"], out_dir=tmp_path, placeholder="lqip")


@pytest.mark.parametrize("size", [(32, 21), (21, 32), (32, 32), (7, 3), (1, 1)])
def test_blurhash_sums_in_numpy_give_the_library_s_own_string(size: tuple[int, int]) -> None:
    # The placeholder does the cosine sums in numpy (the library loops in
    # Python): on a noisy picture with edges its string must be the library's.
    im = Image.effect_noise(size, 60).convert("RGB")
    im = Image.merge(
        "RGB", [im.getchannel(0), im.getchannel(0).rotate(90), Image.new("L", size, 90)]
    )
    ImageDraw.Draw(im).rectangle((0, 0, size[0] // 2, size[1] // 2), fill=(250, 10, 200))
    x, y = (4, 3) if size[0] >= size[1] else (3, 4)
    px = im.load()
    assert px is not None
    rows = [[px[i, j] for i in range(size[0])] for j in range(size[1])]
    assert placeholders.blurhash_of(im, x, y) == blurhash.encode(
        rows, components_x=x, components_y=y
    )


def test_thumbhash_on_numpy_is_the_pure_encoder_s_bytes() -> None:
    im = Image.effect_noise((32, 24), 50).convert("RGBA")
    ImageDraw.Draw(im).ellipse((4, 4, 20, 16), fill=(10, 200, 30, 128))
    made = base64.b64decode(placeholders.encode(im, Placeholder.THUMBHASH))
    assert list(made) == thash.rgba_to_thumb_hash_pure(32, 24, list(im.tobytes()))
