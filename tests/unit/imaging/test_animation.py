"""``--animated``: animated thumbnails keep frames, timing and loop count; videos get a preview.

Every animation is drawn here: frames that cover part of the canvas, with
transparency, odd times on screen and each disposal method, so the output
is only right if every frame was composited as a browser shows it. Each
output frame is compared with Pillow's own composited source frame, shrunk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from support import videogen
from support.thumbs import load, mean_difference, one, opts

from thumbgen.errors import TooManyPixels
from thumbgen.imaging import animation
from thumbgen.options import Format
from thumbgen.thumbnailing import info, make

CANVAS = (120, 80)
#: Odd times on screen (GIF stores hundredths of a second, so tens of ms).
TIMES = [30, 70, 150, 20, 240]
COLOURS = [(220, 30, 30), (30, 200, 60), (40, 60, 230), (240, 200, 20), (150, 40, 170)]


def frame(i: int) -> Image.Image:
    """Frame ``i``: a transparent canvas with one coloured block and a moving bar."""
    im = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    x = 10 + 20 * i
    draw.rectangle((x, 10, x + 30, 60), fill=(*COLOURS[i % len(COLOURS)], 255))
    draw.rectangle((0, 70, 12 * (i + 1), 79), fill=(255, 255, 255, 255))
    return im


def animated(path: Path, fmt: str, count: int = 5, **extra: Any) -> Path:
    frames = [frame(i) for i in range(count)]
    times = [TIMES[i % len(TIMES)] for i in range(count)]
    frames[0].save(
        path, fmt, save_all=True, append_images=frames[1:], duration=times, **extra
    )  # fmt: skip
    return path


def composited(path: Path) -> list[Image.Image]:
    """Pillow's composited frames of ``path``, as RGBA."""
    out = []
    with Image.open(path) as im:
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            out.append(im.convert("RGBA"))
    return out


def on_white(im: Image.Image) -> Image.Image:
    flat = Image.new("RGBA", im.size, (255, 255, 255, 255))
    flat.alpha_composite(im.convert("RGBA"))
    return flat.convert("RGB")


def timing(path: str | Path) -> tuple[int, list[int], Any]:
    with Image.open(path) as im:
        count = im.n_frames
        times = []
        for i in range(count):
            im.seek(i)
            im.load()  # WebP gives a frame's duration once it is read
            times.append(int(im.info["duration"]))
        return count, times, im.info.get("loop")


def moving(i: int) -> Image.Image:
    """Video frame ``i``: a white bar moves across the picture (WebP merges equal frames)."""
    im = videogen.picture((160, 96))
    ImageDraw.Draw(im).rectangle((i * 2, 0, i * 2 + 8, 95), fill=(255, 255, 255))
    return im


SOURCES = [
    ("gif", "GIF", {"loop": 0, "disposal": [1, 2, 0, 1, 2], "transparency": 0}),
    ("webp", "WEBP", {"loop": 3, "lossless": True}),
    ("png", "PNG", {"loop": 2, "disposal": [0, 1, 2, 0, 1], "blend": [0, 1, 1, 0, 1]}),
]


@pytest.mark.parametrize(("ext", "fmt", "extra"), SOURCES)
def test_an_animation_keeps_its_frames_times_and_loop_and_each_frame_is_right(
    tmp_path: Path, ext: str, fmt: str, extra: dict[str, Any]
) -> None:
    src = animated(tmp_path / f"a.{ext}", fmt, **extra)
    made = one(src, opts(tmp_path, ("60",), animated=True))
    assert made.format is Format.WEBP
    assert made.path.endswith(".webp")
    count, times, loop = timing(made.path)
    assert count == 5
    assert times == TIMES
    assert loop == extra["loop"]
    theirs = composited(src)
    with Image.open(made.path) as out:
        for i in range(count):
            out.seek(i)
            ours = out.convert("RGBA")
            expected = theirs[i].resize(ours.size, Image.Resampling.LANCZOS)
            assert mean_difference(on_white(ours), on_white(expected)) < 6, i


def test_format_gif_gives_an_animated_gif(tmp_path: Path) -> None:
    src = animated(tmp_path / "a.webp", "WEBP", loop=0, lossless=True)
    made = one(src, opts(tmp_path, ("60",), animated=True, format="gif"))
    assert made.path.endswith(".gif")
    count, times, loop = timing(made.path)
    assert (count, times, loop) == (5, TIMES, 0)


def test_an_animation_that_plays_once_still_plays_once(tmp_path: Path) -> None:
    src = animated(tmp_path / "a.png", "PNG", count=3)  # no loop given: APNG's 0 is for ever
    with Image.open(src) as im:
        assert im.info.get("loop") == 0
    gif = tmp_path / "once.gif"
    frames = [frame(i).convert("RGB") for i in range(3)]
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=50)
    made = one(gif, opts(tmp_path, ("60",), animated=True))
    assert timing(made.path)[2] == 1  # WebP: played once


def test_an_apngs_default_image_apart_from_the_animation_is_left_out(tmp_path: Path) -> None:
    src = tmp_path / "d.png"
    still = Image.new("RGBA", CANVAS, (0, 0, 0, 255))  # for viewers that do not animate
    frames = [still, frame(0), frame(1), frame(2)]
    frames[0].save(
        src, "PNG", save_all=True, append_images=frames[1:], default_image=True,
        duration=[0, 30, 70, 150], loop=0,
    )  # fmt: skip
    made = one(src, opts(tmp_path, ("60",), animated=True))
    count, _, _ = timing(made.path)
    assert count == 3
    with Image.open(made.path) as out:
        shown = on_white(out.convert("RGBA"))
    expected = on_white(frame(0).resize(shown.size, Image.Resampling.LANCZOS))
    assert mean_difference(shown, expected) < 6


def test_without_the_flag_an_animation_gives_its_first_frame_as_today(tmp_path: Path) -> None:
    src = animated(tmp_path / "a.gif", "GIF", loop=0)
    made = one(src, opts(tmp_path, ("60",)))
    assert made.format in (Format.JPEG, Format.PNG)


def test_a_still_picture_with_the_flag_is_a_still_thumbnail(tmp_path: Path) -> None:
    frame(0).save(tmp_path / "still.png")
    made = one(tmp_path / "still.png", opts(tmp_path, ("60",), animated=True))
    assert made.format is Format.PNG


def test_frames_past_the_cap_are_dropped_evenly_and_the_length_is_kept(tmp_path: Path) -> None:
    count = animation.MAX_FRAMES + 57
    frames = [Image.new("RGB", (16, 16), (i % 256, (7 * i) % 256, 90)) for i in range(count)]
    src = tmp_path / "long.gif"
    frames[0].save(src, "GIF", save_all=True, append_images=frames[1:], duration=30, loop=0)
    made = one(src, opts(tmp_path, ("16",), animated=True))
    out_count, times, _ = timing(made.path)
    assert out_count == animation.MAX_FRAMES
    assert sum(times) == 30 * count
    # Evenly: no frame shows for more than two source frames' time.
    assert set(times) <= {30, 60}
    assert animation.kept(count, animation.MAX_FRAMES)[:3] == [0, 1, 2]


def test_an_output_over_the_byte_cap_drops_frames_until_it_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = [Image.effect_noise((64, 64), 80 + i).convert("RGB") for i in range(16)]
    src = tmp_path / "noise.webp"
    frames[0].save(src, "WEBP", save_all=True, append_images=frames[1:], duration=40, loop=0)
    full = one(src, opts(tmp_path, ("64",), animated=True, quality=90))
    cap = full.bytes // 3
    monkeypatch.setattr(animation, "MAX_BYTES", cap)
    capped = one(src, opts(tmp_path / "c", ("64",), animated=True, quality=90))
    assert capped.bytes <= cap
    count, times, _ = timing(capped.path)
    assert count < 16
    assert sum(times) == 16 * 40


def test_the_memory_budget_counts_every_frame_held(tmp_path: Path) -> None:
    src = animated(tmp_path / "a.gif", "GIF", loop=0)
    options = opts(tmp_path, ("120",), animated=True)
    with pytest.raises(TooManyPixels, match="frames of 120x80"):
        make(str(src), options, max_memory=5 * 120 * 80 * 4)
    assert make(str(src), options, max_memory=10 * 2**20).thumbnails


def test_cover_crops_every_frame_at_one_window(tmp_path: Path) -> None:
    src = animated(tmp_path / "a.gif", "GIF", loop=0)
    made = one(src, opts(tmp_path, ("40x40",), animated=True, fit="cover"))
    assert (made.width, made.height) == (40, 40)
    assert made.crop == (20, 0, 100, 80)


def test_a_video_gives_a_three_second_preview_at_ten_frames_a_second(tmp_path: Path) -> None:
    pytest.importorskip("av")
    src = videogen.video(tmp_path / "clip.mp4", seconds=6.0, frame=moving)
    made = make(str(src), opts(tmp_path, ("80",), animated=True))
    (thumb,) = made.thumbnails
    assert thumb.format is Format.WEBP
    count, times, loop = timing(thumb.path)
    assert count == animation.PREVIEW_SECONDS * animation.PREVIEW_FPS
    assert sum(times) == pytest.approx(3000, abs=20)
    assert loop == 0
    assert made.media["video"]["codec"] == "h264"
    assert info(made, opts(tmp_path, ("80",), animated=True))["video"]["duration"] == 6.0
    # The frames move: the preview is not one picture repeated.
    with Image.open(thumb.path) as out:
        first = out.convert("RGB")
        out.seek(count - 1)
        last = out.convert("RGB")
    assert mean_difference(first, last) > 1


def test_a_video_shorter_than_the_preview_lasts_as_long_as_the_video(tmp_path: Path) -> None:
    pytest.importorskip("av")
    src = videogen.video(tmp_path / "short.mkv", seconds=1.5, frame=moving)
    thumb = one(src, opts(tmp_path, ("80",), animated=True))
    count, times, _ = timing(thumb.path)
    assert count == 15
    assert sum(times) == pytest.approx(1500, abs=20)


def test_a_sideways_video_preview_is_upright(tmp_path: Path) -> None:
    pytest.importorskip("av")
    sideways = videogen.picture((160, 96)).rotate(-90, expand=True)
    src = videogen.video(
        tmp_path / "phone.mov", size=sideways.size, rotation=90, frame=lambda i: sideways
    )
    thumb = one(src, opts(tmp_path, ("160",), animated=True))
    assert (thumb.width, thumb.height) == (160, 96)
    with Image.open(thumb.path) as out:
        picture = out.convert("RGB")
    assert mean_difference(picture, videogen.picture((160, 96))) < 12
    assert load(thumb.path).size == (160, 96)


def test_a_video_preview_starts_at_the_poster_not_at_a_black_first_second(tmp_path: Path) -> None:
    pytest.importorskip("av")
    src = videogen.video(tmp_path / "fade.mp4", seconds=5.0, frame=videogen.black_first_second)
    thumb = one(src, opts(tmp_path, ("80",), animated=True))
    with Image.open(thumb.path) as out:
        first = out.convert("L")
    assert max(first.getextrema()) > 100  # not black: the picture after the first second


def test_an_animated_avif_keeps_its_frames_and_times(tmp_path: Path) -> None:
    src = animated(tmp_path / "a.avif", "AVIF", count=4, loop=0, quality=95)
    made = one(src, opts(tmp_path, ("60",), animated=True))
    count, times, loop = timing(made.path)
    assert (count, times, loop) == (4, TIMES[:4], 0)
    theirs = composited(src)
    with Image.open(made.path) as out:
        out.seek(2)
        ours = out.convert("RGBA")
    expected = theirs[2].resize(ours.size, Image.Resampling.LANCZOS)
    assert mean_difference(on_white(ours), on_white(expected)) < 8
