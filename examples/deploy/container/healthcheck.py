"""The image's HEALTHCHECK: is this container's thumbgen doing its job?

Docker runs it inside the container every interval; exit 0 is healthy.
It finds the thumbgen process the container runs (pid 1, or a child of an
init) and checks what that role needs:

- ``serve``: ``GET /health`` answers 200 (the queue answers too);
- ``worker``: the queue lists a live worker on this container's host name
  (a hung or disconnected worker stops heartbeating and drops off the list);
- ``watch`` and anything else: the queue answers (``thumbgen status``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROLES = ("serve", "worker", "watch")


def running() -> tuple[str, list[str], dict[str, str]] | None:
    """The role, argv and environment of the container's thumbgen process, lowest pid first."""
    pids = sorted(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
            raw = Path(f"/proc/{pid}/environ").read_bytes().decode()
        except OSError:
            continue
        if not any(a.endswith("thumbgen") for a in argv[:2]):
            continue
        role = next((a for a in argv if a in ROLES), "")
        env = dict(kv.split("=", 1) for kv in raw.split("\0") if "=" in kv)
        return role, argv, env
    return None


def option(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def serve_ok(argv: list[str], env: dict[str, str]) -> str | None:
    port = option(argv, "--port") or env.get("THUMBGEN_PORT", "8080")
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return None if response.status == 200 else f"{url} answered {response.status}"
    except OSError as exc:
        return f"{url}: {exc}"


def status(argv: list[str], env: dict[str, str]) -> tuple[dict[str, object] | None, str | None]:
    queue = option(argv, "--queue")
    command = ["thumbgen", *(["--queue", queue] if queue else []), "status", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=8)
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[
            -1
        ] if done.stderr.strip() else "status failed"
    found: dict[str, object] = json.loads(done.stdout)
    return found, None


def main() -> int:
    found = running()
    if found is None:
        print("no thumbgen process in this container")
        return 1
    role, argv, env = found
    if role == "serve":
        problem = serve_ok(argv, env)
    else:
        queue, problem = status(argv, env)
        if queue is not None and role == "worker":
            host = os.uname().nodename
            workers = queue.get("worker_list") or []
            assert isinstance(workers, list)
            if not any(w.get("host") == host for w in workers):
                problem = f"no live worker of host {host} on the queue"
    if problem:
        print(problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
