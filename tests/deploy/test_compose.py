"""`docker-compose up --build` from the checkout, for real: ``nox -s deploy`` (and .ci/run).

A real Docker daemon (started here when none runs, stopped after), the
checkout's own Dockerfile and compose files, run with Debian's
``docker-compose`` 1.29 (or ``docker compose`` v2 when that is what there
is). For each stack, the shared-folder one and the object-storage one:

- build and start it, wait until every service is healthy;
- upload photos through the API and drop photos where the stack takes them
  (./inbox on the host, or the photos bucket): complete thumbnails appear
  (./thumbnails on the host, or the thumbnails bucket) and ``thumbgen status``
  inside a container counts them;
- scale the workers to 3 containers, SIGKILL one that is running a job in
  the middle of a batch: every job ends done, one job per source;
- down (the volumes kept) and up again: the paused queue with its waiting
  jobs and every result are still there, and the jobs then run.

It prints the build and start times and each container's memory at rest and
under a batch (docker stats). Where no daemon can run it is a skip with the
reason, never a pass. Tests/deploy is left out of ``pytest`` unless ``-m``
names ``deploy`` (it takes minutes and a daemon).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from support.docker_host import Unavailable, base_image, daemon, docker
from support.imagegen import slow_pngs, write_jpegs
from support.redis_server import free_port

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(3600)]

ROOT = Path(__file__).resolve().parents[2]
# What a fresh clone has: none of this checkout's environments or results.
NOT_CLONED = shutil.ignore_patterns(
    ".git", ".venv", ".nox", ".hypothesis", "*.egg-info", "build", "dist", "__pycache__",
    ".mypy_cache", ".ruff_cache", ".pytest_cache",
)  # fmt: skip
S3_KEY, S3_SECRET = "thumbgen-deploy", secrets.token_urlsafe(16)


def say(line: str) -> None:
    """A line of the run's report (``nox -s deploy`` shows them: pytest -s)."""
    print(f"deploy: {line}", flush=True)


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    done = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if done.returncode == 0:
        return ["docker", "compose"]
    raise Unavailable("neither docker-compose nor docker compose is installed")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The daemon (started if needed) and the base image the stacks are built on."""
    workdir = tmp_path_factory.mktemp("docker")
    try:
        compose_command()
        with daemon(workdir):
            started = time.monotonic()
            found = base_image(workdir)
            say(f"base image {found} ready in {time.monotonic() - started:.0f} s")
            yield found
    except Unavailable as exc:
        pytest.skip(f"no Docker here: {exc}")


class Stack:
    """One compose project of a copy of the checkout."""

    def __init__(self, checkout: Path, file: str, env: dict[str, str]) -> None:
        self.checkout = checkout
        self.file = file
        self.project = f"thumbgen-deploy-{os.getpid()}-{'s3' if 's3' in file else 'folders'}"
        self.env = env
        self.port = int(env["THUMBGEN_HTTP_PORT"])
        self.token = env["THUMBGEN_TOKEN"]

    def compose(self, *args: str, timeout: float = 1200, check: bool = True) -> str:
        argv = [*compose_command(), "-f", self.file, "-p", self.project, *args]
        done = subprocess.run(
            argv, cwd=self.checkout, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exit {done.returncode}:\n{done.stderr[-3000:]}")
        return done.stdout

    def ids(self, service: str) -> list[str]:
        return self.compose("ps", "-q", service).split()

    def wait_healthy(self, services: dict[str, int], timeout: float = 300) -> None:
        """Wait until each service has its number of containers, all healthy."""
        deadline = time.monotonic() + timeout
        while True:
            states = {
                name: [
                    docker("inspect", "-f", "{{.State.Health.Status}}", cid).strip()
                    for cid in self.ids(name)
                ]
                for name in services
            }
            if all(
                len(states[n]) == count and set(states[n]) == {"healthy"}
                for n, count in services.items()
            ):
                return
            if time.monotonic() > deadline:
                logs = self.compose("logs", "--tail=20", check=False)
                raise AssertionError(f"not healthy after {timeout:.0f} s: {states}\n{logs}")
            time.sleep(1)

    def thumbgen(self, *args: str) -> Any:
        """``thumbgen ARGS --json`` inside the serve container, parsed."""
        return json.loads(self.compose("exec", "-T", "serve", "thumbgen", *args, "--json"))

    def status(self) -> dict[str, Any]:
        found: dict[str, Any] = self.thumbgen("status")
        return found

    def wait_status(self, done: int, timeout: float = 300, **expected: Any) -> dict[str, Any]:
        """Wait until ``done`` jobs are done and nothing is queued or running."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            assert status["failed"] == 0, status["failures"]
            want = {"done": done, "queued": 0, "running": 0, **expected}
            if all(status[k] == v for k, v in want.items()):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"after {timeout:.0f} s, want {want}: {status}")
            time.sleep(1)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"http://127.0.0.1:{self.port}{path}"
        return httpx.request(method, url, headers=headers, timeout=120, **kwargs)

    def upload(self, photos: list[Path]) -> None:
        files = [("file", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
        response = self.api("POST", "/thumbnails", files=files)
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(photos), response.text

    def memory(self) -> dict[str, str]:
        """Each running container's memory use (docker stats), by service and number."""
        names = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}")
        out = docker("stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", *names.split())
        found = {}
        for line in sorted(out.splitlines()):
            name, usage = line.split("\t")
            found[name.removeprefix(self.project).strip("_-")] = usage.split(" / ")[0]
        return found


class Folders:
    """docker-compose.yml: photos dropped into ./inbox, thumbnails in ./thumbnails."""

    file = "docker-compose.yml"

    def __init__(self, checkout: Path) -> None:
        self.inbox = checkout / "inbox"
        self.thumbnails = checkout / "thumbnails"

    def drop(self, photos: list[Path]) -> None:
        for photo in photos:
            # Written under a hidden name, renamed when complete: watch skips
            # hidden files, so it never sees half a copy (settle covers the rest).
            hidden = self.inbox / f".{photo.name}"
            shutil.copyfile(photo, hidden)
            hidden.rename(self.inbox / photo.name)

    def outputs(self) -> dict[str, bytes]:
        return {
            p.name: p.read_bytes()
            for p in self.thumbnails.rglob("*")
            if p.is_file() and p.name != ".gitkeep"
        }


class Buckets:
    """docker-compose.s3.yml: photos put into s3://photos/, thumbnails in s3://thumbnails/."""

    file = "docker-compose.s3.yml"

    def __init__(self, port: int) -> None:
        from obstore.store import S3Store

        def store(bucket: str) -> S3Store:
            return S3Store(
                bucket,
                endpoint=f"http://127.0.0.1:{port}",
                access_key_id=S3_KEY,
                secret_access_key=S3_SECRET,
                region="us-east-1",
                client_options={"allow_http": True},
            )

        self.photos = store("photos")
        self.thumbnails = store("thumbnails")
        self.uploads = store("uploads")

    def drop(self, photos: list[Path]) -> None:
        import obstore

        for photo in photos:
            obstore.put(self.photos, photo.name, photo.read_bytes())

    def outputs(self) -> dict[str, bytes]:
        import obstore

        keys = [m["path"] for batch in obstore.list(self.thumbnails) for m in batch]
        return {key: bytes(obstore.get(self.thumbnails, key).bytes()) for key in keys}

    def uploaded(self) -> list[str]:
        """The originals the API stored: in a bucket, no volume shared with the workers."""
        import obstore

        return [str(m["path"]) for batch in obstore.list(self.uploads) for m in batch]


def assert_complete(outputs: dict[str, bytes], count: int) -> None:
    """``count`` thumbnails, each a whole JPEG within the 256 box."""
    assert len(outputs) == count, sorted(outputs)
    for name, data in outputs.items():
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # a truncated file raises here
            assert img.format == "JPEG", name
            assert max(img.size) <= 256, (name, img.size)


def wait_for(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)


def fresh_clone(tmp_path: Path) -> Path:
    """The checkout as a clone has it (the compose files use paths relative to it)."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=NOT_CLONED)
    for folder in ("inbox", "thumbnails"):
        for item in (checkout / folder).iterdir():
            if item.name != ".gitkeep":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    return checkout


@pytest.mark.parametrize("variant", [Folders, Buckets], ids=["folders", "buckets"])
def test_the_stack_runs_from_the_checkout(
    variant: type[Folders | Buckets], base: str, tmp_path: Path
) -> None:
    checkout = fresh_clone(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THUMBGEN_", "AWS_"))}
    env.update(
        THUMBGEN_BASE=base,
        # The test's daemon has no iptables, so its bridge network has no
        # way out: builds fetch from the package index on the host's network.
        THUMBGEN_BUILD_NETWORK="host",
        THUMBGEN_HTTP_PORT=str(free_port()),
        THUMBGEN_S3_PORT=str(free_port()),
        THUMBGEN_TOKEN=secrets.token_urlsafe(16),
        THUMBGEN_S3_KEY=S3_KEY,
        THUMBGEN_S3_SECRET=S3_SECRET,
        THUMBGEN_S3_POLL="2",
    )
    stack = Stack(checkout, variant.file, env)
    where = Folders(checkout) if variant is Folders else Buckets(int(env["THUMBGEN_S3_PORT"]))
    services = {"serve": 1, "worker": 2, "watch": 1}
    try:
        started = time.monotonic()
        stack.compose("up", "--build", "-d")
        built = time.monotonic() - started
        stack.wait_healthy(services)
        healthy = time.monotonic() - started
        say(f"{variant.file}: built and up in {built:.0f} s, all healthy at {healthy:.0f} s")
        time.sleep(5)
        say(f"{variant.file}: memory at rest: {stack.memory()}")

        # Uploads through the API and photos dropped where the stack takes them.
        stack.upload(write_jpegs(tmp_path / "uploads", 5, size=(1600, 1200), prefix="up"))
        where.drop(write_jpegs(tmp_path / "drops", 5, size=(1600, 1200), prefix="drop"))
        status = stack.wait_status(done=10)
        assert_complete(where.outputs(), 10)
        assert status["done"] == 10
        if isinstance(where, Buckets):
            assert len(where.uploaded()) == 5

        # Three worker containers; one killed while it runs jobs of a batch.
        stack.compose("up", "-d", "--no-recreate", "--scale", "worker=3")
        stack.wait_healthy({**services, "worker": 3})
        assert stack.api("POST", "/queue/pause").status_code == 200
        batch = slow_pngs(tmp_path / "batch", 30, size=(2400, 2400), name="batch{i:02d}.png")
        where.drop(batch)
        wait_for("the batch queued", lambda: stack.status()["queued"] == 30)
        assert stack.api("POST", "/queue/resume").status_code == 200
        busy: list[str] = []

        def a_worker_is_busy() -> bool:
            busy[:] = [w["host"] for w in stack.status()["worker_list"] if w["current"]]
            return bool(busy)

        wait_for("a running job", a_worker_is_busy)
        say(f"{variant.file}: memory under a batch: {stack.memory()}")
        victim = next(cid for cid in stack.ids("worker") if cid.startswith(busy[0]))
        docker("kill", victim)
        # The killed container's jobs go back after their lease (30 s).
        stack.wait_status(done=40, timeout=400)
        jobs = stack.thumbgen("jobs", "-n", "1000")
        assert len(jobs) == 40
        assert {j["state"] for j in jobs} == {"done"}
        assert len({j["source"] for j in jobs}) == 40  # one job per source
        assert_complete(where.outputs(), 40)

        # Down and up again, volumes kept: a paused queue with waiting jobs.
        assert stack.api("POST", "/queue/pause").status_code == 200
        where.drop(write_jpegs(tmp_path / "later", 3, size=(800, 600), prefix="later"))
        wait_for("the later photos queued", lambda: stack.status()["queued"] == 3)
        stack.compose("down")
        stack.compose("up", "-d")
        stack.wait_healthy(services)
        status = stack.status()
        assert (status["done"], status["queued"], status["paused"]) == (40, 3, True)
        assert_complete(where.outputs(), 40)
        assert stack.api("POST", "/queue/resume").status_code == 200
        stack.wait_status(done=43)
        assert_complete(where.outputs(), 43)
        say(f"{variant.file}: whole run {time.monotonic() - started:.0f} s")
    finally:
        stack.compose("down", "--volumes", "--remove-orphans", check=False)
