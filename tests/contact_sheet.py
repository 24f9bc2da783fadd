"""Contact sheet of the EXIF orientation examples, for a human to check by eye.

usage: python tests/contact_sheet.py OUT.png [FOLDER]

FOLDER defaults to $THUMBGEN_CORPUS/exif-orientation-examples (corpus:
../shared/corpus beside the checkout). Each of Landscape_0..8.jpg and Portrait_0..8.jpg is
thumbnailed by thumbgen's imaging core; the sheet shows one row per series,
labelled with the file name, the EXIF orientation stored in it, the size
thumbgen produced and the mean difference from the orientation-1 thumbnail.
Every cell should show the same upright picture as its row's ``_1`` cell.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from thumbgen import build_options, make_thumbnails

BOX = 200  # thumbnail box
LABEL_H = 54  # room for three lines of text under each thumbnail
HEAD_W = 110  # room for the row name
PAD = 10
SERIES = ("Landscape", "Portrait")
# Below this mean difference (of 255) a thumbnail matches its upright sibling.
MATCH = 12.0


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ValueError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _stored_orientation(path: Path) -> str:
    with Image.open(path) as im:
        value = im.getexif().get(0x0112)
    return "none" if value is None else str(value)


def _difference(a: Image.Image, b: Image.Image) -> float | None:
    if a.size != b.size:
        return None
    return float(ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).mean[0])


def _thumbnails(folder: Path, out: Path) -> dict[str, Image.Image]:
    options = build_options([str(BOX)], out_dir=out, name="{stem}.{ext}")
    thumbs: dict[str, Image.Image] = {}
    for kind in SERIES:
        for n in range(9):
            source = folder / f"{kind}_{n}.jpg"
            if not source.exists():
                continue
            (thumb,) = make_thumbnails(str(source), options)
            with Image.open(thumb.path) as im:
                thumbs[source.stem] = im.convert("RGB")
    return thumbs


def _cell(draw: ImageDraw.ImageDraw, xy: tuple[int, int], lines: list[str], ok: bool) -> None:
    x, y = xy
    colours = [(0, 0, 0), (70, 70, 70), (0, 120, 0) if ok else (200, 0, 0)]
    for i, (text, colour) in enumerate(zip(lines, colours, strict=True)):
        draw.text((x, y + i * 17), text, fill=colour, font=_font(14))


def build_sheet(folder: Path) -> tuple[Image.Image, list[str]]:
    """Thumbnail every example in ``folder``, lay them out in labelled rows.

    Returns the sheet and the names of thumbnails that do not match their
    series' orientation-1 thumbnail.
    """
    wrong: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        thumbs = _thumbnails(folder, Path(tmp))
    width = HEAD_W + 9 * (BOX + PAD) + PAD
    height = PAD + len(SERIES) * (BOX + LABEL_H + PAD) + 30
    sheet = Image.new("RGB", (width, height), (235, 235, 235))
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, 6), f"thumbgen: {folder}", fill=(0, 0, 0), font=_font(16))
    for row, kind in enumerate(SERIES):
        top = 30 + row * (BOX + LABEL_H + PAD)
        draw.text((PAD, top + BOX // 2), kind, fill=(0, 0, 0), font=_font(18))
        reference = thumbs.get(f"{kind}_1")
        for n in range(9):
            im = thumbs.get(f"{kind}_{n}")
            if im is None:
                continue
            left = HEAD_W + n * (BOX + PAD)
            # centre the thumbnail in its BOX x BOX cell
            sheet.paste(im, (left + (BOX - im.width) // 2, top + (BOX - im.height) // 2))
            diff = None if reference is None else _difference(im, reference)
            ok = diff is not None and diff < MATCH
            verdict = (
                "size differs" if diff is None else f"diff {diff:.1f} {'ok' if ok else 'WRONG'}"
            )
            lines = [
                f"{kind}_{n}.jpg",
                f"EXIF {_stored_orientation(folder / f'{kind}_{n}.jpg')}, {im.width}x{im.height}",
                f"vs _1: {verdict}",
            ]
            _cell(draw, (left, top + BOX + 3), lines, ok)
            if not ok:
                wrong.append(f"{kind}_{n}.jpg")
    return sheet, wrong


def main(argv: list[str]) -> int:
    """Write the contact sheet; exit status 1 if a thumbnail does not match its series."""
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    beside = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    corpus = os.environ.get("THUMBGEN_CORPUS", str(beside))
    folder = Path(argv[2]) if len(argv) > 2 else Path(corpus) / "exif-orientation-examples"
    if not folder.is_dir():
        sys.stderr.write(f"no such folder: {folder}\n")
        return 2
    sheet, wrong = build_sheet(folder)
    sheet.save(argv[1])
    print(f"wrote {argv[1]} ({sheet.width}x{sheet.height})")
    if wrong:
        print(f"not matching their orientation-1 sibling: {', '.join(wrong)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
