"""Output options: parsing, validation and the canonical JSON that keys jobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from thumbgen.errors import UsageError
from thumbgen.options import (
    DEFAULT_MAX_PIXELS,
    Fit,
    Format,
    Options,
    Size,
    build_options,
    parse_background,
    parse_crop,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "size", "label"),
    [
        ("256", Size(256, 256), "256x256"),
        ("320x240", Size(320, 240), "320x240"),
        ("320X240", Size(320, 240), "320x240"),
        (" 320 x 240 ", Size(320, 240), "320x240"),
        ("320x", Size(320, None), "320x"),
        ("x240", Size(None, 240), "x240"),
        ("16384", Size(16384, 16384), "16384x16384"),
    ],
)
def test_parse_size(text: str, size: Size, label: str) -> None:
    assert parse_size(text) == size
    assert parse_size(text).label == label


@pytest.mark.parametrize("text", ["", "x", "0", "16385", "abc", "256x256x", "-5", "3.5", "256 240"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="Invalid size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "crop"),
    [
        ("center", "center"),
        ("Centre", "center"),
        ("entropy", "entropy"),
        ("0.5,0.3", (0.5, 0.3)),
        ("0,1", (0.0, 1.0)),
    ],
)
def test_parse_crop(text: str, crop: object) -> None:
    assert parse_crop(text) == crop


@pytest.mark.parametrize(
    "text", ["middle", "0.5", "1.5,0.5", "0.5,-0.1", "nan,nan", "a,b", "0.1,0.2,0.3"]
)
def test_parse_crop_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="crop"):
        parse_crop(text)


@pytest.mark.parametrize(
    ("text", "rgba"),
    [
        ("white", (255, 255, 255, 255)),
        ("#102030", (16, 32, 48, 255)),
        ("#10203040", (16, 32, 48, 64)),
        ("transparent", (0, 0, 0, 0)),
    ],
)
def test_parse_background(text: str, rgba: tuple[int, int, int, int]) -> None:
    assert parse_background(text) == rgba


def test_parse_background_rejects_unknown_colour() -> None:
    with pytest.raises(UsageError, match="background"):
        parse_background("blurple")


def test_build_options_defaults(tmp_path: Path) -> None:
    opts = build_options(out_dir=tmp_path)
    (spec,) = opts.specs
    assert spec.size == Size(256, 256)
    assert (spec.fit, spec.crop, spec.format, spec.quality) == (
        Fit.CONTAIN,
        "center",
        Format.AUTO,
        85,
    )
    assert spec.upscale is False
    assert spec.background == (255, 255, 255, 255)
    assert opts.max_pixels == DEFAULT_MAX_PIXELS
    assert opts.name == "{dir}/{stem}_{size}.{ext}"


def test_out_dir_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A job queued here must write to the same folder from a worker started elsewhere.
    monkeypatch.chdir(tmp_path)
    assert build_options(out_dir="thumbs").out_dir == os.path.join(str(tmp_path), "thumbs")


def test_one_spec_per_distinct_size() -> None:
    opts = build_options(["256", "256x256", "320x", "320x"], out_dir="o")
    assert [s.size for s in opts.specs] == [Size(256, 256), Size(320, None)]


def test_a_single_size_string_is_one_size() -> None:
    # A str is a Sequence too; "320x240" must not become "3", "2", "0"...
    assert [s.size for s in build_options("320x240", out_dir="o").specs] == [Size(320, 240)]


def test_jpg_is_accepted_for_jpeg() -> None:
    assert build_options(format="JPG", out_dir="o").specs[0].format is Format.JPEG


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"fit": "stretch"}, "Invalid fit 'stretch': choose one of contain, cover, pad, fill"),
        ({"format": "gif"}, "Invalid format 'gif'"),
        ({"quality": 0}, "Invalid quality 0"),
        ({"quality": 101}, "Invalid quality 101"),
        ({"max_pixels": 0}, "Invalid max-pixels 0"),
        ({"name": "{stem}.{bogus}"}, "unknown placeholder {bogus}"),
        ({"sizes": ["256", "abc"]}, "Invalid size 'abc'"),
    ],
)
def test_build_options_rejects(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(UsageError) as info:
        build_options(out_dir="o", **kwargs)  # type: ignore[arg-type]
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["{stem}.{ext}", "{dir}/{stem}_{width}.{ext}"])
def test_several_sizes_need_a_name_that_tells_them_apart(name: str) -> None:
    with pytest.raises(UsageError, match="several sizes"):
        build_options(["256", "512"], name=name, out_dir="o")


@pytest.mark.parametrize("name", ["{stem}_{size}.{ext}", "{stem}_{width}x{height}.{ext}"])
def test_several_sizes_with_distinguishing_names(name: str) -> None:
    assert len(build_options(["256", "512"], name=name, out_dir="o").specs) == 2


def test_one_size_needs_no_size_in_the_name() -> None:
    assert build_options(["256"], name="{stem}.{ext}", out_dir="o").name == "{stem}.{ext}"


def _rich_options() -> Options:
    return build_options(
        ["320x240", "x100"],
        fit="cover",
        crop="0.25,0.75",
        format="webp",
        quality=60,
        out_dir="/tmp/out",
        name="{dir}/{name}-{size}.{ext}",
        upscale=True,
        background="#11223344",
        max_pixels=1234,
    )


def test_json_round_trip() -> None:
    opts = _rich_options()
    again = Options.from_json(opts.to_json())
    assert again == opts
    assert again.to_json() == opts.to_json()


def test_digest_is_stable_and_follows_every_setting() -> None:
    opts = _rich_options()
    assert opts.digest == Options.from_json(opts.to_json()).digest
    assert len(opts.digest) == 16
    digests = {
        build_options(out_dir="/tmp/out").digest,
        build_options(out_dir="/tmp/out", quality=84).digest,
        build_options(out_dir="/tmp/out", fit="pad").digest,
        build_options(out_dir="/tmp/out", background="black").digest,
        build_options(out_dir="/tmp/other").digest,
        opts.digest,
    }
    assert len(digests) == 6


def test_cache_control_travels_with_the_job_and_leaves_older_digests_alone() -> None:
    plain = build_options(["64"], out_dir="/out")
    assert "cache_control" not in plain.to_json()  # jobs queued before it keep their identity
    cached = build_options(["64"], out_dir="/out", cache_control=" public, max-age=60 ")
    assert cached.cache_control == "public, max-age=60"
    assert Options.from_json(cached.to_json()) == cached
    assert Options.from_json(plain.to_json()) == plain
    assert cached.digest != plain.digest


@pytest.mark.parametrize("value", ["", "  ", "max-age=60\nX-Evil: 1", "max-age=é"])
def test_a_cache_control_that_is_not_one_ascii_line_is_refused(value: str) -> None:
    with pytest.raises(UsageError, match=r"^Invalid cache-control"):
        build_options(["64"], out_dir="/out", cache_control=value)
