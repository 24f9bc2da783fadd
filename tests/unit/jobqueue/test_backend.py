"""The one place that picks a backend: by the location's scheme."""

from __future__ import annotations

from pathlib import Path

import pytest
from huey import SqliteHuey

from thumbgen.errors import QueueError
from thumbgen.jobqueue import backend
from thumbgen.jobqueue.contract import QUEUE_NAME, Counts
from thumbgen.jobqueue.huey_app import Queue


def test_a_path_opens_the_sqlite_backend(tmp_path: Path) -> None:
    path = str(tmp_path / "sub" / "queue.db")
    chosen = backend.open_backend(path)
    assert chosen.location == path
    assert chosen.huey.name == QUEUE_NAME
    assert isinstance(chosen.huey, SqliteHuey)
    queue = backend.open_queue(path)
    try:
        assert queue.location == path
        assert queue.store.counts() == Counts()
    finally:
        queue.close()
    assert Path(path).is_file()


def test_a_location_string_still_builds_a_queue(tmp_path: Path) -> None:
    # Callers that predate open_queue pass the location to Queue itself.
    queue = Queue(str(tmp_path / "queue.db"))
    try:
        assert queue.store.counts() == Counts()
    finally:
        queue.close()


@pytest.mark.parametrize(
    "location", ["redis://localhost:6379/0", "rediss://:secret@example.org:6380/1"]
)
def test_redis_is_refused_where_its_backend_will_plug_in(location: str) -> None:
    scheme = location.split(":", 1)[0]
    with pytest.raises(QueueError) as caught:
        backend.open_queue(location)
    assert str(caught.value) == (
        f"Unsupported queue {location!r}: {scheme}:// queues are not available yet; "
        "use a SQLite file path"
    )
    assert caught.traceback[-1].name == "open_backend"
    assert scheme in backend.REDIS_SCHEMES


def test_another_scheme_gets_the_same_one_line_error() -> None:
    with pytest.raises(QueueError, match=r"^Unsupported queue 'ftp://x/q': ftp:// queues are"):
        backend.open_queue("ftp://x/q")


def test_a_refused_location_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QueueError):
        backend.open_queue("redis://localhost:6379/0")
    assert list(tmp_path.iterdir()) == []
