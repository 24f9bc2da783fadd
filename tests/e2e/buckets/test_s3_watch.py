"""``thumbgen watch s3://...``: a bucket polled by listing, against a real S3 server.

The poller itself (what a listing hands over, what it takes for a deletion)
is driven tick by tick; the command runs as a user runs it, in a process of
its own with its embedded worker.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from support.buckets import objects, upload
from support.procs import background, run_thumbgen, wait_until
from support.s3_server import SECRET_KEY, S3Server

from thumbgen.storage import Blob, Entry, Storage, open_storage
from thumbgen.watch.bucket import BucketWatcher, WatchError
from thumbgen.watch.config import WatchConfig


class Recorder:
    """The callbacks of a :class:`BucketWatcher`: what it handed over and reported gone."""

    def __init__(self) -> None:
        self.ready: list[str] = []
        self.gone: list[str] = []

    def on_ready(self, store: Storage, entries: list[Entry]) -> None:
        self.ready += [store.path(e.key) for e in entries]

    def on_gone(self, root: str, locations: list[str]) -> list[str]:
        self.gone += locations
        return []


def _poller(root: str, recorder: Recorder, **config: object) -> BucketWatcher:
    """A poller whose clock jumps a minute at each look: every tick is a due poll."""
    minutes = itertools.count(0, 60)
    return BucketWatcher(
        WatchConfig((root,), recursive=True, poll=5, **config),  # type: ignore[arg-type]
        recorder.on_ready,
        recorder.on_gone,
        clock=lambda: float(next(minutes)),
    )


def test_only_new_and_changed_objects_are_handed_over_and_outputs_never(
    tmp_path: Path, bucket: str
) -> None:
    keys = upload(tmp_path, f"{bucket}/in/", 300, folder="")
    out = f"{bucket}/in/thumbs/"
    open_storage(out).put_all([Blob("old_256x256.jpg", b"x", "image/jpeg")])
    recorder = Recorder()
    watcher = _poller(f"{bucket}/in/", recorder, exclude=(out,))
    watcher.start()
    assert sorted(recorder.ready) == sorted(f"{bucket}/in/{k}" for k in keys)

    recorder.ready.clear()
    assert watcher.tick() == 0  # 300 unchanged objects: nothing
    assert recorder.ready == []

    store = open_storage(f"{bucket}/in/")
    store.put_all([Blob(keys[0], (tmp_path / "made" / keys[0]).read_bytes() + b"\0", "image/jpeg")])
    store.put_all([Blob("new.jpg", b"y", "image/jpeg")])
    open_storage(out).put_all([Blob("new_256x256.jpg", b"x", "image/jpeg")])
    assert watcher.tick() == 2
    assert sorted(recorder.ready) == sorted([f"{bucket}/in/{keys[0]}", f"{bucket}/in/new.jpg"])
    assert watcher.status().handed_over == 302

    store.delete([keys[1]])
    watcher.tick()
    assert recorder.gone == [f"{bucket}/in/{keys[1]}"]


def test_a_listing_that_fails_is_never_taken_for_deletions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = S3Server(tmp_path / "s3")
    server.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in server.env().items():
                if name.startswith("AWS_"):
                    patch.setenv(name, value)
            bucket = server.make_bucket("flaky")
            upload(tmp_path, f"{bucket}/in/", 3)
            recorder = Recorder()
            watcher = _poller(f"{bucket}/in/", recorder)
            watcher.start()
            assert len(recorder.ready) == 3
            server.stop()
            for _ in range(3):
                assert watcher.tick() == 0
            assert recorder.gone == []
            warnings = [r.getMessage() for r in caplog.records if "cannot list" in r.getMessage()]
            assert len(warnings) == 1, warnings  # one line per episode, not per poll
            server.start()
            assert watcher.tick() == 0
            assert recorder.gone == []
            assert any("works again" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()


def test_a_missing_bucket_or_wrong_credentials_end_the_watch_in_one_line(
    env: dict[str, str], bucket: str
) -> None:
    with pytest.raises(WatchError, match="Cannot watch s3://no-such-bucket/in/: no such bucket"):
        BucketWatcher(WatchConfig(("s3://no-such-bucket/in/",)), Recorder().on_ready).start()
    for args, words in [
        (["s3://no-such-bucket/in/"], "Cannot watch s3://no-such-bucket/in/: no such bucket"),
        ([f"{bucket}/in/", "/tmp"], "Cannot watch folders and buckets in one command"),
    ]:
        result = run_thumbgen("watch", *args, "-w", "0", env=env, timeout=60)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert words in lines[0]
    wrong = {**env, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    denied = run_thumbgen("watch", f"{bucket}/in/", "-w", "0", env=wrong, timeout=60)
    assert denied.returncode != 0
    assert denied.stderr.strip().splitlines() == [
        f"Error: Cannot watch {bucket}/in/: access denied"
    ]
    assert "not-the-secret" not in denied.stderr + denied.stdout
    assert SECRET_KEY not in denied.stderr + denied.stdout


def test_watch_queues_what_arrives_writes_thumbnails_beside_and_a_restart_queues_nothing(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    upload(tmp_path / "before", f"{bucket}/in/", 2, folder="")
    out = f"{bucket}/in/thumbs/"  # inside the watched prefix: the serverless loop
    args = ("watch", f"{bucket}/in/", "-r", "-o", out, "--poll", "1", "-w", "1")
    log = tmp_path / "watch.log"
    with background(*args, env=env, log=log, graceful=True):
        assert wait_until(lambda: len(objects(out)) == 2, timeout=60), log.read_text()
        upload(tmp_path / "later", f"{bucket}/in/", 1, folder="2026")
        assert wait_until(lambda: len(objects(out)) == 3, timeout=60), log.read_text()
        time.sleep(3)  # polls that see the thumbnails must not queue them
    assert "2026/img0000_256x256.jpg" in objects(out)
    jobs = json.loads(run_thumbgen("jobs", "--json", env=env).stdout)
    assert sorted(j["state"] for j in jobs) == ["done"] * 3
    assert not any("/thumbs/" in j["source"] for j in jobs)

    # A restart lists the bucket again: the queue knows every object's ETag.
    with background(*args, env=env, log=tmp_path / "again.log", graceful=True):
        time.sleep(4)
    jobs = json.loads(run_thumbgen("jobs", "--json", env=env).stdout)
    assert len(jobs) == 3
    assert all(j["attempts"] == 1 for j in jobs)
    assert "Traceback" not in log.read_text()
