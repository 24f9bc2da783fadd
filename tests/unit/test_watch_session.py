"""A watch counts its own arrivals and reports each of their failures once."""

from __future__ import annotations

from pathlib import Path

from support.imagegen import write_jpegs

from thumbgen.commands import WatchSession, add
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import build_options


def test_the_session_counts_only_what_arrived_while_watching(tmp_path: Path, queue: Queue) -> None:
    options = build_options(out_dir=tmp_path / "out")
    write_jpegs(tmp_path / "before", 4)
    add(queue, [str(tmp_path / "before")], options)
    session = WatchSession(queue, options)
    arrived = write_jpegs(tmp_path / "inbox", 2, prefix="new")
    session.arrived(str(tmp_path / "inbox"), [str(p) for p in arrived])
    assert session.counts().queued == 2
    assert queue.store.counts().queued == 6


def test_each_failure_is_reported_once(tmp_path: Path, queue: Queue) -> None:
    options = build_options(out_dir=tmp_path / "out")
    session = WatchSession(queue, options)
    broken = tmp_path / "inbox" / "broken.jpg"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xd8\xff not really")
    session.arrived(str(broken.parent), [str(broken)])
    job = queue.store.claim("w")
    assert job is not None
    queue.store.fail(job.id, "w", f"Corrupt image: {broken}")
    first = session.progress()
    assert [f.source for f in first.failures] == [str(broken)]
    assert first.counts.failed == 1
    assert session.progress().failures == []
