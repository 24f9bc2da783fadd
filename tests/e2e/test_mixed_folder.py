"""Acceptance of issue 24: a folder as a phone or a shared drive fills it.

Photos, videos (one sideways, one black for its first second), PDFs and
animations side by side, with a damaged video and a password-protected PDF
among them: ``thumbgen add DIR --wait`` in a real process gives every file a
thumbnail or a one-line reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import imagegen, pdfgen, videogen
from support.procs import run_thumbgen

pytest.importorskip("av")
pytest.importorskip("pypdfium2")


def test_every_file_of_a_mixed_folder_gets_a_thumbnail_or_a_reason(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "camera"
    folder.mkdir()
    imagegen.photo_jpeg(folder / "IMG_0001.JPG", (640, 480))
    imagegen.asymmetric((300, 200)).save(folder / "screenshot.png")
    sideways = videogen.picture((160, 96)).rotate(-90, expand=True)
    videogen.video(
        folder / "IMG_0002.MOV", size=sideways.size, rotation=90, frame=lambda i: sideways
    )
    videogen.video(folder / "clip.mp4", frame=videogen.black_first_second)
    videogen.video(folder / "screen.webm", codec="libvpx-vp9")
    whole = videogen.video(tmp_path / "whole.mp4")
    videogen.truncated(whole, folder / "broken.mp4", 0.4)
    pdfgen.pdf(folder / "invoice.pdf", [imagegen.asymmetric((600, 800))])
    pdfgen.encrypted(folder / "secret.pdf")
    imagegen.animated(folder / "party.gif", "GIF")
    imagegen.animated(folder / "sticker.webp", "WEBP")
    imagegen.animated(folder / "spinner.png", "PNG")
    out = tmp_path / "thumbs"

    result = run_thumbgen("add", str(folder), "--wait", "-w", "2", "-o", str(out), env=env)
    assert result.returncode == 3, result.stdout + result.stderr  # some failed
    output = result.stdout + result.stderr
    assert "11 queued" in output
    assert "9 done, 2 failed" in output

    made = sorted(p.name for p in out.rglob("*") if p.is_file())
    stems = ["IMG_0001", "screenshot", "IMG_0002", "clip", "screen", "invoice"]
    stems += ["party", "sticker", "spinner"]
    assert made == sorted(f"{stem}_256x256.jpg" for stem in stems)

    jobs = json.loads(run_thumbgen("jobs", "--state", "failed", "--json", env=env).stdout)
    reasons = {Path(j["source"]).name: j["error"] for j in jobs}
    assert set(reasons) == {"broken.mp4", "secret.pdf"}
    assert all("\n" not in r for r in reasons.values())
    assert "Corrupt image" in reasons["broken.mp4"]
    assert "unsupported: a PDF protected by a password" in reasons["secret.pdf"]
