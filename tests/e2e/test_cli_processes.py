"""The command line as a user meets it, through real processes: odd names, read-only
queues, unwritable outputs, Ctrl-C, dead workers, pause and resume."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from support.imagegen import slow_pngs, write_jpegs
from support.procs import (
    background,
    group_alive,
    queue_counts,
    run_thumbgen,
    status_json,
    thumbgen_argv,
    wait_until,
)


def test_a_non_utf8_name_is_thumbnailed_like_any_other(tmp_path: Path, env: dict[str, str]) -> None:
    names = tmp_path / "names"
    write_jpegs(names, 2)
    bad = os.fsencode(names) + b"/bad\xffbyte.jpg"
    shutil.copyfile(names / "img0000.jpg", bad)
    out = tmp_path / "out"
    result = run_thumbgen("add", str(names), "--wait", "-w", "1", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    made = sorted(os.listdir(os.fsencode(out)))
    assert made == [b"bad\xffbyte_256x256.jpg", b"img0000_256x256.jpg", b"img0001_256x256.jpg"]
    assert "3 done, 0 failed" in result.stderr


def test_status_on_a_queue_the_user_may_only_read(tmp_path: Path, env: dict[str, str]) -> None:
    # pytest's own temporary folders are private to root: use one anyone can enter.
    shared = Path(tempfile.mkdtemp(prefix="thumbgen-readonly-"))
    try:
        os.chmod(shared, 0o755)
        queue_path = str(shared / "queue.db")
        write_jpegs(shared / "src", 3)
        own = {**env, "THUMBGEN_QUEUE": queue_path}
        assert run_thumbgen("add", str(shared / "src"), env=own).returncode == 0
        for name in os.listdir(shared):
            with contextlib.suppress(OSError):
                os.chmod(shared / name, 0o755 if (shared / name).is_dir() else 0o644)
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        result = subprocess.run(
            [*argv, *thumbgen_argv("status", "--json")],
            env={**own, "HOME": "/nonexistent", "XDG_CONFIG_HOME": str(shared / "config")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["queued"] == 3
        assert os.stat(queue_path).st_uid == 0  # nothing was rewritten as nobody
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@contextlib.contextmanager
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A read-only tmpfs: nobody, root included, can write in it."""
    mount = tmp_path / "ro"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_an_unwritable_out_is_refused_when_adding(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    write_jpegs(tmp_path / "src", 2)
    with read_only_folder(tmp_path) as ro:
        result = run_thumbgen("add", str(tmp_path / "src"), "-o", str(ro / "thumbs"), env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Cannot write thumbnails to ")
    assert result.stderr.count("\n") == 1
    assert not os.path.exists(queue_path) or status_json(env)["queued"] == 0


def test_ctrl_c_on_status_watch_exits_130(tmp_path: Path, env: dict[str, str]) -> None:
    write_jpegs(tmp_path / "src", 1)
    run_thumbgen("add", str(tmp_path / "src"), env=env)
    proc = subprocess.Popen(
        thumbgen_argv("status", "--watch", "--json"), env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert json.loads(first)["queued"] == 1
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    assert proc.returncode == 130


def test_ctrl_c_on_add_wait_still_prints_the_summary(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    slow_pngs(tmp_path / "src", 8)
    log = tmp_path / "add.log"
    with background("add", str(tmp_path / "src"), "--wait", "-w", "1", env=env, log=log) as proc:
        assert wait_until(lambda: queue_counts(queue_path)["done"] >= 1, timeout=120)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(90) == 130
    text = log.read_text()
    assert " done, " in text
    assert " failed; thumbnails in " in text
    assert "Interrupted; unfinished jobs stay queued" in text


def test_add_wait_quiet_prints_errors_only(tmp_path: Path, env: dict[str, str]) -> None:
    write_jpegs(tmp_path / "src", 2)
    (tmp_path / "src" / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    out = tmp_path / "out"
    result = run_thumbgen(
        "add", str(tmp_path / "src"), "--wait", "--quiet", "-w", "1", "-o", str(out), env=env
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("failed: ")
    assert "broken.jpg" in lines[0]


def test_status_says_when_running_jobs_have_no_live_worker(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # Big enough that a job is certainly still running when the group is killed.
    slow_pngs(tmp_path / "src", 4, size=(5000, 5000))
    run_thumbgen("add", str(tmp_path / "src"), "--max-pixels", "30000000", env=env)
    with background("worker", "-w", "2", env=env, log=tmp_path / "w.log") as proc:
        assert wait_until(lambda: status_json(env)["running"] >= 1, timeout=60)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert wait_until(lambda: not group_alive(proc.pid), timeout=10)
    data = status_json(env)
    assert data["workers"] == 0
    assert data["stranded"] == data["running"] >= 1
    piped = run_thumbgen("status", env=env).stdout  # tab-separated when not a terminal
    assert f"stranded\t{data['running']}\n" in piped


def test_pause_holds_every_worker_and_resume_lets_them_go(
    tmp_path: Path, env: dict[str, str]
) -> None:
    write_jpegs(tmp_path / "src", 5)
    assert run_thumbgen("pause", env=env).returncode == 1  # no queue yet: nothing to pause
    run_thumbgen("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), env=env)
    assert run_thumbgen("pause", env=env).returncode == 0
    assert status_json(env)["paused"] is True
    with background("worker", "-w", "2", env=env, log=tmp_path / "w.log"):
        assert wait_until(lambda: status_json(env)["workers"] == 2, timeout=30)
        time.sleep(3)  # several claim rounds: a paused queue gives none
        assert status_json(env)["queued"] == 5
        assert run_thumbgen("resume", env=env).returncode == 0
        assert wait_until(lambda: status_json(env)["done"] == 5, timeout=60)
    assert status_json(env)["paused"] is False


def test_watch_reports_each_failure_as_a_line(tmp_path: Path, env: dict[str, str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    log = tmp_path / "watch.log"
    argv = ("watch", str(inbox), "-w", "1", "--settle", "0.5", "-o", str(tmp_path / "out"))
    with background(*argv, env=env, log=log, graceful=True):
        good = write_jpegs(tmp_path / "staging", 1)[0]
        data = good.read_bytes()
        (tmp_path / "staging" / "broken.jpg").write_bytes(data[: len(data) // 3])
        for p in (tmp_path / "staging").iterdir():
            shutil.move(str(p), inbox / p.name)
        assert wait_until(lambda: "failed: Corrupt image" in log.read_text(), timeout=60)
    text = log.read_text()
    assert text.count("failed: Corrupt image") == 1
    assert "broken.jpg" in text


def test_flags_have_environment_variables(tmp_path: Path, env: dict[str, str]) -> None:
    write_jpegs(tmp_path / "src", 1)
    args = ("add", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "-w", "1")
    # THUMBGEN_WAIT: the add itself runs the job to the end.
    waited = run_thumbgen(*args, env={**env, "THUMBGEN_WAIT": "1"})
    assert waited.returncode == 0, waited.stderr
    assert (tmp_path / "out" / "img0000_256x256.jpg").exists()
    assert run_thumbgen(*args, env=env).stdout.startswith("0 queued, 1 up to date")
    forced = run_thumbgen(*args, env={**env, "THUMBGEN_FORCE": "1"})
    assert forced.stdout.startswith("1 queued")


def test_a_queue_inside_a_read_only_folder_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    write_jpegs(tmp_path / "src", 1)
    with read_only_folder(tmp_path) as ro:
        for where in (ro / "queue.db", ro / "sub" / "queue.db"):
            result = run_thumbgen("add", str(tmp_path / "src"), "--queue", str(where), env=env)
            assert result.returncode == 1, result.stderr
            assert result.stderr.startswith("Error: Cannot ")
            assert result.stderr.count("\n") == 1
            assert "Traceback" not in result.stderr


def test_commands_close_the_queue_and_print_everything_when_piped(
    tmp_path: Path, env: dict[str, str], queue_path: str
) -> None:
    # The command ends without the interpreter's teardown: the queue must be
    # closed by the command itself (SQLite then checkpoints and removes its
    # -wal file) and the output flushed, even into a pipe.
    write_jpegs(tmp_path / "src", 300)
    added = run_thumbgen("add", str(tmp_path / "src"), env=env, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "300 queued"
    assert _queue_files(queue_path) == [os.path.basename(queue_path)]
    listed = subprocess.run(
        thumbgen_argv("jobs", "--limit", "300", "--json"),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 300
    assert _queue_files(queue_path) == [os.path.basename(queue_path)]


def _queue_files(queue_path: str) -> list[str]:
    name = os.path.basename(queue_path)
    return sorted(f for f in os.listdir(os.path.dirname(queue_path)) if f.startswith(name))
