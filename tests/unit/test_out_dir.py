"""``--out`` is checked before anything is queued: can it be made, without a race between checks.

The server checks the output folder for every upload, on its threads at once;
a brand-new folder's probe made by one thread was another thread's "File
exists", and the upload answered 500 (seen in the dashboard test on Redis,
where uploads are not serialised).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from thumbgen.commands.adding import check_out_dir
from thumbgen.errors import OutputError, ThumbgenError, UsageError


def test_checks_at_once_of_a_new_folder_all_pass_and_leave_nothing(tmp_path: Path) -> None:
    failures: list[str] = []
    for round_ in range(50):
        base = tmp_path / f"r{round_}"
        base.mkdir()
        out = str(base / "a" / "b" / "thumbs")
        start = threading.Barrier(6)

        def check(out: str = out, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                check_out_dir(out)
            except ThumbgenError as exc:
                failures.append(str(exc))

        threads = [threading.Thread(target=check) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert list(base.iterdir()) == []  # the check made and removed its own folder only
    assert failures == []


def test_a_folder_that_cannot_be_made_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"^Cannot write thumbnails to /proc/thumbs: "):
        check_out_dir("/proc/thumbs")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        check_out_dir(str(tmp_path / "file" / "thumbs"))
