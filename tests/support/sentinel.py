"""Redis Sentinel for tests: a master, a replica and a real ``redis-sentinel`` watching them.

``redis-sentinel`` comes from Debian's package of that name (.ci/run installs
it); tests never skip for want of it. Timings are cut to seconds: the master
counts as down after 1 s without an answer, and one sentinel (quorum 1) is
enough to fail over.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from support.redis_server import RedisServer, free_port

SERVICE = "thumbgen"


class ReplicaServer(RedisServer):
    """A ``redis-server`` that replicates ``master`` from the start."""

    def __init__(self, workdir: Path, master: RedisServer) -> None:
        super().__init__(workdir)
        self.master = master

    def argv(self) -> list[str]:
        """The server's command line, as a replica."""
        return [*super().argv(), "--replicaof", self.master.host, str(self.master.port)]


class SentinelProcess:
    """One ``redis-sentinel`` watching ``master`` as :data:`SERVICE`."""

    def __init__(self, workdir: Path, master: RedisServer) -> None:
        self.workdir = workdir
        self.master = master
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Write its config (it rewrites the file as it learns) and start it."""
        exe = shutil.which("redis-sentinel")
        if exe is None:
            raise RuntimeError(
                "redis-sentinel is not installed; the Sentinel test needs it "
                "(apt-get install -y redis-sentinel, as .ci/run does)"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "sentinel.conf"
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode no\ndir {self.workdir}\n"
            f"sentinel monitor {SERVICE} {self.master.host} {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 4000\n"
        )
        with open(self.workdir / "sentinel.log", "ab") as log:
            self.proc = subprocess.Popen([exe, str(conf)], stdout=log, stderr=subprocess.STDOUT)
        client = self.client()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.sentinel_master(SERVICE):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-sentinel did not answer within 15 s")

    def client(self) -> redis.Redis:
        """A client of the sentinel itself."""
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)

    def master_port(self) -> int:
        """The port of the server the sentinel names master now."""
        return int(self.client().sentinel_get_master_addr_by_name(SERVICE)[1])

    def knows_replica(self) -> bool:
        """Whether the sentinel has found the master's replica, with its link up."""
        with contextlib.suppress(redis.RedisError):
            replicas = self.client().sentinel_slaves(SERVICE)
            return any(r.get("master-link-status") == "ok" for r in replicas)
        return False

    def stop(self) -> None:
        """Stop the sentinel."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self.proc = None

    @property
    def url(self) -> str:
        """The queue URL through this sentinel."""
        return f"redis+sentinel://127.0.0.1:{self.port}/{SERVICE}/0"


@contextlib.contextmanager
def sentinel_group(workdir: Path) -> Iterator[tuple[RedisServer, RedisServer, SentinelProcess]]:
    """A master, its replica and a sentinel, all started; stopped on leaving the block."""
    master = RedisServer(workdir / "master")
    replica = ReplicaServer(workdir / "replica", master)
    sentinel = SentinelProcess(workdir / "sentinel", master)
    started: list[RedisServer | SentinelProcess] = []
    try:
        for process in (master, replica, sentinel):
            process.start()
            started.append(process)
        yield master, replica, sentinel
    finally:
        for process in reversed(started):
            process.stop()
