"""``thumbgen serve`` on buckets: uploads stored in one, thumbnails served from one, and
S3 event notifications (``POST /events/s3``) queued, against a real S3 server."""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from support.buckets import objects, upload
from support.procs import run_thumbgen
from support.server import served, wait_jobs
from support.server import upload as post_files

from thumbgen.server.settings import staging_folder
from thumbgen.storage import Blob, open_storage


def _record(bucket: str, key: str, event: str = "ObjectCreated:Put") -> dict[str, Any]:
    """One record as AWS documents it (MinIO, Ceph and SeaweedFS send the same)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": event,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket.removeprefix("s3://"), "arn": "arn:aws:s3:::x"},
            # Keys arrive URL-encoded, a space as "+".
            "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": 1},
        },
    }


def test_uploads_go_to_a_bucket_and_thumbnails_are_served_from_one(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    photo = tmp_path / "holiday.jpg"
    Image.new("RGB", (640, 480), (200, 120, 40)).save(photo, quality=90)
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    args = ("-o", f"{bucket}/thumbs/", "--uploads", f"{bucket}/uploads/", "-w", "1")
    with served(tmp_path, env, *args) as srv, srv.client() as http:
        r = post_files(http, [photo])
        assert r.status_code == 202, r.text
        [entry] = r.json()["files"]
        [job] = wait_jobs(http, [entry["id"]])
        assert job["state"] == "done", job
        assert job["source"] == f"{bucket}/uploads/{digest}.jpg"
        assert sorted(objects(f"{bucket}/uploads/")) == [f"{digest}.jpg"]
        assert sorted(objects(f"{bucket}/thumbs/")) == [f"{digest}_256x256.jpg"]
        [url] = job["thumbnails"]
        moved = http.get(url, follow_redirects=False)
        assert moved.status_code == 307, moved.text
        # A presigned URL: the bucket itself hands the bytes out.
        got = httpx.get(moved.headers["location"], timeout=30)
        assert got.status_code == 200
        with Image.open(io.BytesIO(got.content)) as im:
            assert im.size == (256, 192)
        again = post_files(http, [photo])  # the same bytes: the same object, the same job
        assert again.json()["files"][0]["id"] == entry["id"]
    # Nothing of the upload stayed on this machine's disk: staged, stored, removed.
    assert not list(tmp_path.glob("thumbs*"))
    assert os.listdir(staging_folder(f"{bucket}/uploads/")) == []


def test_event_notifications_queue_what_they_name_as_a_watch_of_the_prefix_would(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    source = open_storage(f"{bucket}/in/")
    [first] = upload(tmp_path, f"{bucket}/in/", 1, folder="")
    data = open_storage(f"{bucket}/in/").read(first)
    source.put_all([Blob("summer day.jpg", data, "image/jpeg")])
    source.put_all([Blob("2026/c.jpg", data + b"\0", "image/jpeg")])
    open_storage(f"{bucket}/other/").put_all([Blob("x.jpg", data, "image/jpeg")])
    records = [
        _record(bucket, "in/summer day.jpg"),
        _record(bucket, "in/2026/c.jpg"),
        _record(bucket, "other/x.jpg"),
        _record(bucket, "in/thumbs/old_256x256.jpg"),
        _record(bucket, "in/gone.jpg"),
        _record(bucket, f"in/{first}", event="ObjectRemoved:Delete"),
    ]
    args = ("--events", f"{bucket}/in/", "-o", f"{bucket}/in/thumbs/", "-w", "1")
    with served(tmp_path, env, *args, token="hook-token") as srv, srv.client() as http:
        assert httpx.post(srv.url + "/events/s3", json={"Records": records}).status_code == 401
        r = http.post("/events/s3", json={"Records": records})
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["queued"] == 2
        ignored = {i["object"]: i["reason"] for i in answer["ignored"]}
        assert ignored == {
            f"{bucket}/other/x.jpg": "not under a prefix this server takes events for",
            f"{bucket}/in/thumbs/old_256x256.jpg": "a thumbnail: under the output prefix",
            f"{bucket}/in/gone.jpg": "gone since the event",
            f"{bucket}/in/{first}": "ObjectRemoved:Delete is not a new object",
        }
        jobs = http.get("/jobs").json()
        wait_jobs(http, [j["id"] for j in jobs])
        # A notification delivered twice (at-least-once) queues nothing more.
        twice = http.post("/events/s3", json={"Records": records[:2]}).json()
        assert (twice["queued"], twice["up_to_date"]) == (0, 2)
        bad = http.post("/events/s3", content=b"not json")
        assert bad.status_code == 400
        assert http.post("/events/s3", json={"records": []}).status_code == 422
    # {dir} from the prefix, as `watch` of it names them.
    assert sorted(objects(f"{bucket}/in/thumbs/")) == [
        "2026/c_256x256.jpg",
        "summer day_256x256.jpg",
    ]
    listed = json.loads(run_thumbgen("jobs", "--json", env=env).stdout)
    assert sorted(j["state"] for j in listed) == ["done", "done"]


def test_a_server_without_event_prefixes_refuses_notifications(
    tmp_path: Path, env: dict[str, str], bucket: str
) -> None:
    with served(tmp_path, env, "-w", "0") as srv, srv.client() as http:
        r = http.post("/events/s3", json={"Records": [_record(bucket, "in/a.jpg")]})
        assert r.status_code == 409
        assert r.json() == {
            "error": "This server takes no S3 events: start it with --events s3://BUCKET/PREFIX/"
        }
