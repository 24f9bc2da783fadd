"""--manifest in a bucket, on a real S3 server (SeaweedFS on loopback).

A bucket has no lock: the manifest is replaced with ETag-conditional PUTs
(thumbgen/storage/rewrite.py), and a writer whose PUT lost the race makes the
content again from the newer state. These tests check that on the server,
not a fake: two processes rewriting one object never lose each other's
update, and workers keep a bucket manifest that lists exactly the done sources.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import obstore
import pytest
from obstore.exceptions import AlreadyExistsError, PreconditionError
from support.imagegen import write_jpegs
from support.procs import queue_jobs, run_thumbgen
from support.s3_server import S3Server

from thumbgen.storage.s3 import S3Storage

# One writer: appends its next item to a shared log (under a file lock: the
# "queue" here), then rewrites the object from the whole log, as a worker
# rewrites the manifest from the whole queue. With unconditional PUTs, a
# writer that read the log before the other's append could store the older
# state last and lose the other's item.
_WRITER = r"""
import fcntl, json, sys
from thumbgen.storage.rewrite import rewrite

location, log, me, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def state():
    with open(log) as f:
        return f.read().split()

for i in range(count):
    with open(log, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(f"{me}-{i}\n")
    rewrite(location, lambda: json.dumps(state()).encode(), "application/json")
"""


def _object(location: str) -> tuple[S3Storage, str]:
    """The storage and the path in it of the object at ``location``, as rewrite() splits it."""
    parent, _, name = location.rpartition("/")
    store = S3Storage(parent)
    return store, store.prefix + name


def _read(location: str) -> object:
    store, path = _object(location)
    return json.loads(bytes(obstore.get(store.store, path).bytes()))


def test_two_processes_rewriting_one_object_never_lose_an_update(
    tmp_path: Path, s3_server: S3Server, bucket: str
) -> None:
    location = f"{bucket}/site/state.json"
    log = tmp_path / "log"
    log.write_text("")
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = s3_server.env()
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), location, str(log), name, "40"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for proc in writers:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    stored = _read(location)
    assert isinstance(stored, list)
    assert sorted(stored) == sorted(log.read_text().split())
    assert len(stored) == 80


def test_workers_keep_a_bucket_manifest_of_exactly_the_done_sources(
    tmp_path: Path, s3_server: S3Server, bucket: str
) -> None:
    env = s3_server.env(THUMBGEN_QUEUE=str(tmp_path / "queue.db"))
    write_jpegs(tmp_path / "src", 12, size=(320, 240))
    manifest = f"{bucket}/site/thumbs.json"
    args = ["-o", f"{bucket}/thumbs/", "-s", "64", "--manifest", manifest]
    done = run_thumbgen("add", str(tmp_path / "src"), *args, "--placeholder", "thumbhash",
                        "--wait", "-w", "2", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    finished = {j.source for j in queue_jobs(str(tmp_path / "queue.db"))}
    doc = _read(manifest)
    assert isinstance(doc, dict)
    assert set(doc["sources"]) == finished
    assert len(finished) == 12
    for entry in doc["sources"].values():
        assert entry["placeholder"]["kind"] == "thumbhash"
        assert entry["outputs"][0]["width"] == 64

    # thumbgen manifest --write makes the same listing again from the queue.
    store, path = _object(manifest)
    obstore.delete(store.store, path)
    again = run_thumbgen("manifest", "--manifest", manifest, "--write", env=env)
    assert again.returncode == 0, again.stderr
    rewritten = _read(manifest)
    assert isinstance(rewritten, dict)
    assert set(rewritten["sources"]) == finished


def test_the_server_refuses_a_put_on_a_stale_etag_and_a_second_create(bucket: str) -> None:
    # What the race test above relies on: without these refusals a lost
    # update would only be unlikely, not impossible.
    store, path = _object(f"{bucket}/site/probe.json")
    obstore.put(store.store, path, b"1", mode="create")
    first = obstore.head(store.store, path)["e_tag"]
    assert first is not None
    obstore.put(store.store, path, b"2", mode={"e_tag": first})
    with pytest.raises(PreconditionError):
        obstore.put(store.store, path, b"3", mode={"e_tag": first})
    with pytest.raises(AlreadyExistsError):
        obstore.put(store.store, path, b"4", mode="create")
    assert bytes(obstore.get(store.store, path).bytes()) == b"2"
