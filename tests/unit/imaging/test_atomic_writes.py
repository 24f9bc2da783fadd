"""Atomic writes: no reader ever sees a partial thumbnail; output errors are told apart."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from pathlib import Path

import pytest
from PIL import Image
from support import imagegen
from support.thumbs import files_under, load, one, opts, rgb_at, slow_to_encode

from thumbgen.errors import ClaimLost, OutputError, ThumbgenError, TransientError
from thumbgen.options import build_options
from thumbgen.storage.local import output_error
from thumbgen.thumbnailing import make, make_thumbnails


@pytest.mark.usefixtures("umask_022", "temp_files")
def test_thumbnails_get_ordinary_permissions(tmp_path: Path) -> None:
    # Temporary files are private (0600) by default; a thumbnail must not be.
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    thumb = one(tmp_path / "a.png", opts(tmp_path, ("64",)))
    assert os.stat(thumb.path).st_mode & 0o777 == 0o644


@pytest.mark.usefixtures("temp_files")
def test_rewrite_replaces_the_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    first = one(tmp_path / "a.png", opts(tmp_path, ("64",)))
    inode = os.stat(first.path).st_ino
    Image.new("RGB", (120, 80), (0, 0, 0)).save(tmp_path / "a.png")
    second = one(tmp_path / "a.png", opts(tmp_path, ("64",)))
    assert second.path == first.path
    assert os.stat(second.path).st_ino != inode  # a new file moved in, not rewritten in place
    assert rgb_at(load(second.path), 0.5, 0.5) == (0, 0, 0)
    assert files_under(tmp_path / "out") == ["a_64x64.jpg"]


def test_nothing_partial_is_ever_visible(tmp_path: Path) -> None:
    # Watch the output folder while a slow thumbnail is written: the only name
    # that may ever appear is the finished thumbnail's.
    src = slow_to_encode(tmp_path)
    options = opts(tmp_path, ("2048",), upscale=True, format="webp")
    out = tmp_path / "out"
    worker = threading.Thread(target=make_thumbnails, args=(str(src), options))
    seen: set[str] = set()
    worker.start()
    while worker.is_alive():  # the encoder releases the GIL, so this keeps polling
        with contextlib.suppress(FileNotFoundError):
            seen.update(os.listdir(out))
    worker.join()
    seen.update(os.listdir(out))
    assert seen == {"n_2048x2048.webp"}


def test_unwritable_output_is_a_clear_permanent_error(tmp_path: Path) -> None:
    imagegen.asymmetric((120, 80)).save(tmp_path / "a.png")
    (tmp_path / "blocker").write_text("a file where the output folder should be")
    options = build_options(["64"], out_dir=tmp_path / "blocker" / "out")
    with pytest.raises(OutputError) as info:
        make_thumbnails(str(tmp_path / "a.png"), options)
    message = str(info.value)
    assert message.startswith(f"Cannot write {tmp_path / 'blocker' / 'out' / 'a_64x64.jpg'}: ")
    assert "check --out" in message
    assert not info.value.transient


@pytest.mark.parametrize(
    ("err", "kind", "transient"),
    [
        (errno.ENOSPC, TransientError, True),
        (errno.EIO, TransientError, True),
        (errno.EACCES, OutputError, False),
        (errno.EROFS, OutputError, False),
    ],
)
def test_output_errors_are_told_apart(err: int, kind: type[ThumbgenError], transient: bool) -> None:
    exc = output_error("/out/a.jpg", OSError(err, os.strerror(err)))
    assert type(exc) is kind
    assert isinstance(exc, ThumbgenError)
    assert exc.transient is transient
    assert "/out/a.jpg" in str(exc)


def test_a_lapsed_claim_stores_nothing_and_says_why(tmp_path: Path) -> None:
    # Asked once everything is encoded: a worker whose job went to another
    # worker meanwhile must not store over that worker's thumbnails.
    src = tmp_path / "p.jpg"
    imagegen.asymmetric((120, 80)).save(src)
    asked: list[bool] = []

    def held() -> bool:
        asked.append(True)
        return False

    with pytest.raises(ClaimLost, match=r"p\.jpg: its claim lapsed .*; nothing stored"):
        make(str(src), opts(tmp_path, ("64", "32")), still_held=held)
    assert asked == [True]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    made = make(str(src), opts(tmp_path, ("64", "32")), still_held=lambda: True)
    assert len(made.thumbnails) == 2
