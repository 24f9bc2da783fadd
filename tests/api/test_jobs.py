"""The queue over HTTP in-process: listing, one job, retry, pause, status, thumbnails served.

No worker runs here: where a test needs a job done or failed, it claims and
finishes the job through the real store, as a worker would, with real
thumbnail files on disk (tests/e2e/test_server_*.py has real workers make
them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.imagegen import png_named_jpg, write_jpegs
from support.inprocess import ApiClient, InProcessServer
from support.server import upload

from thumbgen.commands import throughput as throughput_service

OWNER = "api-test"


def queued(http: ApiClient, folder: Path, count: int) -> list[int]:
    """Upload ``count`` distinct images; their job ids, in order."""
    paths = [write_jpegs(folder, 1, prefix=f"p{i}-")[0] for i in range(count)]
    r = upload(http, paths)
    assert r.status_code == 202, r.text
    return [f["id"] for f in r.json()["files"]]


def finish_next(srv: InProcessServer, outputs: list[Path]) -> int:
    """Claim the next job and mark it done with ``outputs``, as a worker does; its id."""
    job = srv.queue.store.claim(OWNER)
    assert job is not None
    st = os.stat(job.source)
    srv.queue.store.finish(job.id, OWNER, [str(p) for p in outputs], st.st_size, st.st_mtime_ns)
    return job.id


def fail_next(srv: InProcessServer, error: str) -> int:
    """Claim the next job and mark it failed with ``error``; its id."""
    job = srv.queue.store.claim(OWNER)
    assert job is not None
    srv.queue.store.fail(job.id, OWNER, error)
    return job.id


def test_jobs_are_listed_in_order_and_by_state(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    ids = queued(http, tmp_path / "in", 3)
    assert finish_next(srv, []) == ids[0]
    assert fail_next(srv, "broken data") == ids[1]
    listed = http.get("/jobs").json()
    assert [j["id"] for j in listed] == ids
    assert [j["state"] for j in listed] == ["done", "failed", "queued"]
    assert set(listed[0]) == {
        "id",
        "source",
        "state",
        "attempts",
        "priority",
        "age",
        "error",
        "outputs",
        "label",
        "queued_at",
        "started_at",
        "finished_at",
        "thumbnails",
        "video",
    }
    assert listed[0]["video"] is None  # a still: no video facts
    for state, expected in (("done", ids[:1]), ("failed", ids[1:2]), ("queued", ids[2:])):
        got = http.get("/jobs", params={"state": state}).json()
        assert [j["id"] for j in got] == expected, state
    assert http.get("/jobs", params={"state": "running"}).json() == []
    assert len(http.get("/jobs", params={"limit": 2}).json()) == 2
    status = http.get("/status").json()
    assert (status["queued"], status["done"], status["failed"]) == (1, 1, 1)
    [failure] = status["failures"]
    assert failure["error"] == "broken data"


def test_a_job_shows_its_attempts_and_a_missing_one_is_404(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    [job_id] = queued(http, tmp_path / "in", 1)
    fail_next(srv, "cannot decode")
    job = http.get(f"/jobs/{job_id}").json()
    assert (job["id"], job["state"], job["error"], job["attempts"]) == (
        job_id,
        "failed",
        "cannot decode",
        1,
    )
    assert len(job["attempt_list"]) == 1
    assert job["thumbnails"] == []
    missing = http.get(f"/jobs/{job_id + 1}")
    assert missing.status_code == 404
    assert missing.json() == {"error": f"No job {job_id + 1}"}


def test_a_done_job_carries_what_its_worker_recorded_about_it(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    # The info a worker records (thumbnailing.info: sizes, hashes, colour,
    # placeholder) is what a web page wants from the job, as in show --json.
    [finished_id, waiting_id] = queued(http, tmp_path / "in", 2)
    job = srv.queue.store.claim(OWNER)
    assert job is not None
    assert job.id == finished_id
    info = {
        "source": {"width": 320, "height": 240, "orientation": 1},
        "average_colour": "#6a5b4c",
        "placeholder": {"kind": "blurhash", "value": "LEHV6nWB2yk8pyo0adR*.7kCMdnj"},
        "outputs": [{"width": 64, "height": 48, "bytes": 1234, "hash": "ab" * 32}],
    }
    srv.queue.store.finish(job.id, OWNER, [], 100, 1, "", info)
    assert http.get(f"/jobs/{finished_id}").json()["info"] == info
    # Not done yet: no info, said as null.
    assert http.get(f"/jobs/{waiting_id}").json()["info"] is None


def test_a_done_job_links_the_thumbnails_in_the_output_folder(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    [job_id] = queued(http, tmp_path / "in", 1)
    [inside] = write_jpegs(srv.out_dir / "sub dir", 1, prefix="thumb ")
    [outside] = write_jpegs(tmp_path / "elsewhere", 1)  # an add with its own -o
    finish_next(srv, [inside, outside])
    job = http.get(f"/jobs/{job_id}").json()
    assert job["state"] == "done"
    assert job["outputs"] == [str(inside), str(outside)]
    assert job["thumbnails"] == ["/thumbnails/sub%20dir/thumb%200000.jpg"]
    thumb = http.get(job["thumbnails"][0])
    assert thumb.status_code == 200
    assert thumb.content == inside.read_bytes()
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["cache-control"] == "public, max-age=60, must-revalidate"
    etag = thumb.headers["etag"]
    head = http.head(job["thumbnails"][0])
    assert head.status_code == 200
    assert head.headers["etag"] == etag
    assert head.content == b""
    again = http.get(job["thumbnails"][0], headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    # A rewritten thumbnail is another ETag: the client fetches it again.
    inside.write_bytes(write_jpegs(tmp_path / "other", 1, size=(32, 32))[0].read_bytes())
    changed = http.get(job["thumbnails"][0], headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_thumbnails_are_served_with_their_content_type(
    srv: InProcessServer, http: ApiClient
) -> None:
    srv.out_dir.mkdir()
    png_named_jpg(srv.out_dir / "a.png")
    (srv.out_dir / "a.bin").write_bytes(b"\x00\x01")
    assert http.get("/thumbnails/a.png").headers["content-type"] == "image/png"
    assert http.get("/thumbnails/a.bin").headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("%2e%2e/secret.txt", 400),
        ("%2E%2E%2Fsecret.txt", 400),
        ("..%2fsecret.txt", 400),
        ("x/%2e%2e/%2e%2e/secret.txt", 400),
        ("%2e/inside.jpg", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("/etc/passwd", 400),
        ("%2Ftmp", 400),
        ("..%5csecret.txt", 400),
        ("a%5cb.jpg", 400),
        ("inside.jpg%00.png", 400),
        ("sub//inside.jpg", 400),
        ("escape.jpg", 404),
        ("dir/secret.txt", 404),
        ("sub", 404),
        ("missing.jpg", 404),
        ("sub/missing.jpg", 404),
    ],
)
def test_a_thumbnail_path_cannot_leave_the_output_folder(
    srv: InProcessServer, http: ApiClient, tmp_path: Path, path: str, status: int
) -> None:
    (tmp_path / "secret.txt").write_text("private\n")
    [photo] = write_jpegs(srv.out_dir, 1)
    photo.rename(srv.out_dir / "inside.jpg")
    (srv.out_dir / "sub").mkdir()
    (srv.out_dir / "escape.jpg").symlink_to(tmp_path / "secret.txt")
    (srv.out_dir / "dir").symlink_to(tmp_path)
    assert http.get("/thumbnails/inside.jpg").status_code == 200
    r = http.get(f"/thumbnails/{path}")
    assert r.status_code == status, (path, r.text)
    expected = "Invalid thumbnail path: use the URL a job lists" if status == 400 else None
    assert r.json() == {"error": expected or "No such thumbnail"}
    assert b"private" not in r.content


def test_dot_segments_sent_as_they_are_are_refused(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    # What a raw client may send (tests/e2e/test_server_security.py sends the
    # same over a real socket): the path reaches the app with its dot segments.
    (tmp_path / "secret.txt").write_text("private\n")
    [photo] = write_jpegs(srv.out_dir, 1)
    assert srv.raw_get(f"/thumbnails/{photo.name}")[0] == 200
    for target in (
        "/thumbnails/../secret.txt",
        "/thumbnails/./img0000.jpg",
        "/thumbnails/x/../../secret.txt",
        "/thumbnails/x/../img0000.jpg",
        "/thumbnails/%2e%2e/secret.txt",
        "/thumbnails/..%2fsecret.txt",
        "/thumbnails//etc/passwd",
        "/thumbnails/..%5csecret.txt",
    ):
        status, body = srv.raw_get(target)
        assert status == 400, (target, status, body)
        assert body == b'{"error":"Invalid thumbnail path: use the URL a job lists"}'


def test_retry_queues_a_failed_job_again_and_refuses_others(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    done_id, failed_id, queued_id = queued(http, tmp_path / "in", 3)
    finish_next(srv, [])
    fail_next(srv, "broken")
    assert http.post(f"/jobs/{failed_id}/retry").json() == {"retried": 1}
    assert http.get(f"/jobs/{failed_id}").json()["state"] == "queued"
    for job_id, state in ((done_id, "done"), (queued_id, "queued"), (failed_id, "queued")):
        r = http.post(f"/jobs/{job_id}/retry")
        assert r.status_code == 409, (job_id, r.text)
        assert r.json() == {
            "error": f"Job {job_id} is {state}: only failed, cancelled or vanished jobs are retried"
        }
    missing = http.post("/jobs/999999/retry")
    assert missing.status_code == 404
    assert missing.json() == {"error": "No job 999999"}


def test_pause_and_resume_steer_the_queue(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    [job_id] = queued(http, tmp_path / "in", 1)
    assert http.post("/queue/pause").json() == {"paused": True}
    assert http.get("/status").json()["paused"] is True
    assert srv.queue.store.claim(OWNER) is None  # a worker gets nothing while paused
    assert http.post("/queue/pause").json() == {"paused": True}  # twice is fine
    assert http.post("/queue/resume").json() == {"paused": False}
    assert http.get("/status").json()["paused"] is False
    assert finish_next(srv, []) == job_id


def test_status_has_what_status_json_has(srv: InProcessServer, http: ApiClient) -> None:
    status = http.get("/status").json()
    assert status["queue"] == srv.queue.location
    assert {"queued", "running", "done", "failed", "cancelled", "vanished"} <= set(status)
    assert {"paused", "workers", "worker_list", "failures"} <= set(status)
    assert status["worker_list"] == []


def test_throughput_counts_finished_jobs_per_minute(
    srv: InProcessServer, http: ApiClient, tmp_path: Path
) -> None:
    queued(http, tmp_path / "in", 4)
    finish_next(srv, [])
    finish_next(srv, [])
    fail_next(srv, "broken")
    vanished = srv.queue.store.claim(OWNER)
    assert vanished is not None
    srv.queue.store.vanish(vanished.id, OWNER, "gone")
    default = http.get("/throughput").json()
    assert len(default["minutes"]) == throughput_service.DEFAULT_MINUTES
    hour = http.get("/throughput", params={"minutes": 60}).json()
    assert len(hour["minutes"]) == 60
    assert sum(hour["minutes"]) == 3  # done and failed count, the vanished one does not
    assert isinstance(hour["until"], float)


# Moved from tests/e2e/test_server_dashboard.py (the page and its files need no
# worker); its assertions are kept, on a server with a token, asked without it.
def test_the_dashboard_page_and_its_files(guarded: InProcessServer) -> None:
    with guarded.client(auth=False) as http:
        page = http.get("/")  # the page and its files hold no data: no token needed
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert http.head("/").status_code == 200
        for name, kind in (("app.js", "text/javascript"), ("dashboard.css", "text/css")):
            got = http.get(f"/static/{name}")
            assert got.status_code == 200
            assert got.headers["content-type"] == f"{kind}; charset=utf-8"
            again = http.get(f"/static/{name}", headers={"If-None-Match": got.headers["etag"]})
            assert again.status_code == 304
        for name, error in (
            ("nothing.js", "No dashboard file 'nothing.js'"),
            ("dashboard.html.bak", "No dashboard file 'dashboard.html.bak'"),
            ("..%2F__init__.py", "Not Found"),  # a name is one segment: no route matches
            ("..%2Fdashboard.py", "Not Found"),
            ("%2Fetc%2Fpasswd", "Not Found"),
        ):
            r = http.get(f"/static/{name}")
            assert r.status_code == 404, name
            assert r.json() == {"error": error}, name
