"""Opening a SQLite queue: one line for each way it fails, and reading without write access.

The read-only cases run a reader as another user (``nobody`` when the tests
run as root, as they do in CI; root may read and write anything), on a queue
this process made: read-only for that user, in a folder they may or may not
write, idle or with a live writer. See thumbgen/jobqueue/sqlite/opening.py
for SQLite's rules and why ``immutable=1`` alone would not do.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import new_jobs, options

from thumbgen.errors import QueueError
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import Counts
from thumbgen.jobqueue.sqlite import opening

#: What the other user runs: open the queue, print what status would show, or the error.
READER = """
import json, sys
from thumbgen.errors import ThumbgenError
from thumbgen.jobqueue.backend import open_queue
from thumbgen.jobqueue.contract import NewJob
from thumbgen.options import build_options
path, create, readonly = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
try:
    q = open_queue(path, create=create, readonly=readonly)
    s = q.store
    dry = s.submit([NewJob("/src/new.jpg", "", 1, 1, "/out/new_*.*")],
                   build_options(out_dir="/out"), batch="dry", dry_run=True)
    c = s.counts()
    print(json.dumps({"queued": c.queued, "done": c.done, "jobs": len(s.jobs()),
                      "paused": s.paused(), "would_queue": dry.would_queue,
                      "job": s.job(1) is not None}))
    q.close()
except ThumbgenError as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
"""


def _as_other_user(path: Path, *, create: bool = False, readonly: bool = True) -> dict[str, object]:
    """Run :data:`READER` as a user who is not this file's owner; its JSON, or its one line."""
    argv = [sys.executable, "-c", READER, str(path), str(int(create)), str(int(readonly))]
    if os.geteuid() == 0:
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    proc = subprocess.run(argv, cwd="/", capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode:
        assert proc.returncode == 1
        assert proc.stderr.count("\n") == 1, proc.stderr
        return {"error": proc.stderr.strip()}
    result: dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every user may enter (pytest's own tmp folders are private)."""
    folder = Path(tempfile.mkdtemp(prefix="thumbgen-open-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for sub in (folder, *folder.rglob("*")):
            if sub.is_dir():
                sub.chmod(0o755)
        shutil.rmtree(folder)


def _queue_with_jobs(folder: Path, n: int = 3) -> Path:
    path = folder / "queue.db"
    queue = open_queue(str(path))
    queue.store.submit(new_jobs(n), options(folder), batch="b")
    queue.close()
    return path


def _read_only(path: Path, *, folder_mode: int = 0o555) -> None:
    path.chmod(0o444)
    path.parent.chmod(folder_mode)


def _leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


# -- one line for each way of failing ---------------------------------------------------


@pytest.mark.parametrize(("create", "readonly"), [(True, False), (False, False), (False, True)])
def test_a_folder_given_as_the_queue(tmp_path: Path, create: bool, readonly: bool) -> None:
    with pytest.raises(QueueError) as caught:
        open_queue(str(tmp_path), create=create, readonly=readonly)
    assert str(caught.value) == (
        f"Queue {tmp_path} is a folder; give a file path such as {tmp_path}/queue.db"
    )


@pytest.mark.parametrize("readonly", [False, True])
def test_no_queue_where_none_may_be_created_creates_nothing(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "typo" / "queue.db"
    with pytest.raises(QueueError) as caught:
        open_queue(str(path), create=False, readonly=readonly)
    assert str(caught.value) == (
        f"No queue at {path}; `thumbgen add` creates one (or check --queue)"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_empty_file_is_no_queue_for_a_command_that_does_not_create(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    path.touch()
    with pytest.raises(QueueError, match=r"^No queue at "):
        open_queue(str(path), create=False)
    assert (path.stat().st_size, _leftovers(path)) == (0, [])


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "photos.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE albums (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(QueueError, match=r"photos\.db is a SQLite database but not a thumbgen"):
        open_queue(str(path))
    assert path.read_bytes() == before


def _open_and_close(path: str) -> str | None:
    try:
        open_queue(path).close()
    except QueueError as exc:
        return str(exc)
    return None


def test_processes_creating_one_new_queue_at_once_all_open_it(tmp_path: Path) -> None:
    # Two workers started together on a new queue file: one read "no schema yet",
    # the other created it, and the first then found tables without a version
    # and said "a SQLite database but not a thumbgen queue" (1 round in 25).
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(6) as pool:
        errors = []
        for round_ in range(150):
            path = str(tmp_path / f"queue{round_}.db")
            errors += [e for e in pool.map(_open_and_close, [path] * 6) if e]
    assert errors == []


def test_a_path_with_a_newline_is_shown_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(QueueError) as caught:
        open_queue(str(tmp_path / "a\nb" / "queue.db"), create=False)
    assert "\n" not in str(caught.value)
    assert "a\\nb" in str(caught.value)


def test_a_queue_path_that_is_not_utf8_opens(tmp_path: Path) -> None:
    path = os.fsdecode(os.fsencode(str(tmp_path)) + b"/q\xff.db")
    queue = open_queue(path)
    try:
        queue.store.submit(new_jobs(2), options(tmp_path), batch="b")
    finally:
        queue.close()
    reader = open_queue(path, create=False, readonly=True)
    try:
        assert reader.store.counts() == Counts(queued=2)
    finally:
        reader.close()


# -- as another user --------------------------------------------------------------------


def test_an_idle_queue_in_a_read_only_folder_can_be_read(shared: Path) -> None:
    path = _queue_with_jobs(shared)
    _read_only(path)
    shown = _as_other_user(path)
    assert shown == {
        "queued": 3,
        "done": 0,
        "jobs": 3,
        "paused": False,
        "would_queue": ["/src/new.jpg"],
        "job": True,
    }
    assert _leftovers(path) == []


def test_a_reader_sees_what_a_live_writer_committed_and_does_not_wait(shared: Path) -> None:
    path = _queue_with_jobs(shared, 2)
    writer = open_queue(str(path))
    try:
        writer.store.submit(new_jobs(3, prefix="more"), options(shared), batch="b2")
        _read_only(path)  # the writer keeps the descriptors it opened
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # and another writer is mid-transaction
            try:
                shown = _as_other_user(path)
            finally:
                other.execute("ROLLBACK")
        assert (shown["queued"], shown["jobs"]) == (5, 5)  # the WAL's pages included
    finally:
        writer.close()


def test_a_reader_in_a_folder_it_may_write_leaves_no_files_behind(shared: Path) -> None:
    # A -shm left by the reader (owned by it, read-only for the owner) would
    # stop the owner's next writer: "attempt to write a readonly database".
    path = _queue_with_jobs(shared)
    _read_only(path, folder_mode=0o777)
    assert _as_other_user(path)["queued"] == 3
    assert _leftovers(path) == []
    path.chmod(0o644)
    queue = open_queue(str(path))
    try:
        queue.store.submit(new_jobs(1, prefix="after"), options(shared), batch="b2")
        assert queue.store.counts().queued == 4
    finally:
        queue.close()


def test_a_file_the_user_may_not_read(shared: Path) -> None:
    path = _queue_with_jobs(shared)
    path.chmod(0o600 if os.geteuid() == 0 else 0o200)
    assert _as_other_user(path) == {"error": f"Cannot read queue {path}: permission denied"}


def test_creating_a_queue_in_a_read_only_folder(shared: Path) -> None:
    folder = shared / "ro"
    folder.mkdir(mode=0o555)
    path = folder / "queue.db"
    assert _as_other_user(path, create=True, readonly=False) == {
        "error": f"Cannot create queue {path}: folder {folder} is not writable"
    }
    assert list(folder.iterdir()) == []


def test_writing_to_a_queue_the_user_may_only_read(shared: Path) -> None:
    path = _queue_with_jobs(shared)
    _read_only(path)
    error = str(_as_other_user(path, create=True, readonly=False)["error"])
    assert error.startswith(f"Queue {path} is read-only for you: status, jobs and show work")


def test_writing_to_a_writable_queue_in_a_read_only_folder(shared: Path) -> None:
    path = _queue_with_jobs(shared)
    path.chmod(0o666)
    shared.chmod(0o555)
    error = str(_as_other_user(path, readonly=False)["error"])
    assert error == (
        f"Cannot open queue {path} for writing: SQLite keeps its -wal and -shm files beside "
        f"it, and folder {shared} is not writable"
    )


def test_an_old_queue_the_user_may_only_read_asks_for_an_upgrade(shared: Path) -> None:
    path = _queue_with_jobs(shared)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    _read_only(path)
    error = str(_as_other_user(path)["error"])
    assert error.startswith(f"Queue {path} was made by an older thumbgen and needs an upgrade")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444


# -- the snapshot reader ----------------------------------------------------------------


def test_a_snapshot_reader_moves_to_the_wal_once_a_writer_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _queue_with_jobs(tmp_path, 2)
    real = opening.choose_mode
    monkeypatch.setattr(
        opening,
        "choose_mode",
        lambda p, readonly: opening.Mode.SNAPSHOT if readonly else real(p, readonly=False),
    )
    reader = open_queue(str(path), create=False, readonly=True)
    writer = open_queue(str(path))
    try:
        assert reader.store.counts() == Counts(queued=2)
        assert _leftovers(path) == ["queue.db-shm", "queue.db-wal"]  # the writer's
        writer.store.submit(new_jobs(3, prefix="more"), options(tmp_path), batch="b2")
        assert reader.store.counts() == Counts(queued=5)
        assert reader.store.paused() is False
    finally:
        writer.close()
        reader.close()


def test_a_writer_that_comes_and_goes_during_a_snapshot_read_is_caught(tmp_path: Path) -> None:
    path = _queue_with_jobs(tmp_path, 2)
    file = opening.QueueFile(str(path), readonly=True, timeout=5)
    file.mode, file.conn = opening.Mode.SNAPSHOT, None
    calls: list[int] = []
    writer = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
        " c.execute(\"UPDATE job_counts SET n = n + 40 WHERE state = 'queued'\"); c.close()"
    )

    def read(conn: sqlite3.Connection) -> int:
        n = int(conn.execute("SELECT n FROM job_counts WHERE state = 'queued'").fetchone()[0])
        calls.append(n)
        if len(calls) == 1:
            # Mid-read, a writer opens the file, commits and closes: its close
            # cannot checkpoint and delete the -wal while the read holds its lock.
            subprocess.run([sys.executable, "-c", writer, str(path)], check=True, timeout=60)
        return n

    try:
        assert file.query(read) == 42
        assert calls == [2, 42]
        assert file.mode is opening.Mode.READ_ONLY
    finally:
        file.close()
