"""Helpers of the imaging tests: options, one thumbnail, pixel comparisons, output listings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageStat

from thumbgen.imaging.decode import Decoded, decode
from thumbgen.imaging.sniff import sniff
from thumbgen.options import Options, build_options
from thumbgen.thumbnailing import Thumbnail, make_thumbnails

#: Quadrant colours of :func:`support.imagegen.asymmetric`, read the right way up.
UPRIGHT = ("red", "green", "blue", "yellow")


def opts(tmp_path: Path, sizes: tuple[str, ...] = ("256",), **kwargs: Any) -> Options:
    """Options writing into ``tmp_path / "out"``."""
    return build_options(list(sizes), out_dir=tmp_path / "out", **kwargs)


def one(source: Path, options: Options, rel_dir: str = "") -> Thumbnail:
    """The single thumbnail ``options`` asks for."""
    (thumb,) = make_thumbnails(str(source), options, rel_dir=rel_dir)
    return thumb


def load(path: str | Path) -> Image.Image:
    """The file's pixels, with the file closed again (no ResourceWarning)."""
    with Image.open(path) as im:
        im.load()
        return im.copy()


def rgb_at(im: Image.Image, fx: float, fy: float) -> tuple[int, ...]:
    """Pixel at a fraction of the width and height."""
    px = im.getpixel(
        (min(im.width - 1, int(fx * im.width)), min(im.height - 1, int(fy * im.height)))
    )
    assert isinstance(px, tuple)
    return px


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int) -> bool:
    """True when every channel of ``a`` is within ``tol`` of ``b``."""
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute RGB difference of two images of one size, 0..255."""
    assert a.size == b.size
    return float(
        sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3
    )


def decodes_completely(path: str | Path) -> bool:
    """Whether the file decodes to its last pixel (a truncated one raises in ``load``)."""
    try:
        with Image.open(path) as im:
            im.load()  # raises "image file is truncated" on a short file
    except OSError:
        return False
    return True


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (temporary ones included), relative to it."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def slow_to_encode(tmp_path: Path) -> Path:
    """A tiny source whose 2048 px upscaled thumbnail takes a while to encode."""
    Image.merge("RGB", [Image.effect_noise((64, 64), 60) for _ in range(3)]).save(
        tmp_path / "n.png"
    )
    return tmp_path / "n.png"


def sniff_file(path: str) -> str:
    """Sniff the file at ``path`` the way discovery does: from one open stream."""
    with open(path, "rb") as f:
        return sniff(f, path)


def decode_file(path: str, options: Options) -> Decoded:
    """Decode the file at ``path`` the way a worker does: from one open stream."""
    with open(path, "rb") as f:
        return decode(f, path, options)
