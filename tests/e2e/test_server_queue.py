"""Steering the queue over HTTP, and the same API on a Redis queue.

Pause holds uploads queued until resume; a failed upload is listed under
``/jobs?state=failed`` and retried by id. On Redis, jobs from ``thumbgen
add`` and from uploads show in one ``status`` and two servers share the
queue; when redis-server goes away ``/health`` says 503 and the other
endpoints answer one JSON line, not a traceback.
"""

from __future__ import annotations

import time
from pathlib import Path

from support.imagegen import truncated_jpeg
from support.procs import run_thumbgen, status_json, wait_until
from support.redis_server import redis_env, redis_server, tiny_jpegs
from support.server import served, upload, wait_jobs


def test_pause_holds_uploads_until_resume(tmp_path: Path, env: dict[str, str]) -> None:
    [photo] = tiny_jpegs(tmp_path / "in", 1)
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        assert wait_until(lambda: http.get("/status").json()["workers"] >= 1, 60)
        assert http.post("/queue/pause").json() == {"paused": True}
        assert http.get("/status").json()["paused"] is True
        job_id = upload(http, [photo]).json()["files"][0]["id"]
        time.sleep(1.0)  # a live worker had the time to claim it, and did not
        assert http.get(f"/jobs/{job_id}").json()["state"] == "queued"
        assert http.post("/queue/resume").json() == {"paused": False}
        [job] = wait_jobs(http, [job_id])
        assert job["state"] == "done"
        assert http.get("/status").json()["paused"] is False


def test_a_failed_upload_is_listed_and_retried_by_id(tmp_path: Path, env: dict[str, str]) -> None:
    broken = truncated_jpeg(tmp_path / "broken.jpg", size=(400, 300))
    [good] = tiny_jpegs(tmp_path / "in", 1)
    with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
        files = upload(http, [broken, good]).json()["files"]
        bad_id, good_id = files[0]["id"], files[1]["id"]
        [failed, done] = wait_jobs(http, [bad_id, good_id])
        assert failed["state"] == "failed"
        assert failed["error"]
        assert done["state"] == "done"
        listed = http.get("/jobs", params={"state": "failed"}).json()
        assert [j["id"] for j in listed] == [bad_id]
        assert http.get("/status").json()["failures"][0]["error"] == failed["error"]
        assert http.post(f"/jobs/{bad_id}/retry").json() == {"retried": 1}
        [again] = wait_jobs(http, [bad_id])
        assert again["state"] == "failed"
        assert len(again["attempt_list"]) == 2
        not_failed = http.post(f"/jobs/{good_id}/retry")
        assert not_failed.status_code == 409
        assert "done" in not_failed.json()["error"]
        assert http.post("/jobs/999999/retry").status_code == 404
        assert http.get("/jobs", params={"state": "bogus"}).status_code == 422


def test_uploads_on_redis_and_an_outage_answered_with_503(tmp_path: Path) -> None:
    added = tiny_jpegs(tmp_path / "added", 2)
    uploaded = tiny_jpegs(tmp_path / "uploaded", 3, size=(80, 40))
    with redis_server(tmp_path / "redis") as redis:
        env = redis_env(redis.url)
        with served(tmp_path, env, "-w", "1") as srv, srv.client() as http:
            cli = run_thumbgen("add", str(tmp_path / "added"), "-o", str(tmp_path / "cli"), env=env)
            assert cli.returncode == 0, cli.stderr
            ids = [f["id"] for f in upload(http, uploaded).json()["files"]]
            wait_jobs(http, ids)
            assert wait_until(lambda: status_json(env)["done"] == 5, 120)
            status = http.get("/status").json()
            assert status["queue"].startswith("redis://")
            assert status["done"] == 5
            # A second server on the same queue and folders (behind one load
            # balancer): its upload is run by the first one's worker.
            [extra] = tiny_jpegs(tmp_path / "second", 1, size=(50, 50))
            with served(tmp_path, env, "-w", "0") as other, other.client() as http2:
                job_id = upload(http2, [extra]).json()["files"][0]["id"]
                [job] = wait_jobs(http2, [job_id])
                assert job["state"] == "done"
                assert http2.get("/status").json()["done"] == 6
                assert http.get(f"/jobs/{job_id}").json()["thumbnails"] == job["thumbnails"]
            assert len(list((tmp_path / "cli").iterdir())) == len(added)
            redis.stop()
            health = http.get("/health")
            assert health.status_code == 503
            # Health is open to anyone: it says the queue is down, not where it is.
            assert health.json() == {"error": "The queue does not answer"}
            for path in ("/status", "/jobs", f"/jobs/{ids[0]}"):
                r = http.get(path)
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert "\n" not in r.json()["error"]
            r = upload(http, uploaded[:1])
            assert r.status_code == 503, r.text
            redis.start()
            assert wait_until(lambda: http.get("/health").status_code == 200, 60)
