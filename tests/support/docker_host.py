"""A Docker daemon and a base image for the deploy test (tests/deploy), on machines with neither.

- :func:`daemon` uses the daemon that answers, or starts ``dockerd`` (vfs
  storage, no iptables: what runs as root in a plain VM or container) and
  stops it afterwards; only one it started. When none can run, it raises
  :class:`Unavailable` with the reason, which the test reports as a skip.
- :func:`base_image` is the Dockerfile's default base when it can be had;
  where no image registry is reachable, a Debian made with ``debootstrap``
  from Debian's mirror and ``docker import``-ed, with Python and this
  machine's CA bundle (the one pip uses: builds reach the package index
  through whatever this machine trusts).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

DEFAULT_BASE = "python:3.11-slim"
LOCAL_BASE = "thumbgen-deploy-base:bookworm"
MIRROR = "http://deb.debian.org/debian"


class Unavailable(Exception):
    """No Docker daemon can run here (the reason is the message)."""


def docker(*args: str, timeout: float = 600, check: bool = True) -> str:
    """``docker ARGS``' standard output; a failure raises with its last error line."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"docker {' '.join(args[:3])}: exit {done.returncode}: {last}")
    return done.stdout


def _answers() -> bool:
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextlib.contextmanager
def daemon(workdir: Path, timeout: float = 60) -> Iterator[None]:
    """A daemon answering ``docker``: the running one, or one started here and stopped after."""
    if shutil.which("docker") is None:
        raise Unavailable("no docker client on PATH (Debian: apt-get install docker.io)")
    if _answers():
        yield
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise Unavailable("no Docker daemon answers and dockerd is not installed (docker.io)")
    if os.geteuid() != 0:
        raise Unavailable("no Docker daemon answers and starting dockerd needs root")
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "dockerd.log"
    with open(log_path, "wb") as log:
        # vfs works on any file system (overlay cannot nest in every
        # sandbox); without iptables the daemon starts where netfilter is
        # not available; builds then use the host's network (see the test).
        proc = subprocess.Popen(
            [dockerd, "--storage-driver=vfs", "--iptables=false"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not _answers():
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise Unavailable(f"dockerd exited {proc.returncode}: {' '.join(tail)}")
            if time.monotonic() > deadline:
                raise Unavailable(f"dockerd did not answer within {timeout:.0f} s; see {log_path}")
            time.sleep(0.5)
        yield
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def pip_ca_bundle() -> Path | None:
    """The CA bundle pip is configured with here (``pip config list``), if any."""
    found = os.environ.get("PIP_CERT")
    if not found:
        done = subprocess.run(
            ["python3", "-m", "pip", "config", "list"], capture_output=True, text=True
        )
        for line in done.stdout.splitlines():
            key, _, value = line.partition("=")
            if key.endswith(".cert"):
                found = value.strip("'\"")
    return Path(found) if found and Path(found).is_file() else None


def _present(image: str) -> bool:
    done = subprocess.run(["docker", "image", "inspect", image], capture_output=True)
    return done.returncode == 0


def _pullable(image: str) -> bool:
    if _present(image):
        return True
    try:
        done = subprocess.run(["docker", "pull", image], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def base_image(workdir: Path) -> str:
    """A base for the Dockerfile's BASE: the default, or a local Debian with Python 3.11."""
    if _pullable(DEFAULT_BASE):
        return DEFAULT_BASE
    if _present(LOCAL_BASE):
        return LOCAL_BASE
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise Unavailable(f"{DEFAULT_BASE} cannot be pulled and debootstrap is not installed")
    rootfs = workdir / "rootfs"
    packages = "--include=python3,python3-venv,ca-certificates"
    subprocess.run(
        [debootstrap, "--variant=minbase", packages, "bookworm", str(rootfs), MIRROR],
        check=True,
        capture_output=True,
        timeout=900,
    )
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (rootfs / cache).glob("*"):
            if item.is_file():
                item.unlink()
    bundle = pip_ca_bundle()
    if bundle is not None:
        shutil.copyfile(bundle, rootfs / "etc/ssl/certs/ca-certificates.crt")
    # tar(1), not tarfile: the root file system has device nodes and hard links.
    with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
        subprocess.run(
            ["docker", "import", "--change", 'CMD ["/bin/bash"]', "-", LOCAL_BASE],
            stdin=tar.stdout,
            check=True,
            capture_output=True,
        )
    assert tar.returncode == 0
    shutil.rmtree(rootfs)
    return LOCAL_BASE
