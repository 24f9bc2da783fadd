"""``GET /metrics`` of a real ``thumbgen serve`` with its workers, scraped like Prometheus would."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from support.imagegen import write_jpegs
from support.server import served, upload, wait_jobs


def test_a_scrape_after_real_jobs_parses_and_counts_them(
    tmp_path: Path, env: dict[str, str]
) -> None:
    paths = [write_jpegs(tmp_path / "in", 1, prefix=f"m{i}-")[0] for i in range(3)]
    with served(tmp_path, env, "-w", "1", token="tok") as srv, srv.client() as http:
        r = upload(http, paths)
        assert r.status_code == 202, r.text
        wait_jobs(http, [f["id"] for f in r.json()["files"]])
        with srv.client(auth=False) as anon:
            assert anon.get("/metrics").status_code == 401
        text = http.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["thumbgen_jobs"].type == "gauge"
    assert families["thumbgen_job_duration_seconds"].type == "histogram"
    assert families["thumbgen_upload_requests"].type == "counter"
    value = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert value[("thumbgen_jobs", (("state", "done"),))] == 3
    assert value[("thumbgen_workers", ())] == 1
    assert value[("thumbgen_job_duration_seconds_bucket", (("le", "+Inf"),))] == 3
    assert value[("thumbgen_upload_requests_total", (("status", "202"),))] == 1
    assert value[("thumbgen_upload_bytes_total", ())] > sum(p.stat().st_size for p in paths)
