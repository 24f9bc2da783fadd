"""The one place that picks a backend: by the location's scheme."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from huey import SqliteHuey

from thumbgen.errors import QueueError
from thumbgen.jobqueue import backend, sqlite
from thumbgen.jobqueue.contract import QUEUE_NAME, Counts, NewJob
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.options import build_options


def test_a_path_opens_the_sqlite_backend(tmp_path: Path) -> None:
    path = str(tmp_path / "sub" / "queue.db")
    chosen = backend.open_backend(path)
    assert chosen.location == path
    transport = chosen.open_huey()
    assert transport.name == QUEUE_NAME
    assert isinstance(transport, SqliteHuey)
    queue = backend.open_queue(path)
    try:
        assert queue.location == path
        assert queue.store.counts() == Counts()
    finally:
        queue.close()
    assert Path(path).is_file()


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0"),
        ("rediss://:secret@127.0.0.1:1/1", "rediss://:***@127.0.0.1:1/1"),
    ],
)
def test_redis_locations_go_to_the_redis_backend(location: str, shown: str) -> None:
    # Nothing listens on port 1: the Redis backend answers, in one line, with
    # the password hidden.
    with pytest.raises(QueueError) as caught:
        backend.open_queue(location)
    assert str(caught.value).startswith(f"Cannot reach Redis at {shown}")
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_another_scheme_gets_the_same_one_line_error() -> None:
    with pytest.raises(QueueError, match=r"^Invalid queue 'ftp://x/q': unknown scheme ftp://"):
        backend.open_queue("ftp://x/q")
    with pytest.raises(QueueError, match=r"use a SQLite file path, redis://HOST:PORT/DB, "):
        backend.open_queue("ftp://x/q")


def test_a_refused_location_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QueueError):
        backend.open_queue("redis://127.0.0.1:1/0")
    assert list(tmp_path.iterdir()) == []


def test_the_transport_is_made_only_when_a_token_is(tmp_path: Path) -> None:
    # Reading commands must not import Huey (its package loads the consumer).
    made: list[str] = []
    sqlite_backend = sqlite.open_backend(str(tmp_path / "queue.db"))

    def open_huey() -> object:
        made.append("huey")
        return sqlite_backend.open_huey()

    queue = Queue(dataclasses.replace(sqlite_backend, open_huey=open_huey))
    try:
        assert queue.store.counts() == Counts()
        assert queue.store.jobs() == []
        assert made == []
        job = NewJob("/src/a.jpg", "", 1, 1, "/out/a_*.*")
        queue.store.submit([job], build_options(out_dir=tmp_path / "out"), batch="b")
        assert made == ["huey"]
        assert queue.huey.pending_count() == 1
        assert made == ["huey"]  # once per queue
    finally:
        queue.close()
