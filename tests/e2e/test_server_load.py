"""A small load test in the default suite: concurrent uploads, every one ends done, none lost.

The full one (2,000 uploads, 20 clients) is ``python tests/benchmarks/run.py server``.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from support.procs import wait_until
from support.server import served, upload_concurrently, wait_jobs

UPLOADS = 100
CLIENTS = 10


def test_concurrent_uploads_all_end_done(tmp_path: Path, env: dict[str, str]) -> None:
    payloads = []
    for i in range(UPLOADS):
        buf = io.BytesIO()
        Image.effect_noise((48, 32), 60).convert("RGB").save(buf, "JPEG")
        payloads.append((f"p{i}.jpg", buf.getvalue()))
    with served(tmp_path, env, "-w", "2", "-s", "32", token="load") as srv:
        _, ids, _ = upload_concurrently(srv.url, payloads, CLIENTS, srv.headers())
        assert len(set(ids)) == UPLOADS
        with srv.client() as http:
            jobs = wait_jobs(http, ids)
            assert {j["state"] for j in jobs} == {"done"}
            assert wait_until(lambda: http.get("/status").json()["done"] == UPLOADS, 60)
    assert len(list((tmp_path / "thumbs").iterdir())) == UPLOADS
    assert len(list((tmp_path / "thumbs-uploads").iterdir())) == UPLOADS
