"""Queue files are not trusted blindly: another program's, a newer one, a damaged one.

Each is a real file handed to a real ``thumbgen`` process; what is refused is
left exactly as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.imagegen import write_jpegs
from support.procs import run_thumbgen


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
