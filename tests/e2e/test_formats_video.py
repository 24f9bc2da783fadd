"""Video poster frames against Debian's ffmpeg: the same frame, turned and scaled the same way.

``ffmpeg -ss T -i F -frames:v 1`` (another FFmpeg build than the one in
PyAV's wheels) gives the reference: it applies the display matrix and the
sample aspect ratio itself. Each video is made by PyAV in the test.
"""

from __future__ import annotations

import fractions
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from support import videogen
from support.thumbs import load, mean_difference, one, opts

pytest.importorskip("av")

FFMPEG = "ffmpeg"


def reference(src: Path, at: float, size: tuple[int, int], tmp_path: Path) -> Image.Image:
    """Debian's ffmpeg frame at ``at`` seconds, scaled to ``size`` (it applies rotation and SAR)."""
    if shutil.which(FFMPEG) is None:
        pytest.fail("ffmpeg is missing (apt-get install -y ffmpeg, as .ci/run does)")
    out = tmp_path / "ref.png"
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-ss", str(at), "-i", str(src), "-frames:v", "1",
         "-vf", f"scale={size[0]}:{size[1]}:flags=lanczos,setsar=1", str(out)],
        check=True,
    )  # fmt: skip
    return load(out)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("plain.mp4", {}),
        ("rotated.mp4", {"rotation": 90}),
        ("rotated.mov", {"rotation": 270, "container": "mov"}),
        ("upside-down.mkv", {"rotation": 180}),
        ("anamorphic.mkv", {"sar": fractions.Fraction(4, 3)}),
        ("vp9.webm", {"codec": "libvpx-vp9"}),
        ("ten-bit.mkv", {"codec": "libx265", "pix_fmt": "yuv420p10le"}),
        ("mpeg4.avi", {"codec": "mpeg4"}),
    ],
)
def test_the_poster_frame_matches_ffmpegs_frame(
    tmp_path: Path, name: str, kwargs: dict[str, object]
) -> None:
    src = videogen.video(tmp_path / name, size=(192, 108), **kwargs)  # type: ignore[arg-type]
    made = one(src, opts(tmp_path, ("128",), format="png"))
    ours = load(made.path)
    theirs = reference(src, 0, ours.size, tmp_path)
    assert mean_difference(ours, theirs) < 3


def test_the_poster_after_a_black_second_is_ffmpegs_frame_at_one_second(tmp_path: Path) -> None:
    def frame(i: int) -> Image.Image:
        return videogen.black_first_second(i, (192, 108))

    src = videogen.video(tmp_path / "b.mp4", size=(192, 108), frame=frame)
    ours = load(one(src, opts(tmp_path, ("128",), format="png")).path)
    theirs = reference(src, 1.0, ours.size, tmp_path)
    assert mean_difference(ours, theirs) < 3
