"""The settle map, replaying the event sequences watchdog 7.1 sends (notes/watch.md 1.2)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from thumbgen.watch.settle import STALLED_WRITER_SECONDS, Settler, is_candidate


@dataclass
class FakeFile:
    size: int
    mtime: float


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class World:
    """A fake file system and clock the settler reads through its injected hooks."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.files: dict[str, FakeFile] = {}
        self.settler = Settler(
            quiet=2.0, quick=0.3, clock=self.clock, wall=self.clock, stat=self.stat
        )

    def stat(self, path: str) -> os.stat_result:
        f = self.files.get(path)
        if f is None:
            raise FileNotFoundError(path)
        # st_mode, ino, dev, nlink, uid, gid, size, atime, mtime, ctime (+ ns fields)
        return os.stat_result(
            (0o100644, 1, 1, 1, 0, 0, f.size, 0, int(f.mtime), 0),
            {"st_mtime_ns": int(f.mtime * 1e9)},
        )

    def write(self, path: str, size: int) -> None:
        self.files[path] = FakeFile(size, self.clock.now)

    def advance(self, seconds: float) -> list[str]:
        """Move time forward in small steps, collecting what becomes ready."""
        ready: list[str] = []
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.clock.now = min(end, self.clock.now + 0.1)
            ready += self.settler.ready()
        return ready


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", True),
        ("PHOTO.JPEG", True),
        ("scan.tiff", True),
        (".photo.jpg", False),  # hidden; also rsync's .photo.jpg.XXXXXX
        ("photo.jpg.part", False),
        ("photo.jpg.crdownload", False),
        ("photo.jpg~", False),
        ("photo.jpg.tmp", False),
        ("notes.txt", False),
        ("album.download/photo.jpg", False),  # Safari's bundle
        (".git/objects/x.png", False),
    ],
)
def test_candidates_are_chosen_by_name(name: str, expected: bool) -> None:
    assert is_candidate(os.path.join("/inbox", name)) is expected


def test_cp_created_modified_closed_is_ready_once_stable() -> None:
    w = World()
    w.settler.created("/in/a.jpg")
    w.write("/in/a.jpg", 100)
    w.settler.modified("/in/a.jpg", closes_reported=True)
    w.settler.closed("/in/a.jpg")
    assert w.advance(0.2) == []
    assert w.advance(1.0) == ["/in/a.jpg"]
    assert w.advance(5.0) == []  # handed over once


def test_a_writer_that_pauses_longer_than_the_quiet_time_is_waited_for() -> None:
    w = World()
    w.settler.created("/in/slow.jpg")
    for chunk in range(1, 5):
        w.write("/in/slow.jpg", chunk * 100)
        w.settler.modified("/in/slow.jpg", closes_reported=True)
        assert w.advance(3.0) == [], f"queued after chunk {chunk} while still open"
    w.settler.closed("/in/slow.jpg")
    assert w.advance(1.0) == ["/in/slow.jpg"]


def test_without_close_events_a_quiet_stable_file_is_ready() -> None:
    w = World()  # polling observer: created then modified, never closed
    w.settler.created("/in/p.jpg")
    w.write("/in/p.jpg", 50)
    w.settler.modified("/in/p.jpg", closes_reported=False)
    assert w.advance(1.9) == []
    assert w.advance(1.0) == ["/in/p.jpg"]


def test_a_file_growing_without_events_is_not_ready_until_it_stops() -> None:
    w = World()
    w.settler.created("/in/g.jpg")
    for size in (10, 20, 30, 40):
        w.write("/in/g.jpg", size)
        assert w.advance(0.5) == []
    assert w.advance(3.0) == ["/in/g.jpg"]


def test_a_moved_in_file_with_only_created_is_ready_after_quiet_time() -> None:
    w = World()
    w.files["/in/m.jpg"] = FakeFile(500, w.clock.now - 3600)  # mv keeps the old mtime
    w.settler.created("/in/m.jpg")
    assert w.advance(1.9) == []
    assert w.advance(0.3) == ["/in/m.jpg"]


def test_rename_from_a_temp_name_counts_only_the_final_name() -> None:
    w = World()
    w.settler.created("/in/x.jpg.crdownload")  # not a candidate: ignored
    w.write("/in/x.jpg", 10)
    w.settler.moved("/in/x.jpg.crdownload", "/in/x.jpg")
    assert w.advance(1.0) == ["/in/x.jpg"]


def test_editor_atomic_save_is_one_arrival() -> None:
    w = World()
    w.settler.created("/in/.e.jpg.swp")
    w.write("/in/e.jpg", 10)
    w.settler.moved("/in/.e.jpg.swp", "/in/e.jpg")
    w.settler.created("/in/e.jpg")  # duplicate hints are common
    assert w.advance(3.0) == ["/in/e.jpg"]


def test_firefox_zero_byte_placeholder_then_rename_over_it() -> None:
    w = World()
    w.write("/in/ff.jpg", 0)
    w.settler.created("/in/ff.jpg")
    w.settler.closed("/in/ff.jpg")
    assert w.advance(1.0) == []  # an empty placeholder is dropped
    w.write("/in/ff.jpg", 900)
    w.settler.moved("/in/ff.jpg.part", "/in/ff.jpg")
    assert w.advance(1.0) == ["/in/ff.jpg"]


def test_created_then_deleted_is_never_ready() -> None:
    w = World()
    w.settler.created("/in/gone.jpg")
    w.settler.deleted("/in/gone.jpg")
    assert w.advance(5.0) == []
    w.settler.created("/in/vanished.jpg")  # deleted without an event
    assert w.advance(5.0) == []
    assert len(w.settler) == 0


def test_a_writer_that_died_is_given_up_on_after_a_long_silence() -> None:
    w = World()
    w.write("/in/dead.jpg", 10)
    w.settler.modified("/in/dead.jpg", closes_reported=True)
    assert w.advance(STALLED_WRITER_SECONDS - 5) == []
    assert w.advance(10) == ["/in/dead.jpg"]


def test_a_scan_does_not_reset_a_file_already_settling() -> None:
    w = World()
    w.write("/in/s.jpg", 10)
    w.settler.modified("/in/s.jpg", closes_reported=True)
    w.settler.found("/in/s.jpg")  # the start-up scan sees a file still being written
    assert w.advance(3.0) == []


def test_a_file_found_by_a_scan_waits_the_full_quiet_time() -> None:
    w = World()
    w.write("/in/found.jpg", 10)
    w.settler.found("/in/found.jpg")
    assert w.advance(1.5) == []
    assert w.advance(1.5) == ["/in/found.jpg"]
