"""Queue files are not trusted blindly: another program's, a newer one, a damaged one.

Each is a real file handed to a real ``thumbgen`` process; what is refused is
left exactly as it was. ``thumbgen repair`` salvages a damaged one.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import sqlite3
from pathlib import Path

from support.imagegen import write_jpegs
from support.procs import run_thumbgen
from support.redis_server import redis_server


def _foreign(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('owner', 'some other application')")
        db.execute("CREATE TABLE notes (body TEXT)")
    sqlite3.connect(path).close()


def _queue(tmp_path: Path, env: dict[str, str]) -> Path:
    write_jpegs(tmp_path / "src", 2)
    added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), env=env)
    assert added.returncode == 0, added.stderr
    return Path(env["THUMBGEN_QUEUE"])


def _set_version(path: Path, version: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (version,))
    sqlite3.connect(path).close()


def test_another_programs_database_is_refused_and_left_untouched(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    _foreign(Path(queue_path))
    before = Path(queue_path).read_bytes()
    write_jpegs(tmp_path / "src", 1)
    added = run_thumbgen("add", str(tmp_path / "src"), env=env)
    assert added.returncode != 0
    assert "not a thumbgen queue" in added.stderr
    assert Path(queue_path).read_bytes() == before


def test_a_newer_or_garbled_schema_is_refused_and_not_rewritten(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = _queue(tmp_path, env)
    for version, words in (("99", "made by a newer thumbgen"), ("banana", "schema version")):
        _set_version(path, version)
        shown = run_thumbgen("status", env=env)
        assert shown.returncode != 0, shown.stdout
        assert words in shown.stderr, shown.stderr
        assert len(shown.stderr.strip().splitlines()) == 1, shown.stderr
        with sqlite3.connect(path) as db:
            (kept,) = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        assert kept == version


def test_a_damaged_queue_says_how_to_start_afresh_without_touching_thumbnails(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = _queue(tmp_path, env)
    data = bytearray(path.read_bytes())
    data[4096 : len(data)] = b"\xa5" * (len(data) - 4096)  # every page after the first
    path.write_bytes(bytes(data))
    shown = run_thumbgen("status", env=env)
    assert shown.returncode != 0, shown.stdout
    message = shown.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "is damaged" in message, message
    assert "start afresh" in message, message
    assert "thumbnails already made are left" in message, message
    assert "`thumbgen repair` salvages its jobs" in message, message


def _damage_job_pages(path: Path, count: int) -> list[int]:
    """Overwrite ``count`` pages in the middle of the jobs table with garbage."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        leaves = [
            row[0]
            for row in db.execute(
                "SELECT pageno FROM dbstat WHERE name = 'jobs' AND pagetype = 'leaf'"
                " ORDER BY pageno"
            )
        ]
    assert len(leaves) >= count + 2, leaves  # pages on both sides stay readable
    chosen = leaves[len(leaves) // 2 : len(leaves) // 2 + count]
    garbage = random.Random(12).randbytes(page_size)
    with path.open("r+b") as f:
        for page in chosen:
            f.seek((page - 1) * page_size)
            f.write(garbage)
    return chosen


def test_repair_salvages_a_damaged_queue_and_a_worker_finishes_its_jobs(
    tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "out"
    write_jpegs(tmp_path / "made", 10)
    made = run_thumbgen("add", str(tmp_path / "made"), "-o", str(out), "--wait", "-w", "1", env=env)
    assert made.returncode == 0, made.stderr
    before = {p: p.read_bytes() for p in out.rglob("*.jpg")}
    assert len(before) == 10
    write_jpegs(tmp_path / "src", 150)
    added = run_thumbgen("add", str(tmp_path / "src"), "-o", str(out), env=env)
    assert added.returncode == 0, added.stderr
    path = Path(env["THUMBGEN_QUEUE"])
    _damage_job_pages(path, 2)
    damaged = path.read_bytes()
    broken = run_thumbgen("jobs", "--limit", "1000", env=env)
    assert broken.returncode == 1
    assert "`thumbgen repair`" in broken.stderr, broken.stderr

    repaired = run_thumbgen("repair", env=env)
    assert repaired.returncode == 0, repaired.stderr
    (line,) = repaired.stdout.strip().splitlines()
    found = re.search(r"Salvaged (\d+) jobs .*\((\d+) queued again, (\d+) finished kept", line)
    assert found is not None, line
    salvaged, requeued, kept = (int(g) for g in found.groups())
    assert 0 < salvaged < 160, line  # the damaged pages' jobs are lost, the rest are not
    assert salvaged == requeued + kept
    (copy,) = tmp_path.glob(f"{path.name}.damaged-*")
    assert f"kept as {copy}" in line
    assert copy.read_bytes() == damaged  # the original, as it was
    assert {p: p.read_bytes() for p in out.rglob("*.jpg")} == before  # thumbnails untouched

    drained = run_thumbgen("worker", "--burst", "-w", "1", env=env)
    assert drained.returncode == 0, drained.stderr
    final = json.loads(run_thumbgen("status", "--json", env=env).stdout)
    assert (final["queued"], final["running"], final["failed"]) == (0, 0, 0)
    assert final["done"] == salvaged
    assert len(list(out.rglob("*.jpg"))) >= salvaged
    # Sound now: a second repair leaves it alone.
    again = run_thumbgen("repair", env=env)
    assert again.stdout.strip() == f"Queue {path} is not damaged; nothing to repair"


def test_repair_says_in_one_line_that_it_does_not_apply_to_redis(
    env: dict[str, str], tmp_path: Path
) -> None:
    with redis_server(tmp_path / "redis") as server:
        result = run_thumbgen("repair", "--queue", server.url, env=env)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    assert "is a Redis queue" in line
    assert "`thumbgen repair` salvages damaged queue files" in line
