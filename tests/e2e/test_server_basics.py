"""``thumbgen serve`` as a process: health, status, refusing to start unsafely, stopping."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from support.procs import run_thumbgen
from support.server import served


def test_health_and_status_answer_like_the_cli(tmp_path: Path, env: dict[str, str]) -> None:
    with served(tmp_path, env, "-w", "0") as srv, srv.client() as http:
        health = http.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        status = http.get("/status")
        assert status.status_code == 200
        cli = run_thumbgen("status", "--json", env=env)
        assert cli.returncode == 0, cli.stderr
        expected = json.loads(cli.stdout)
        got = status.json()
        assert got.keys() == expected.keys()
        assert got["queue"] == expected["queue"]
        assert got["queued"] == expected["queued"] == 0


def test_sigterm_stops_the_server_and_its_workers(tmp_path: Path, env: dict[str, str]) -> None:
    with served(tmp_path, env, "-w", "1") as srv:
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(60)
        assert code == 130, srv.log()
        assert "Stopping" in srv.log() or "Stopped" in srv.log()


def test_config_does_not_print_the_token(env: dict[str, str]) -> None:
    r = run_thumbgen("config", env={**env, "THUMBGEN_TOKEN": "do-not-print-me"})
    assert r.returncode == 0, r.stderr
    assert "do-not-print-me" not in r.stdout
    assert 'token = "***"  # environment THUMBGEN_TOKEN' in r.stdout


def test_serve_ends_with_an_error_when_its_workers_die(tmp_path: Path, env: dict[str, str]) -> None:
    with served(tmp_path, env, "-w", "1") as srv:
        children = Path(f"/proc/{srv.pid}/task/{srv.pid}/children").read_text().split()
        assert children, "no embedded worker process"
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        code = srv.proc.wait(60)
        assert code == 1, srv.log()
        assert "Error: The worker processes stopped unexpectedly" in srv.log()


def test_a_port_in_use_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    with served(tmp_path, env, "-w", "0") as srv:
        out = str(tmp_path / "second")
        r = run_thumbgen("serve", "--port", str(srv.port), "-o", out, "-w", "0", env=env)
        assert r.returncode == 1
        assert r.stderr.startswith(f"Error: Cannot listen on 127.0.0.1:{srv.port}: ")
        assert r.stderr.count("\n") == 1, r.stderr
        assert "Traceback" not in r.stderr
