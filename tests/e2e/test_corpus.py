"""Acceptance on real files: the imaging core over the shared corpus.

The corpus (about 136 files: camera JPEGs with odd EXIF, 24 MP progressive
photos, broken files, READMEs) lives outside the repository; these tests skip
when it is absent. Point ``THUMBGEN_CORPUS`` at another copy to use that one.
Run with ``-s`` to see the summary of failures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from thumbgen import ThumbgenError, build_options, make_thumbnails
from thumbgen.messages import display_path
from thumbgen.naming import relative_dir

# Read at import: the suite's autouse fixture clears THUMBGEN_* variables per test.
# ../shared/corpus beside the checkout, as the project's machines have it.
_BESIDE = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CORPUS = Path(os.environ.get("THUMBGEN_CORPUS", str(_BESIDE)))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no image corpus at {CORPUS}")


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file())


def test_whole_corpus_gives_thumbnails_or_one_line_errors(tmp_path: Path) -> None:
    options = build_options(["256", "320x240"], fit="cover", out_dir=tmp_path)
    done: list[Path] = []
    failed: list[tuple[Path, ThumbgenError]] = []
    crashed: list[str] = []
    bad_messages: list[str] = []
    for path in corpus_files():
        try:
            thumbs = make_thumbnails(
                str(path), options, rel_dir=relative_dir(str(path), str(CORPUS))
            )
        except ThumbgenError as exc:
            failed.append((path, exc))
            message = str(exc)
            if not message.isprintable() or display_path(str(path)) not in message:
                bad_messages.append(f"{path}: {message!r}")
        except Exception as exc:  # anything else is a bug in thumbgen
            crashed.append(f"{path}: {type(exc).__name__}: {exc}")
        else:
            done.append(path)
            for thumb in thumbs:
                with Image.open(thumb.path) as im:
                    assert im.size == (thumb.width, thumb.height)
                    assert max(im.size) <= 320

    print(f"\ncorpus {CORPUS}: {len(done)} ok, {len(failed)} failed, {len(crashed)} crashed")
    for _path, error in failed:
        print(f"  {type(error).__name__}: {error}")
    assert not crashed, "\n".join(crashed)
    assert not bad_messages, "\n".join(bad_messages)
    assert done, "no corpus file gave a thumbnail"
    # No stray temporary files next to the thumbnails.
    assert not list(tmp_path.rglob(".*.tmp"))


def _orientation_series(folder: str) -> list[tuple[Path, Path]]:
    """(file, its orientation-1 sibling) for every tagged file in a series folder."""
    base = CORPUS / folder
    pairs = []
    for path in sorted(base.glob("*.jpg")):
        kind, _, _ = path.stem.rpartition("_")
        pairs.append((path, base / f"{kind}_1.jpg"))
    return pairs


SERIES = [
    *_orientation_series("exif-orientation-examples"),
    *_orientation_series(os.path.join("exif-samples", "jpg", "orientation")),
]


@pytest.mark.parametrize(
    ("source", "reference"), SERIES, ids=[f"{p.parent.name}/{p.name}" for p, _ in SERIES]
)
def test_orientation_series_matches_its_upright_sibling(
    tmp_path: Path, source: Path, reference: Path
) -> None:
    # Every file of a series shows the same picture once its EXIF tag is honoured.
    options = build_options(["256"], out_dir=tmp_path, name="{name}.{ext}")
    (thumb,) = make_thumbnails(str(source), options)
    (upright,) = make_thumbnails(str(reference), options)
    with Image.open(thumb.path) as a, Image.open(upright.path) as b:
        assert a.size == b.size
        diff = ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).mean[0]
    assert diff < 12, f"{source.name} differs from {reference.name} by {diff:.1f}"
