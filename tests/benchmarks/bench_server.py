"""The load test of ``thumbgen serve``: many uploads from concurrent clients, none lost.

``python tests/benchmarks/run.py server`` (``--quick``: 200 uploads, 10
clients). A real ``thumbgen serve -w 2`` on loopback takes 2,000 single-file
uploads (distinct small JPEGs) from 20 client threads; then every job must
end done, each upload its own job, with a thumbnail on disk. Prints
requests per second and latency percentiles of the uploads, and how long
the two workers took to finish the backlog. A lost or failed upload raises.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_common import Config, Reporter, Table, clean_env, fmt_rate, fmt_time, scratch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.redis_server import free_port
from support.server import ServeProcess, percentile, upload_concurrently


def payloads(count: int) -> list[tuple[str, bytes]]:
    """``count`` distinct 64x48 JPEGs (fresh noise each), in memory."""
    found = []
    for i in range(count):
        im = Image.effect_noise((64, 48), 60).convert("RGB")
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
        found.append((f"load{i:05d}.jpg", buf.getvalue()))
    return found


def run(config: Config, report: Reporter) -> None:
    """The load test; see the module docstring."""
    uploads = config.size(2000, 200)
    clients = config.size(20, 10)
    workers = 2
    with scratch(config, "server") as folder:
        env = clean_env(folder / "queue.db")
        port = free_port()
        log = folder / "serve.log"
        argv = [sys.executable, "-m", "thumbgen", "serve", "--port", str(port)]
        argv += ["-o", str(folder / "thumbs"), "-w", str(workers), "-s", "64"]
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        srv = ServeProcess(proc, port, log, None)
        try:
            srv.wait_healthy()
            bodies = payloads(uploads)
            latencies, ids, wall = upload_concurrently(srv.url, bodies, clients)
            uploaded_at = time.perf_counter()
            import httpx

            with httpx.Client(base_url=srv.url, timeout=60) as http:
                deadline = time.monotonic() + 900
                while True:
                    status = http.get("/status").json()
                    if status["queued"] + status["running"] == 0:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"backlog not finished in 900 s: {status}")
                    time.sleep(0.2)
                drained = time.perf_counter() - uploaded_at
                done = http.get("/jobs", params={"state": "done", "limit": 10000}).json()
            done_ids = {j["id"] for j in done}
            lost = [i for i in ids if i not in done_ids]
            if len(set(ids)) != uploads or lost or status["failed"]:
                raise RuntimeError(
                    f"{uploads} uploads: {len(set(ids))} jobs, {len(lost)} not done, "
                    f"{status['failed']} failed"
                )
            outputs = len(os.listdir(folder / "thumbs"))
            if outputs != uploads:
                raise RuntimeError(f"{uploads} uploads done but {outputs} thumbnails on disk")
        finally:
            srv.stop()
    table = Table(
        f"serve: {uploads} uploads from {clients} clients, -w {workers}, loopback",
        ("measure", "value"),
    )
    table.add("uploads accepted (202)", uploads)
    table.add("jobs done, thumbnails on disk", f"{len(done_ids)}, {outputs}")
    table.add("upload wall time", fmt_time(wall))
    table.add("requests per second", fmt_rate(uploads / wall))
    for pct in (50, 90, 99):
        table.add(f"latency p{pct}", fmt_time(percentile(latencies, pct)))
    table.add("latency max", fmt_time(max(latencies)))
    table.add("backlog finished after the last upload", fmt_time(drained))
    table.add("end to end (uploads + backlog)", fmt_rate(uploads / (wall + drained), " jobs/s"))
    table.note("Each request is one file; the 2 workers run in the same machine's 2 cores.")
    report.table(table)


if __name__ == "__main__":
    run(Config(quick="--quick" in sys.argv), Reporter())
