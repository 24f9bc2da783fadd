"""Buckets in and out, through real processes and a real S3 server (SeaweedFS on loopback).

Every test gets a bucket of its own on the session's server. The commands run
as a user runs them: ``thumbgen`` in a process of its own, with the AWS
variables every S3 tool reads, and nothing shared with the test but the
server and the queue file.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
from pathlib import Path

import obstore
import pytest
from PIL import Image
from support.buckets import objects, upload
from support.imagegen import write_jpegs
from support.procs import run_thumbgen, wait_until, worker
from support.s3_proxy import S3Proxy
from support.s3_server import SECRET_KEY, S3Server

from thumbgen.storage import Blob, open_storage
from thumbgen.storage.s3 import S3Storage


def add(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_thumbgen("add", *args, env=env)


def test_a_bucket_to_a_bucket_thumbnails_once_and_again_only_what_changed(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    keys = upload(tmp_path, f"{bucket}/in/", 3)
    open_storage(f"{bucket}/in/").put_all([Blob("notes.txt", b"plain text", "text/plain")])
    out = f"{bucket}/thumbs/"
    done = add(env, f"{bucket}/in/", "-o", out, "--wait", "-w", "2")
    assert done.returncode == 0, done.stderr
    assert "3 done, 0 failed" in done.stdout + done.stderr
    assert f"skipped {bucket}/in/notes.txt: not an image" in done.stderr
    made = objects(out)
    assert sorted(made) == sorted(k.replace(".jpg", "_256x256.jpg") for k in keys)
    for data in made.values():
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "JPEG"
            assert max(im.size) == 256
            im.load()  # complete, not cut short
    got = obstore.get(S3Storage(out).store, "thumbs/" + next(iter(made)))
    assert got.attributes["Content-Type"] == "image/jpeg"
    assert "Cache-Control" not in got.attributes

    again = add(env, f"{bucket}/in/", "-o", out)
    assert again.returncode == 0, again.stderr
    assert "0 queued, 3 up to date" in again.stdout + again.stderr

    # A new version of one object is queued again; the others are not.
    upload(tmp_path / "v2", f"{bucket}/in/", 1)
    changed = add(env, f"{bucket}/in/", "-o", out, "--wait", "-w", "1")
    assert changed.returncode == 0, changed.stderr
    assert "1 queued, 2 up to date" in changed.stdout + changed.stderr


def test_thumbnails_written_inside_the_source_prefix_are_never_sources(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    upload(tmp_path, f"{bucket}/", 2)
    out = f"{bucket}/sub/thumbs/"  # inside what is added: the serverless loop
    first = add(env, f"{bucket}/", "-o", out, "--wait", "-w", "1")
    assert first.returncode == 0, first.stderr
    second = add(env, f"{bucket}/", "-o", out, "--wait", "-w", "1")
    assert "0 queued, 2 up to date" in second.stdout + second.stderr
    assert len(objects(out)) == 2


def test_local_photos_to_a_bucket_and_a_bucket_to_a_local_folder(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    write_jpegs(tmp_path / "photos", 2)
    up = add(env, str(tmp_path / "photos"), "-o", f"{bucket}/t/", "--wait", "-w", "1")
    assert up.returncode == 0, up.stderr
    assert sorted(objects(f"{bucket}/t/")) == ["img0000_256x256.jpg", "img0001_256x256.jpg"]

    upload(tmp_path, f"{bucket}/in/", 2)
    down = add(env, f"{bucket}/in/", "-o", str(tmp_path / "out"), "--wait", "-w", "1")
    assert down.returncode == 0, down.stderr
    local = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.jpg")
    )
    assert local == ["sub/img0000_256x256.jpg", "sub/img0001_256x256.jpg"]


def test_an_object_deleted_before_its_job_runs_vanishes(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    keys = upload(tmp_path, f"{bucket}/in/", 2)
    queued = add(env, f"{bucket}/in/", "-o", f"{bucket}/t/")
    assert queued.returncode == 0, queued.stderr
    assert open_storage(f"{bucket}/in/").delete([keys[0]]) == 1
    ran = run_thumbgen("worker", "--burst", "-w", "1", env=env)
    assert ran.returncode == 0, ran.stderr
    jobs = {j["source"]: j for j in json.loads(run_thumbgen("jobs", "--json", env=env).stdout)}
    assert jobs[f"{bucket}/in/{keys[0]}"]["state"] == "vanished"
    assert jobs[f"{bucket}/in/{keys[1]}"]["state"] == "done"
    assert jobs[f"{bucket}/in/{keys[1]}"]["outputs"] == [
        f"{bucket}/t/{keys[1].replace('.jpg', '_256x256.jpg')}"
    ]


def _solid(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_an_object_overwritten_after_listing_gives_one_version_and_the_job_names_it(
    env: dict[str, str], bucket: str
) -> None:
    source = open_storage(f"{bucket}/in/")
    source.put_all([Blob("pic.jpg", _solid((220, 20, 20), (400, 300)), "image/jpeg")])
    listed = source.stat("pic.jpg").version
    queued = add(env, f"{bucket}/in/", "-o", f"{bucket}/t/")
    assert queued.returncode == 0, queued.stderr
    # A new picture under the same key, after add listed it and before a worker reads it.
    source.put_all([Blob("pic.jpg", _solid((20, 20, 220), (600, 300)), "image/jpeg")])
    written = source.stat("pic.jpg").version
    assert written != listed
    ran = run_thumbgen("worker", "--burst", "-w", "1", env=env)
    assert ran.returncode == 0, ran.stderr
    (thumb,) = objects(f"{bucket}/t/").values()
    with Image.open(io.BytesIO(thumb)) as im:
        assert im.size == (256, 128)  # the new picture's shape, not the old one's
        r, _, b = im.convert("RGB").getpixel((128, 64))
        assert b > 180
        assert r < 60
    shown = json.loads(run_thumbgen("show", "--json", "1", env=env).stdout)
    assert shown["source_version"] == written
    again = add(env, f"{bucket}/in/", "-o", f"{bucket}/t/")
    assert "0 queued, 1 up to date" in again.stdout + again.stderr


def test_wrong_credentials_are_one_line_naming_the_bucket_and_never_the_secret(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    upload(tmp_path, f"{bucket}/in/", 1)
    wrong = {**env, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    result = add(wrong, f"{bucket}/in/", "-o", f"{bucket}/t/")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert bucket.removeprefix("s3://") in lines[0]
    assert "Traceback" not in result.stderr
    for text in (result.stdout, result.stderr):
        assert SECRET_KEY not in text
        assert "not-the-secret" not in text


def test_an_object_named_as_an_image_that_is_not_one_fails_in_one_line(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    upload(tmp_path, f"{bucket}/in/", 1)
    open_storage(f"{bucket}/in/").put_all([Blob("fake.jpg", b"just text\n" * 50, "image/jpeg")])
    result = add(env, f"{bucket}/in/", "-o", f"{bucket}/t/", "--wait", "-w", "1")
    assert result.returncode == 3, result.stderr  # some failed
    assert "1 done, 1 failed" in result.stdout + result.stderr
    failed = [j for j in json.loads(run_thumbgen("jobs", "--json", env=env).stdout) if j["error"]]
    assert [j["source"] for j in failed] == [f"{bucket}/in/fake.jpg"]
    assert failed[0]["error"].startswith(f"Not an image thumbgen can read: {bucket}/in/fake.jpg")
    assert "\n" not in failed[0]["error"]


def test_outputs_carry_the_cache_control_asked_for(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    upload(tmp_path, f"{bucket}/in/", 1)
    forever = "public, max-age=31536000, immutable"
    result = add(env, f"{bucket}/in/", "-o", f"{bucket}/t/", "--cache-control", forever, "--wait")
    assert result.returncode == 0, result.stderr
    (key,) = objects(f"{bucket}/t/")
    got = obstore.get(S3Storage(f"{bucket}/t/").store, "t/" + key)
    assert got.attributes == {"Content-Type": "image/jpeg", "Cache-Control": forever}


def test_a_server_down_mid_batch_is_waited_out_and_nothing_is_lost(tmp_path: Path) -> None:
    # A server of its own: this test stops it and starts it again on the same data.
    server = S3Server(tmp_path / "s3")
    server.start()
    try:
        env = server.env(THUMBGEN_QUEUE=str(tmp_path / "queue.db"))
        bucket = server.make_bucket("outage")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                if name.startswith("AWS_"):
                    patch.setenv(name, value)
            upload(tmp_path, f"{bucket}/in/", 3)
        queued = add(env, f"{bucket}/in/", "-o", f"{bucket}/t/")
        assert queued.returncode == 0, queued.stderr
        server.stop()
        log = tmp_path / "worker.log"
        with worker(env, log, "--burst", "-w", "1", "--retries", "8", "--retry-delay", "0.5"):
            # Every try fails while the server is down; the jobs wait out the outage.
            deadline = time.monotonic() + 60
            while "retrying in" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "retrying in" in log.read_text(), log.read_text()
            server.start()
            wait_until(lambda: _states(env) == ["done"] * 3, timeout=120, interval=0.5)
        assert _states(env) == ["done"] * 3
        text = log.read_text()
        retried = [line for line in text.splitlines() if "retrying in" in line]
        assert all(f"{bucket}/in/" in line for line in retried)  # one line each, naming it
        assert "Traceback" not in text
        assert SECRET_KEY not in text
    finally:
        server.stop()


def _states(env: dict[str, str]) -> list[str]:
    jobs = json.loads(run_thumbgen("jobs", "--json", env=env).stdout)
    return sorted(j["state"] for j in jobs)


def test_throttling_is_backed_off_and_the_batch_completes(
    tmp_path: Path, s3_server: S3Server, bucket: str
) -> None:
    upload(tmp_path, f"{bucket}/in/", 4)
    with S3Proxy(s3_server.endpoint) as proxy:
        env = s3_server.env(
            THUMBGEN_QUEUE=str(tmp_path / "queue.db"), AWS_ENDPOINT_URL=proxy.endpoint
        )
        queued = add(env, f"{bucket}/in/", "-o", f"{bucket}/t/")
        assert queued.returncode == 0, queued.stderr
        # More 503 SlowDown answers than the client's own retries of one request
        # absorb: jobs fail their try as throttled and wait for the next.
        proxy.throttle(12)
        log = tmp_path / "worker.log"
        ran = run_thumbgen(
            "worker", "--burst", "-w", "1", "--retries", "8", "--retry-delay", "0.5", env=env
        )
        log.write_text(ran.stdout + ran.stderr)
        assert ran.returncode == 0, log.read_text()
        assert proxy.throttled == 12
    assert _states(env) == ["done"] * 4
    assert len(objects(f"{bucket}/t/")) == 4
    text = log.read_text()
    retried = [line for line in text.splitlines() if "retrying in" in line]
    assert retried, text
    assert all("throttled" in line for line in retried), retried
    assert "Traceback" not in text


def test_a_re_add_lists_output_folders_instead_of_a_head_per_output(
    tmp_path: Path, s3_server: S3Server, bucket: str
) -> None:
    upload(tmp_path, f"{bucket}/in/", 150)
    out = f"{bucket}/t/"
    with S3Proxy(s3_server.endpoint) as proxy:
        env = s3_server.env(
            THUMBGEN_QUEUE=str(tmp_path / "queue.db"), AWS_ENDPOINT_URL=proxy.endpoint
        )
        done = add(env, f"{bucket}/in/", "-o", out, "--wait", "-w", "2")
        assert "150 done, 0 failed" in done.stdout + done.stderr, done.stderr
        proxy.clear()
        again = add(env, f"{bucket}/in/", "-o", out)
        assert "0 queued, 150 up to date" in again.stdout + again.stderr, again.stderr
        assert proxy.count("HEAD") <= 64  # then one listing of the output folder
        # A thumbnail deleted since is seen in the listing: its source is queued again.
        keys = sorted(objects(out))
        assert open_storage(out).delete([keys[-1]]) == 1
        third = add(env, f"{bucket}/in/", "-o", out)
        assert "1 queued, 149 up to date" in third.stdout + third.stderr, third.stderr


@pytest.mark.parametrize("where", ["source", "output"])
def test_a_missing_bucket_is_one_line_naming_it_before_anything_is_queued(
    tmp_path: Path, env: dict[str, str], bucket: str, where: str
) -> None:
    upload(tmp_path, f"{bucket}/in/", 1)
    src = "s3://no-such-bucket/in/" if where == "source" else f"{bucket}/in/"
    out = "s3://no-such-bucket/t/" if where == "output" else f"{bucket}/t/"
    result = add(env, src, "-o", out)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "no such bucket" in lines[0].lower()
    assert "no-such-bucket" in lines[0]
    assert json.loads(run_thumbgen("jobs", "--json", env=env).stdout or "[]") == []
