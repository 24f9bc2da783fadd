"""Videos: sniffed by content, a poster frame worth looking at, upright, one line when damaged.

Every video is encoded here by PyAV itself (:mod:`support.videogen`) from a
picture whose quadrants tell which way up it is.
"""

from __future__ import annotations

import fractions
from pathlib import Path

import pytest
from PIL import Image
from support import imagegen, videogen
from support.thumbs import UPRIGHT, close, load, mean_difference, one, opts, rgb_at, sniff_file

from thumbgen.errors import CorruptImage, TooManyPixels, UnsupportedImage
from thumbgen.imaging import video
from thumbgen.imaging.sniff import NotImage
from thumbgen.thumbnailing import make, make_thumbnails

pytest.importorskip("av")

SIZE = (160, 96)
PICTURE = videogen.picture(SIZE)


def thumb(src: Path, tmp_path: Path, size: str = "160") -> Image.Image:
    return load(one(src, opts(tmp_path, (size,), format="png")).path)


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("a.mp4", {}, "MP4"),
        ("a.mov", {"container": "mov"}, "MP4"),
        ("a.3gp", {"container": "3gp", "codec": "mpeg4"}, "MP4"),
        ("a.mkv", {}, "MKV"),
        ("a.webm", {"codec": "libvpx-vp9"}, "MKV"),
        ("a.avi", {"codec": "mpeg4"}, "AVI"),
    ],
)
def test_every_container_is_told_by_content_and_gives_the_picture(
    tmp_path: Path, name: str, kwargs: dict[str, object], expected: str
) -> None:
    src = videogen.video(tmp_path / name, **kwargs)  # type: ignore[arg-type]
    renamed = src.rename(tmp_path / "misnamed.jpg")
    assert sniff_file(str(renamed)) == expected
    out = thumb(renamed, tmp_path)
    assert out.size == SIZE
    assert imagegen.quadrants(out) == UPRIGHT
    assert mean_difference(out, PICTURE) < 6


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_the_display_matrix_turns_a_sideways_video_upright(tmp_path: Path, rotation: int) -> None:
    # Stored turned back by the rotation, as a phone stores portrait video.
    stored = PICTURE.rotate(-rotation, expand=True)
    src = videogen.video(
        tmp_path / "r.mp4", size=stored.size, rotation=rotation, frame=lambda i: stored
    )
    out = thumb(src, tmp_path)
    assert out.size == SIZE
    assert imagegen.quadrants(out) == UPRIGHT


def test_the_sample_aspect_ratio_stretches_the_picture(tmp_path: Path) -> None:
    # Anamorphic: stored at half width, shown twice as wide.
    narrow = PICTURE.resize((80, 96))
    src = videogen.video(
        tmp_path / "s.mkv", size=(80, 96), sar=fractions.Fraction(2, 1), frame=lambda i: narrow
    )
    out = thumb(src, tmp_path)
    assert out.size == SIZE
    assert imagegen.quadrants(out) == UPRIGHT


def test_a_black_first_second_is_passed_over(tmp_path: Path) -> None:
    src = videogen.video(tmp_path / "b.mp4", frame=videogen.black_first_second)
    out = thumb(src, tmp_path)
    assert video.contrast(out) >= video.GOOD_CONTRAST
    assert mean_difference(out, PICTURE) < 6


def test_a_fade_in_gives_the_keyframe_with_the_most_contrast(tmp_path: Path) -> None:
    # Faded throughout: no keyframe is good enough, the clearest one wins.
    def faded(i: int) -> Image.Image:
        return Image.blend(Image.new("RGB", SIZE), PICTURE, min(1.0, i / 60) * 0.25)

    src = videogen.video(tmp_path / "f.mp4", seconds=5, frame=faded)
    out = thumb(src, tmp_path)
    expected = faded(40)  # the keyframe at 4 s
    assert mean_difference(out, expected) < 4


def test_a_video_of_only_black_still_gets_a_thumbnail(tmp_path: Path) -> None:
    src = videogen.video(tmp_path / "k.mp4", frame=lambda i: Image.new("RGB", SIZE))
    out = thumb(src, tmp_path)
    assert max(high for _, high in out.getextrema()) <= 4


def test_ten_bit_video_is_read(tmp_path: Path) -> None:
    src = videogen.video(tmp_path / "t.mkv", codec="libx265", pix_fmt="yuv420p10le")
    out = thumb(src, tmp_path)
    assert imagegen.quadrants(out) == UPRIGHT
    assert mean_difference(out, PICTURE) < 6


def test_a_pq_video_is_tone_mapped_not_washed_out(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    # The picture coded as HDR10 would code it: sRGB light at SDR white
    # (203 cd/m2), BT.2020 primaries, PQ signal levels.
    srgb = np.asarray(PICTURE, np.float32) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    to2020 = np.array(
        [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]],
        np.float32,
    )
    nits = np.tensordot(linear, to2020, axes=([2], [1])) * 203.0 / 10000.0
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    pq = ((c1 + c2 * nits**m1) / (1 + c3 * nits**m1)) ** m2
    coded = Image.fromarray(np.round(pq * 255).astype(np.uint8), "RGB")
    hdr = {"color_primaries": 9, "color_trc": 16, "colorspace": 9}
    src = videogen.video(
        tmp_path / "h.mkv",
        codec="libx265",
        pix_fmt="yuv420p10le",
        frame=lambda i: coded,
        colour=hdr,
    )
    out = thumb(src, tmp_path)
    # Shown as SDR without tone mapping it would be the washed-out ``coded``.
    # (What is left: 8-bit PQ steps and the roll-off of the white square.)
    assert mean_difference(out, PICTURE) < 12
    assert mean_difference(out, PICTURE) < mean_difference(coded, PICTURE) / 4


def test_an_hlg_video_is_tone_mapped_not_washed_out(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    # The picture coded as an HLG camera would: scene light chosen so that
    # BT.2100's reference OOTF on a 1000 cd/m2 display shows sRGB light at
    # BT.2408's SDR white (203 cd/m2), BT.2020 primaries, the HLG OETF.
    srgb = np.asarray(PICTURE, np.float64) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    to2020 = np.array(
        [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]]
    )
    display = np.tensordot(linear, to2020, axes=([2], [1]))  # relative to SDR white
    luma = np.maximum(display @ np.array([0.2627, 0.6780, 0.0593]), 1e-6)
    # Fd = 1000 * Ys^0.2 * E = 203 * display, with Ys = k * luma and E = k * display.
    k = (0.203 / luma**0.2) ** (1 / 1.2)
    scene = np.clip(display * k[..., None], 0, 1)
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    hlg = np.where(
        scene <= 1 / 12, np.sqrt(3 * scene), a * np.log(np.maximum(12 * scene - b, 1e-9)) + c
    )
    coded = Image.fromarray(np.round(hlg * 255).astype(np.uint8), "RGB")
    src = videogen.video(
        tmp_path / "hlg.mkv",
        codec="libx265",
        pix_fmt="yuv420p10le",
        frame=lambda i: coded,
        colour={"color_primaries": 9, "color_trc": 18, "colorspace": 9},
    )
    out = thumb(src, tmp_path)
    # Shown as SDR without tone mapping it would be the washed-out ``coded``
    # (33.4 from the picture); tone-mapped it is 13.8, a little less saturated
    # than the picture (green 165 for 180), where the PQ test gets under 12.
    assert mean_difference(out, PICTURE) < 15
    assert mean_difference(out, PICTURE) < mean_difference(coded, PICTURE) / 2
    assert close(rgb_at(out, 0.25, 0.25), rgb_at(PICTURE, 0.25, 0.25), 30)  # red stays red


def test_a_truncated_video_fails_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    src = videogen.video(tmp_path / "v.mp4", seconds=3)
    for keep in (0.05, 0.5, 0.95):
        cut = videogen.truncated(src, tmp_path / f"cut{keep}.mp4", keep)
        with pytest.raises(CorruptImage) as caught:
            make_thumbnails(str(cut), opts(tmp_path))
        assert "\n" not in str(caught.value)
        assert str(cut) in str(caught.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_garbled_video_fails_in_one_line(tmp_path: Path) -> None:
    src = videogen.video(tmp_path / "v.mp4", seconds=3, faststart=True)
    for start in (0.01, 0.05, 0.3):
        bad = videogen.garbled(src, tmp_path / f"g{start}.mp4", start, length=1 << 20)
        with pytest.raises(CorruptImage) as caught:
            make_thumbnails(str(bad), opts(tmp_path))
        assert "\n" not in str(caught.value)


def test_a_file_with_sound_only_is_unsupported_not_corrupt(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    import av

    path = tmp_path / "a.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 8000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(UnsupportedImage, match="unsupported: a video file with no video"):
        make_thumbnails(str(path), opts(tmp_path))


def test_max_pixels_and_the_memory_budget_come_from_the_header(tmp_path: Path) -> None:
    src = videogen.video(tmp_path / "v.mp4", size=(320, 192), seconds=1)
    with pytest.raises(TooManyPixels, match="320x192"):
        make_thumbnails(str(src), opts(tmp_path, max_pixels=320 * 191))
    with pytest.raises(TooManyPixels, match="over the 1 MiB budget"):
        make(str(src), opts(tmp_path), max_memory=1 << 20)
    assert make(str(src), opts(tmp_path), max_memory=64 << 20).thumbnails


def test_without_the_video_extra_a_video_is_named_with_its_extra(
    tmp_path: Path, without_module: object
) -> None:
    src = videogen.video(tmp_path / "v.mp4", seconds=1)
    without_module("av")  # type: ignore[operator]
    with pytest.raises(NotImage, match="video extra"):
        sniff_file(str(src))
