"""A done job records what a video or PDF is (issue 24): ``show`` and ``show --json`` say it.

The video is encoded by PyAV in the test (sideways, so the recorded size is
the one a player shows), the PDF written by :mod:`support.pdfgen`; both go
through ``thumbgen add --wait`` in a real process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from support import imagegen, pdfgen, videogen
from support.procs import run_thumbgen

pytest.importorskip("av")
pytest.importorskip("pypdfium2")


def test_show_reports_a_videos_duration_codec_and_size_and_a_pdfs_pages(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    sideways = videogen.picture((160, 96)).rotate(-90, expand=True)
    videogen.video(
        folder / "clip.mov",
        size=sideways.size,
        rotation=90,
        seconds=2.5,
        frame=lambda i: sideways,
        codec="libx264",
    )
    pages = [imagegen.asymmetric((600, 800)), imagegen.asymmetric((800, 600))]
    pdfgen.pdf(folder / "doc.pdf", pages)
    imagegen.asymmetric((64, 48)).save(folder / "still.png")
    out = tmp_path / "thumbs"
    added = run_thumbgen("add", str(folder), "--wait", "-o", str(out), env=env)
    assert added.returncode == 0, added.stdout + added.stderr

    def show(name: str, *flags: str) -> str:
        result = run_thumbgen("show", str(folder / name), *flags, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    video = json.loads(show("clip.mov", "--json"))["info"]["video"]
    assert video["codec"] == "h264"
    assert video["duration"] == pytest.approx(2.5, abs=0.15)
    # Stored 96x160, turned upright by the display matrix: a player shows 160x96.
    assert (video["width"], video["height"]) == sideways.size[::-1]

    pdf = json.loads(show("doc.pdf", "--json"))["info"]["pdf"]
    assert pdf == {"pages": 2, "width": 600.0, "height": 800.0}

    still = json.loads(show("still.png", "--json"))["info"]
    assert "video" not in still
    assert "pdf" not in still

    rows = [line.split("\t") for line in show("clip.mov").splitlines()]
    assert ["video", f"{video['duration']:g} s, h264, {video['width']}x{video['height']}"] in rows
    rows = [line.split("\t") for line in show("doc.pdf").splitlines()]
    assert ["pdf", "2 pages, 600x800 pt"] in rows


def moving(i: int) -> Image.Image:
    """Video frame ``i``: a bar moves across (WebP merges equal frames)."""
    im = videogen.picture((160, 96))
    ImageDraw.Draw(im).rectangle((i * 3, 0, i * 3 + 6, 95), fill=(255, 255, 255))
    return im


def test_add_animated_gives_animated_webp_of_an_animation_and_a_video(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    imagegen.animated(folder / "party.gif", "GIF")
    videogen.video(folder / "clip.mp4", seconds=4.0, frame=moving)
    imagegen.asymmetric((64, 48)).save(folder / "still.png")
    out = tmp_path / "thumbs"
    added = run_thumbgen("add", str(folder), "--animated", "--wait", "-o", str(out), env=env)
    assert added.returncode == 0, added.stdout + added.stderr
    made = sorted(p.name for p in out.iterdir())
    assert made == ["clip_256x256.webp", "party_256x256.webp", "still_256x256.jpg"]
    with Image.open(out / "party_256x256.webp") as im:
        assert im.n_frames == 3
    with Image.open(out / "clip_256x256.webp") as im:
        assert im.n_frames == 30
    party = json.loads(run_thumbgen("show", str(folder / "party.gif"), "--json", env=env).stdout)
    assert party["info"]["animation"] == {"frames": 3, "duration": 0.3, "loop": 0}
    assert party["planned"][0]["content_types"] == ["image/jpeg", "image/png", "image/webp"]
    shown = run_thumbgen("show", str(folder / "party.gif"), env=env).stdout.splitlines()
    assert "animation\t3 frames, 0.3 s, loops for ever" in shown
