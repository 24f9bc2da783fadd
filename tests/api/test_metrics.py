"""``GET /metrics`` in-process: the Prometheus text format, parsed by prometheus_client's parser.

No worker runs: jobs are claimed, failed and finished through the real
store, as a worker would, and the scrape must say so.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from support.imagegen import write_jpegs
from support.inprocess import InProcessServer
from test_jobs import fail_next, finish_next, queued

from thumbgen.commands.metrics import reason_class
from thumbgen.jobqueue.contract import State


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: ``(name, sorted labels) -> value``."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_count_jobs_failures_durations_and_uploads(
    srv: InProcessServer, tmp_path: Path
) -> None:
    with srv.client() as http:
        queued(http, tmp_path / "in", 5)
        finish_next(srv, [])
        finish_next(srv, [])
        fail_next(srv, "Corrupt image: /x.jpg (Truncated File Read)")
        fail_next(srv, "Something unheard of")
        refused = http.post("/thumbnails", files=[("file", ("a.txt", b"plain text"))])
        assert refused.status_code == 415
        r = http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == CONTENT_TYPE_LATEST  # the text format, not OpenMetrics
    m = scrape(r.text)
    jobs = {s: m[("thumbgen_jobs", (("state", s),))] for s in ("queued", "running", "done")}
    assert jobs == {"queued": 1, "running": 0, "done": 2}
    assert m[("thumbgen_jobs", (("state", "failed"),))] == 2
    assert m[("thumbgen_failed_jobs", (("reason_class", "corrupt"),))] == 1
    assert m[("thumbgen_failed_jobs", (("reason_class", "other"),))] == 1
    assert m[("thumbgen_failed_jobs", (("reason_class", "unsupported"),))] == 0
    assert m[("thumbgen_workers", ())] == 0
    assert m[("thumbgen_jobs_finished_last_minute", ())] == 4
    assert m[("thumbgen_queue_paused", ())] == 0
    # Both done jobs are in the duration window (claimed and finished in well under a minute).
    assert m[("thumbgen_job_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert m[("thumbgen_job_duration_seconds_bucket", (("le", "60.0"),))] == 2
    assert m[("thumbgen_job_duration_seconds_gcount", ())] == 2
    # Uploads: one request of five images and one refused, with their body bytes.
    assert m[("thumbgen_upload_requests_total", (("status", "202"),))] == 1
    assert m[("thumbgen_upload_requests_total", (("status", "415"),))] == 1
    sent = sum(p.stat().st_size for p in (tmp_path / "in").iterdir())
    assert m[("thumbgen_upload_bytes_total", ())] > sent


def test_done_and_failed_ever_are_counters_that_clear_does_not_lower(
    srv: InProcessServer, tmp_path: Path
) -> None:
    with srv.client() as http:
        queued(http, tmp_path / "in", 3)
        finish_next(srv, [])
        fail_next(srv, "Corrupt image: /x.jpg (Truncated File Read)")
        before = scrape(http.get("/metrics").text)
        srv.queue.store.clear([State.DONE, State.FAILED])
        after = scrape(http.get("/metrics").text)
    for m in (before, after):
        assert m[("thumbgen_jobs_done_total", ())] == 1
        assert m[("thumbgen_jobs_failed_total", (("reason_class", "corrupt"),))] == 1
        assert m[("thumbgen_jobs_failed_total", (("reason_class", "other"),))] == 0
    # The gauges of jobs as they stand fall with the clear; the counters do not.
    assert before[("thumbgen_jobs", (("state", "done"),))] == 1
    assert after[("thumbgen_jobs", (("state", "done"),))] == 0


def test_a_refused_upload_is_counted_with_its_status(srv: InProcessServer, tmp_path: Path) -> None:
    [path] = write_jpegs(tmp_path / "in", 1)
    with srv.client() as http:
        r = http.post(
            "/thumbnails",
            files=[("file", ("a.jpg", path.read_bytes()))],
            data={"size": ["64"] * 65},
        )
        assert r.status_code == 413
        m = scrape(http.get("/metrics").text)
    assert m[("thumbgen_upload_requests_total", (("status", "413"),))] == 1


def test_metrics_need_the_token_like_the_rest(guarded: InProcessServer) -> None:
    with guarded.client(auth=False) as anon:
        r = anon.get("/metrics")
        assert r.status_code == 401
        assert r.json()["error"].startswith("This server needs a token")
    with guarded.client() as http:
        assert http.get("/metrics").status_code == 200


def test_reason_classes_follow_thumbgen_messages() -> None:
    assert reason_class("Corrupt image: {source} (Truncated File Read)") == "corrupt"
    assert reason_class("Unsupported image: {source} is a JPEG 2000") == "unsupported"
    assert reason_class("Too many pixels: {source} is 1x2") == "too_many_pixels"
    assert reason_class("Cannot write /t/a.jpg: disk full") == "output"
    assert reason_class("failed") == "other"
