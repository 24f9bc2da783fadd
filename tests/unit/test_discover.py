"""Discovery of sources: folders, globs, hidden and special files, loops, duplicates."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PIL import Image
from support.imagegen import write_jpegs

from thumbgen.commands.discovery import Skipped, Source, common_root, discover
from thumbgen.imaging import formats


def _sources(paths: list[str], exclude: list[str] | None = None) -> list[Source]:
    return [i for i in discover(paths, exclude=exclude or []) if isinstance(i, Source)]


def _skipped(paths: list[str]) -> list[Skipped]:
    return [i for i in discover(paths) if isinstance(i, Skipped)]


def test_folders_are_searched_recursively_with_dir_relative_to_them(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "photos", 1)
    write_jpegs(tmp_path / "photos" / "2024" / "may", 1)
    found = _sources([str(tmp_path / "photos")])
    assert [(Path(s.path).name, s.rel_dir) for s in found] == [
        ("img0000.jpg", ""),
        ("img0000.jpg", os.path.join("2024", "may")),
    ]
    assert found[0].size == (tmp_path / "photos" / "img0000.jpg").stat().st_size


def test_several_paths_share_their_common_parent_as_root(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "a", 1)
    write_jpegs(tmp_path / "b", 1)
    found = _sources([str(tmp_path / "a"), str(tmp_path / "b")])
    assert [s.rel_dir for s in found] == ["a", "b"]


def test_common_root_of_a_single_file_is_its_folder(tmp_path: Path) -> None:
    (photo,) = write_jpegs(tmp_path, 1)
    assert common_root([str(photo)]) == str(tmp_path)
    assert common_root([str(tmp_path / "x" / "**" / "*.jpg")]) == str(tmp_path / "x")


def test_hidden_entries_are_left_out(tmp_path: Path) -> None:
    write_jpegs(tmp_path, 1)
    write_jpegs(tmp_path / ".cache", 1)
    write_jpegs(tmp_path, 1, prefix=".hidden")
    assert [Path(s.path).name for s in _sources([str(tmp_path)])] == ["img0000.jpg"]


def test_non_images_are_skipped_with_a_reason_by_content_not_name(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("shopping list")
    (tmp_path / "empty.png").write_bytes(b"")
    Image.new("RGB", (8, 8)).save(tmp_path / "really-a-png.jpg", format="PNG")
    assert [Path(s.path).name for s in _sources([str(tmp_path)])] == ["really-a-png.jpg"]
    reasons = {Path(s.path).name: s.reason for s in _skipped([str(tmp_path)])}
    assert reasons == {
        "empty.png": "empty file",
        "notes.jpg": "not an image (unrecognised content)",
    }


def test_a_format_without_its_package_is_named_in_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sys.modules[name] = None: the import system's "not installed".
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    formats.importable.cache_clear()
    try:
        (tmp_path / "phone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(16))
        (skip,) = _skipped([str(tmp_path)])
    finally:
        monkeypatch.undo()
        formats.importable.cache_clear()
    assert skip.reason == (
        "HEIC/HEIF needs pillow-heif, a dependency of thumbgen-cli that is missing: "
        "reinstall thumbgen-cli"
    )


def test_fifos_and_other_special_files_are_skipped(tmp_path: Path) -> None:
    write_jpegs(tmp_path, 1)
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # reading it would block forever
    assert [Path(s.path).name for s in _sources([str(tmp_path)])] == ["img0000.jpg"]
    assert _skipped([str(fifo)]) == [Skipped(str(fifo), "not a regular file")]


def test_special_files_in_a_folder_are_skipped_with_their_reason(tmp_path: Path) -> None:
    import socket

    write_jpegs(tmp_path / "d", 1)
    os.mkfifo(tmp_path / "d" / "pipe.jpg")
    (tmp_path / "d" / "to-pipe.jpg").symlink_to(tmp_path / "d" / "pipe.jpg")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "d" / "sock"))
        skipped = _skipped([str(tmp_path / "d")])
    assert sorted((Path(s.path).name, s.reason) for s in skipped) == [
        ("pipe.jpg", "not a regular file (a FIFO)"),
        ("sock", "not a regular file (a socket)"),
        ("to-pipe.jpg", "not a regular file (a FIFO)"),
    ]
    assert [Path(s.path).name for s in _sources([str(tmp_path / "d")])] == ["img0000.jpg"]


def test_a_symlink_leading_out_of_the_folder_is_skipped_not_followed(tmp_path: Path) -> None:
    write_jpegs(tmp_path, 1, prefix="outside")
    write_jpegs(tmp_path / "photos", 1)
    (tmp_path / "photos" / "up").symlink_to("..")
    (tmp_path / "photos" / "pic.jpg").symlink_to(tmp_path / "outside0000.jpg")
    (tmp_path / "photos" / "same.jpg").symlink_to("img0000.jpg")  # inside: followed
    found = _sources([str(tmp_path / "photos")])
    assert sorted(Path(s.path).name for s in found) == ["img0000.jpg", "same.jpg"]
    assert sorted((Path(s.path).name, s.reason) for s in _skipped([str(tmp_path / "photos")])) == [
        ("pic.jpg", f"a symlink leading out of the folder added (to {tmp_path}/outside0000.jpg)"),
        ("up", f"a symlink leading out of the folder added (to {tmp_path})"),
    ]


def test_symlink_loops_are_walked_once(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "a", 1)
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "a" / "up").symlink_to(tmp_path)
    found = _sources([str(tmp_path)])
    assert [Path(s.path).name for s in found] == ["img0000.jpg"]


def test_the_output_folder_is_never_a_source(tmp_path: Path) -> None:
    write_jpegs(tmp_path, 1)
    write_jpegs(tmp_path / "thumbnails", 2)
    found = _sources([str(tmp_path)], exclude=[str(tmp_path / "thumbnails")])
    assert [Path(s.path).parent for s in found] == [tmp_path]


def test_quoted_globs_are_expanded_including_double_star(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "x", 1)
    write_jpegs(tmp_path / "x" / "deep" / "er", 1, prefix="deep")
    (tmp_path / "x" / "readme.txt").write_text("hi")
    found = _sources([str(tmp_path / "x" / "**" / "*.jpg")])
    assert sorted((Path(s.path).name, s.rel_dir) for s in found) == [
        ("deep0000.jpg", os.path.join("deep", "er")),
        ("img0000.jpg", ""),
    ]


def test_the_same_file_given_twice_is_found_once(tmp_path: Path) -> None:
    (photo,) = write_jpegs(tmp_path, 1)
    twice = [str(photo), str(tmp_path / "." / photo.name), str(tmp_path)]
    assert len(_sources(twice)) == 1


@pytest.mark.parametrize(
    ("arg", "reason"),
    [("nothing-here.jpg", "no such file or folder"), ("*.nope", "no file matches this pattern")],
)
def test_missing_paths_are_reported_as_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arg: str, reason: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _skipped([arg]) == [Skipped(arg, reason, missing=True)]
