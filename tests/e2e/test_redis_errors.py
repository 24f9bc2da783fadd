"""Redis queues when things go wrong: one-line errors, and the reasons a job fails.

Real ``redis-server`` processes and real ``thumbgen`` commands: Redis down,
unreachable (a network namespace with no route to it), restarted, refusing
the password or asking for one; the ``redis`` package missing; a source
missing on the worker's machine (a share that is not mounted there).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.procs import status_json
from support.redis_server import free_port, redis_env, redis_server, tiny_jpegs


def thumbgen(
    env: dict[str, str], *args: str, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "thumbgen", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert text in lines[0]


@pytest.mark.parametrize("command", ["status", "add", "jobs", "worker"])
def test_redis_down_is_one_line(tmp_path: Path, command: str) -> None:
    tiny_jpegs(tmp_path / "src", 1)
    args = {"add": ("add", str(tmp_path / "src")), "worker": ("worker", "--burst")}
    env = redis_env(f"redis://127.0.0.1:{free_port()}/0")
    result = thumbgen(env, *args.get(command, (command,)))
    one_line_error(result, "Cannot reach Redis at redis://127.0.0.1:")


@contextlib.contextmanager
def isolated_namespace(name: str) -> Iterator[tuple[str, ...]]:
    """A network namespace with only loopback: nothing outside it is reachable."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield ("ip", "netns", "exec", name)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_redis_unreachable_is_one_line(tmp_path: Path) -> None:
    with isolated_namespace(f"tg-unreach-{free_port()}") as prefix:
        env = redis_env("redis://10.77.250.1:6379/0")
        result = thumbgen(env, "status", prefix=prefix)
    one_line_error(result, "Cannot reach Redis at redis://10.77.250.1:6379/0")


def test_a_refused_or_missing_password_is_one_line(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis", password="s3cret") as server:
        wrong = server.url.replace("s3cret", "wrong")
        result = thumbgen(redis_env(wrong), "status")
        one_line_error(result, "refused the password")
        assert "wrong" not in result.stderr  # the password is never shown
        bare = server.url.replace(":s3cret@", "")
        one_line_error(thumbgen(redis_env(bare), "status"), "needs a password")
        # The password may come from the environment instead of the URL.
        tiny_jpegs(tmp_path / "src", 1)
        env = redis_env(bare, THUMBGEN_REDIS_PASSWORD="s3cret")
        ok = thumbgen(env, "add", str(tmp_path / "src"), "-o", str(tmp_path / "out"))
        assert ok.returncode == 0, ok.stderr
        assert status_json(redis_env(server.url))["queued"] == 1


def test_a_restarted_redis_keeps_the_queue(tmp_path: Path) -> None:
    tiny_jpegs(tmp_path / "src", 5)
    with redis_server(tmp_path / "redis", persistent=True) as server:
        env = redis_env(server.url)
        assert (
            thumbgen(env, "add", str(tmp_path / "src"), "-o", str(tmp_path / "out")).returncode == 0
        )
        server.stop()
        one_line_error(thumbgen(env, "status"), "Cannot reach Redis")
        server.start()
        assert status_json(env)["queued"] == 5


def test_without_the_redis_package_a_redis_url_says_how_to_install_it(tmp_path: Path) -> None:
    # ``sys.modules[name] = None`` makes ``import redis`` raise ImportError,
    # exactly as if the package were not installed.
    code = (
        "import sys, runpy; sys.modules['redis'] = None;"
        " sys.argv = ['thumbgen', 'status']; runpy.run_module('thumbgen', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=redis_env("redis://127.0.0.1:1/0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    one_line_error(
        result,
        "Redis queues need the redis package (the redis extra): from the thumbgen checkout, "
        "pipx install --force '.[redis]', or pipx inject thumbgen-cli 'redis>=5'",
    )


OTHER_HOST = "worker-elsewhere"


def test_a_source_missing_on_the_workers_host_fails_once_with_the_reason(tmp_path: Path) -> None:
    sources = tiny_jpegs(tmp_path / "share", 2)
    with redis_server(tmp_path / "redis") as server:
        env = redis_env(server.url)
        out = str(tmp_path / "out")
        assert thumbgen(env, "add", str(tmp_path / "share"), "-o", out).returncode == 0
        # The share is "not mounted" on the worker's machine: another host (its
        # own UTS namespace) than the one that queued the jobs, which alone
        # could tell that the file is gone (vanished) rather than out of reach.
        moved = tmp_path / "elsewhere"
        moved.mkdir()
        sources[0].rename(moved / sources[0].name)
        elsewhere = ("unshare", "--uts", "sh", "-c", f'hostname {OTHER_HOST}; exec "$0" "$@"')
        worker = thumbgen(env, "worker", "--burst", "-w", "1", prefix=elsewhere)
        assert worker.returncode == 0, worker.stderr
        status = status_json(env)
        assert (status["done"], status["failed"], status["vanished"]) == (1, 1, 0)
        [failure] = status["failures"]
        assert failure["error"] == (
            f"{sources[0]} not found on host {OTHER_HOST}; is the share mounted?"
        )
        shown = thumbgen(env, "jobs", "--state", "failed", "--json")
        [job] = json.loads(shown.stdout)
        assert job["attempts"] == 1  # failed at once, not retried
        # Mounted again: the next add queues it once more (not "failed before").
        (moved / sources[0].name).rename(sources[0])
        again = thumbgen(env, "add", str(tmp_path / "share"), "-o", out)
        assert again.returncode == 0, again.stderr
        assert "1 queued" in again.stdout


def test_a_source_deleted_on_the_host_that_queued_it_vanishes(tmp_path: Path) -> None:
    sources = tiny_jpegs(tmp_path / "src", 2)
    with redis_server(tmp_path / "redis") as server:
        env = redis_env(server.url)
        assert (
            thumbgen(env, "add", str(tmp_path / "src"), "-o", str(tmp_path / "out")).returncode == 0
        )
        sources[1].unlink()
        worker = thumbgen(env, "worker", "--burst", "-w", "1")
        assert worker.returncode == 0, worker.stderr
        status = status_json(env)
        assert (status["done"], status["failed"], status["vanished"]) == (1, 0, 1)
