"""Two machines that share nothing but Redis and a bucket: no shared disk (issue 19).

The "machines" are network namespaces (tests/support/netns.py), each with a
folder of its own as its home and temporary space. Sources are objects in a
bucket and thumbnails go to one; each machine reaches the S3 server through
a proxy on its own link (which also counts what it asked), and Redis through
its own address. Nothing passes through the file system between them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image
from support.buckets import objects
from support.netns import machine
from support.procs import run_thumbgen, status_json, wait_until, worker
from support.redis_server import RedisServer, redis_env
from support.s3_proxy import S3Proxy
from support.s3_server import S3Server

from thumbgen.storage import Blob, open_storage

JOBS = 40


def _photos(location: str, count: int) -> None:
    """``count`` noisy 1600x1200 photos (a few hundred ms each to thumbnail) under ``location``."""
    store = open_storage(location)
    blobs = []
    for i in range(count):
        noise = Image.effect_noise((1600, 1200), 40 + i).convert("RGB")
        buf = io.BytesIO()
        noise.save(buf, "JPEG", quality=85)
        blobs.append(Blob(f"day{i % 4}/img{i:03d}.jpg", buf.getvalue(), "image/jpeg"))
    store.put_all(blobs)


def test_two_machines_thumbnail_a_bucket_into_a_bucket_sharing_no_folder(
    tmp_path: Path, s3_server: S3Server, bucket: str
) -> None:
    _photos(f"{bucket}/in/", JOBS)
    tag = os.getpid() % 200 + 20  # distinct names and subnets for concurrent runs
    with (
        machine(f"tsa{tag}", tag) as (_, addr_a),
        machine(f"tsb{tag}", tag + 1) as (_, addr_b),
    ):
        redis = RedisServer(tmp_path / "redis", bind=f"127.0.0.1 {addr_a} {addr_b}")
        redis.start()
        try:
            with (
                S3Proxy(s3_server.endpoint, host=addr_a) as via_a,
                S3Proxy(s3_server.endpoint, host=addr_b) as via_b,
            ):
                here = s3_server.env(**redis_env(redis.url))
                added = run_thumbgen("add", f"{bucket}/in/", "-o", f"{bucket}/out/", env=here)
                assert added.returncode == 0, added.stderr
                homes = {}
                for name, addr, proxy in (("a", addr_a, via_a), ("b", addr_b, via_b)):
                    home = tmp_path / name
                    (home / "tmp").mkdir(parents=True)
                    env = s3_server.env(**redis_env(redis.url_via(addr)))
                    env.update(AWS_ENDPOINT_URL=proxy.endpoint, HOME=str(home))
                    env.update(TMPDIR=str(home / "tmp"))
                    homes[name] = (home, env)
                (home_a, env_a), (home_b, env_b) = homes["a"], homes["b"]
                with (
                    worker(env_a, home_a / "worker.log", "-w", "1", prefix=_on(f"tsa{tag}")),
                    worker(env_b, home_b / "worker.log", "-w", "1", prefix=_on(f"tsb{tag}")),
                ):
                    assert wait_until(
                        lambda: status_json(here)["done"] == JOBS, timeout=240, interval=0.5
                    ), (home_a / "worker.log").read_text() + (home_b / "worker.log").read_text()
                # Both machines read sources and stored thumbnails, each through its own link.
                for proxy in (via_a, via_b):
                    assert proxy.count("GET") > 0
                    assert proxy.count("PUT") > 0
            status = status_json(here)
            assert (status["done"], status["failed"], status["running"]) == (JOBS, 0, 0)
        finally:
            redis.stop()
    made = objects(f"{bucket}/out/")
    assert sorted(made) == sorted(f"day{i % 4}/img{i:03d}_256x256.jpg" for i in range(JOBS))
    for data in made.values():
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # complete
            assert im.size == (256, 192)
    # Each machine's own folder holds its log and nothing else: no photo, no thumbnail.
    for name in ("a", "b"):
        left = sorted(
            p.relative_to(tmp_path / name).as_posix() for p in (tmp_path / name).rglob("*")
        )
        assert left == ["tmp", "worker.log"], left


def _on(namespace: str) -> tuple[str, ...]:
    return ("ip", "netns", "exec", namespace)
