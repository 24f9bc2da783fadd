"""A real ``redis-server`` for tests: on a free loopback port, stopped afterwards.

Tests never skip for want of Redis: if ``redis-server`` is missing, starting
one fails with a message saying how to install it (.ci/run installs
Debian's). ``persistent=True`` gives one with an append-only file fsynced on
every write (for the restart test: what a client was told is written
survives); otherwise persistence is off, which is what the contract suite
wants (fast, nothing left on disk).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process and where it listens."""

    def __init__(
        self,
        workdir: Path,
        *,
        persistent: bool = False,
        password: str | None = None,
        bind: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.persistent = persistent
        self.password = password
        self.bind = bind
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """The first address it listens on (``bind`` may list several)."""
        return self.bind.split()[0]

    @property
    def url(self) -> str:
        """The URL a client uses (with the password, if any)."""
        return self.url_via(self.host)

    def url_via(self, host: str) -> str:
        """The URL through another of its addresses (one per network namespace)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{host}:{self.port}/0"

    def argv(self) -> list[str]:
        """The server's command line."""
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError(
                "redis-server is not installed; the Redis tests need it "
                "(apt-get install -y redis-server, as .ci/run does)"
            )
        argv = [exe, "--port", str(self.port), "--bind", self.bind, "--dir", str(self.workdir)]
        argv += ["--protected-mode", "no", "--save", "", "--daemonize", "no"]
        if self.persistent:
            argv += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            argv += ["--appendonly", "no"]
        if self.password:
            argv += ["--requirepass", self.password]
        return argv

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 (the process keeps it)
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = (self.workdir / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server exited at start:\n{text}")
            if self._answers():
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer within 15 s")

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                reply = s.recv(64)
        except OSError:
            return False
        # NOAUTH also means it is up and answering.
        return reply.startswith(b"+PONG") or b"NOAUTH" in reply

    def flushall(self) -> None:
        """Empty every database (a fresh queue for the next test)."""
        with socket.create_connection((self.host, self.port), timeout=5) as s:
            auth = f"AUTH {self.password}\r\n".encode() if self.password else b""
            s.sendall(auth + b"FLUSHALL\r\n")
            replies = b""
            while replies.count(b"\r\n") < (2 if auth else 1):
                replies += s.recv(64)
        assert replies.endswith(b"+OK\r\n"), replies

    def stop(self) -> None:
        """Stop the server (SIGTERM: a persistent one flushes its file first)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


@contextlib.contextmanager
def redis_server(workdir: Path, **kwargs: object) -> Iterator[RedisServer]:
    """A started server, stopped on leaving the block."""
    server = RedisServer(workdir, **kwargs)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()


#: Timings that make leases and reconnects take seconds, not minutes.
FAST_REDIS = {
    "THUMBGEN_REDIS_LEASE": "4",
    "THUMBGEN_REDIS_SOCKET_TIMEOUT": "2",
    "THUMBGEN_REDIS_CONNECT_TIMEOUT": "1",
}


def redis_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a thumbgen process on the queue at ``url``, with fast timings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THUMBGEN_")}
    env.update(FAST_REDIS)
    env["THUMBGEN_QUEUE"] = url
    env.update(extra)
    return env


def tiny_jpegs(folder: Path, count: int, size: tuple[int, int] = (96, 64)) -> list[Path]:
    """``count`` small JPEGs, each a different colour (so outputs tell them apart)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"img{i:04d}.jpg"
        Image.new("RGB", size, (i % 256, (i * 7) % 256, (i * 13) % 256)).save(path, quality=90)
        paths.append(path)
    return paths


def check_outputs(out_dir: Path, jobs: list[dict[str, Any]], box: int) -> None:
    """Each done job's outputs exist once, complete, with nothing else left in ``out_dir``.

    Complete: every recorded output decodes in full and fits the box. Once:
    the folder holds exactly the recorded outputs, one per job (no second
    copy under another name, no temporary file of an interrupted write).
    """
    from PIL import Image

    recorded = [o for job in jobs for o in job["outputs"]]
    assert len(recorded) == len(set(recorded)) == len(jobs)
    on_disk = sorted(str(p) for p in out_dir.rglob("*") if p.is_file())
    assert on_disk == sorted(recorded)
    for path in recorded:
        with Image.open(path) as img:
            img.load()
            assert max(img.size) <= box
