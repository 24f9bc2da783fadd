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
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


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
        self.port = port or free_port(bind if bind != "0.0.0.0" else "127.0.0.1")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL a client uses (with the password, if any)."""
        auth = f":{self.password}@" if self.password else ""
        host = "127.0.0.1" if self.bind == "0.0.0.0" else self.bind
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
        host = "127.0.0.1" if self.bind == "0.0.0.0" else self.bind
        try:
            with socket.create_connection((host, self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                reply = s.recv(64)
        except OSError:
            return False
        # NOAUTH also means it is up and answering.
        return reply.startswith(b"+PONG") or b"NOAUTH" in reply

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
