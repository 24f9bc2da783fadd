"""Bad invocations: one line on stderr, the documented exit code, no traceback, queue untouched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.imagegen import write_jpegs
from typer.testing import CliRunner

from thumbgen.cli.app import app
from thumbgen.jobqueue.backend import open_queue

runner = CliRunner()


@pytest.fixture
def world(tmp_path: Path, queue_path: str) -> Path:
    """A queue holding two queued jobs, a source folder, a plain file and a folder."""
    write_jpegs(tmp_path / "src", 2)
    (tmp_path / "plain.txt").write_text("not a folder\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("hello\n")
    bad = os.fsdecode(b"bad\xffbyte.jpg")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / bad).write_bytes((tmp_path / "src" / "img0000.jpg").read_bytes())
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "two\nlines.txt").write_text("x")
    (tmp_path / "two.toml").write_text("workers = 'two'\n")
    (tmp_path / "all.toml").write_text("[clear]\nall = true\n")
    (tmp_path / "ref.toml").write_text("[show]\nref = '1'\n")
    (tmp_path / "size.toml").write_text("size = 'big'\n")
    assert runner.invoke(app, ["add", str(tmp_path / "src")]).exit_code == 0
    return tmp_path


def snapshot(queue_path: str) -> list[tuple[int, str, str, int]]:
    queue = open_queue(queue_path, create=False)
    try:
        return [(j.id, j.source, j.state.value, j.attempts) for j in queue.store.jobs(limit=None)]
    finally:
        queue.close()


# (argv with {tmp} for the test folder, exit code, a fragment of the one line)
CASES = [
    (["add", "{tmp}/src", "-q", "abc"], 2, "'abc' is not a valid"),
    (["add", "{tmp}/src", "-q", "0"], 2, "Invalid quality 0"),
    (["add", "{tmp}/src", "-q", "101"], 2, "Invalid quality 101"),
    (["add", "{tmp}/src", "-s", "big"], 2, "Invalid size 'big'"),
    (["add", "{tmp}/src", "-s", "0"], 2, "between 1 and 16384"),
    (["add", "{tmp}/src", "-s", "99999"], 2, "between 1 and 16384"),
    (["add", "{tmp}/src", "--fit", "squash"], 2, "Invalid fit 'squash'"),
    (["add", "{tmp}/src", "-f", "gif"], 2, "Invalid format 'gif'"),
    (["add", "{tmp}/src", "--crop", "2,0"], 2, "Invalid crop '2,0'"),
    (["add", "{tmp}/src", "--background", "blurple"], 2, "Invalid background colour"),
    (["add", "{tmp}/src", "--name", "{{stem}}.{{colour}}"], 2, "unknown placeholder"),
    (["add", "{tmp}/src", "--name", "fixed.jpg"], 2, "must contain {stem} or {name}"),
    (["add", "{tmp}/src", "--name", "../{{stem}}.{{ext}}"], 2, "outside the output folder"),
    (["add", "{tmp}/src", "-s", "64", "-s", "128", "--name", "{{stem}}.{{ext}}"], 2, "{size}"),
    (["add", "{tmp}/src", "--max-pixels", "0"], 2, "Invalid max-pixels 0"),
    (["add", "{tmp}/src", "--max-pixels", "lots"], 2, "'lots' is not a valid"),
    (["add", "{tmp}/src", "-w", "-1"], 2, "-1 is not in the range"),
    (["add", "{tmp}/src", "--frobnicate"], 2, "No such option: --frobnicate"),
    (["add"], 2, "Missing argument 'PATH...'"),
    (["add", "{tmp}/src", "-o", "{tmp}/plain.txt"], 2, "is not a folder"),
    (["add", "{tmp}/src", "-o", "{tmp}/plain.txt/sub"], 2, "is not a folder"),
    (["add", "{tmp}/nope"], 1, "no such file or folder"),
    (["add", "{tmp}/empty"], 1, "No image found"),
    (["add", "{tmp}/nope*.jpg"], 1, "no file matches this pattern"),
    (["frobnicate"], 2, "No such command 'frobnicate'"),
    (["worker", "-w", "0"], 2, "0 is not in the range"),
    (["worker", "--retries", "0"], 2, "0 is not in the range"),
    (["watch", "{tmp}/nope"], 1, "no such file or folder"),
    (["watch", "{tmp}/plain.txt"], 2, "is not a folder"),
    (["watch", "{tmp}/src", "--settle", "-1"], 2, "-1.0 is not in the range"),
    (["status", "--queue", "{tmp}/elsewhere/q.db"], 1, "No queue at"),
    (["retry", "--queue", "{tmp}/elsewhere/q.db"], 1, "No queue at"),
    (["clear", "--queue", "{tmp}/elsewhere/q.db"], 1, "No queue at"),
    (["status", "--queue", "{tmp}/adir"], 1, "is a folder"),
    (["add", "{tmp}/src", "--queue", "{tmp}/adir"], 1, "is a folder"),
    (["status", "--queue", "{tmp}/plain.txt"], 1, "is not a database"),
    (["jobs", "--state", "lost"], 2, "Invalid state 'lost'"),
    (["show", "999"], 1, "No job '999'"),
    (["clear", "--older-than", "soon"], 2, "Invalid age 'soon'"),
    (["clear", "--all"], 2, "add --yes to confirm"),
    (["cancel"], 2, "Name the jobs to cancel"),
    (["--color", "purple", "status"], 2, "Invalid --color 'purple'"),
    (["--config", "{tmp}/missing.toml", "status"], 2, "Config file not found"),
    (["--queue", "redis://127.0.0.1:1/0", "status"], 1, "Cannot reach Redis at"),
    # Issue 22: each case below was accepted, or said the wrong thing, before.
    (["clear", "--older-than", "7"], 2, "Invalid age '7': give it a unit"),
    (["clear", "--older-than", "1.5"], 2, "give it a unit"),
    (["cancel", "999999"], 1, "No job '999999'"),
    (["cancel", "1", "999999", "888888"], 1, "No jobs '999999', '888888'"),
    (["cancel", "{tmp}/src/nosuch.jpg"], 1, "No job"),
    (["retry", "999"], 1, "No job '999'"),
    (["add", "{tmp}/src", "-o", "/proc/thumbs"], 1, "Cannot write thumbnails to /proc/thumbs"),
    (["add", "{tmp}/src", "-o", "/proc/a/b"], 1, "Cannot write thumbnails to /proc/a/b"),
    (["--queue", "rdis://127.0.0.1/0", "status"], 1, "unknown scheme rdis://"),
    (["--queue", "rdis://127.0.0.1/0", "status"], 1, "redis://HOST:PORT/DB"),
    (["--queue", "redis+sentinel://127.0.0.1:1", "status"], 1, "No service name"),
    (["add", "{tmp}/src", "--queue", "s3://bucket/q"], 1, "s3:// cannot hold a queue"),
    (["--config", "{tmp}/two.toml", "add", "{tmp}/src"], 2, 'workers = "two" in'),
    (["--config", "{tmp}/size.toml", "add", "{tmp}/src"], 2, "Invalid size 'big'"),
    (["--config", "{tmp}/all.toml", "clear"], 2, "Unknown setting 'all' for clear"),
    (["--config", "{tmp}/ref.toml", "show"], 2, "Unknown setting 'ref' for show"),
]


@pytest.mark.parametrize(("argv", "code", "fragment"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_invocation_gives_one_line(
    world: Path, queue_path: str, argv: list[str], code: int, fragment: str
) -> None:
    before = snapshot(queue_path)
    args = [a.format(tmp=world) for a in argv]
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert fragment in lines[0]
    assert snapshot(queue_path) == before
    assert not (world / "elsewhere").exists()


def test_there_are_at_least_30_cases() -> None:
    assert len(CASES) >= 30


def test_a_non_utf8_name_is_queued_with_the_rest(world: Path, queue_path: str) -> None:
    result = runner.invoke(app, ["add", str(world / "odd")])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 queued\n"
    sources = {s for _, s, _, _ in snapshot(queue_path)}
    assert os.fsdecode(str(world / "odd").encode() + b"/bad\xffbyte.jpg") in sources


def test_a_name_with_a_newline_stays_on_one_line(world: Path) -> None:
    result = runner.invoke(app, ["add", str(world / "nl"), str(world / "src")])
    lines = result.stderr.splitlines()
    assert any("two\\nlines.txt" in line for line in lines), result.stderr
    assert not any(line.startswith("lines.txt") for line in lines)


def test_a_folder_of_other_files_says_why_each_was_skipped(world: Path) -> None:
    result = runner.invoke(app, ["add", str(world / "notes")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"skipped {world}/notes/a.txt: not an image (unrecognised content)",
        f"Error: No image found in {world}/notes; nothing to queue",
    ]


def test_a_missing_path_gives_its_error_and_no_count(world: Path) -> None:
    result = runner.invoke(app, ["add", str(world / "nosuchdir")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {world}/nosuchdir: no such file or folder\n"


def test_a_missing_watch_folder_exits_as_a_missing_add_path(world: Path) -> None:
    added = runner.invoke(app, ["add", str(world / "nosuch")])
    watched = runner.invoke(app, ["watch", str(world / "nosuch")])
    assert added.exit_code == watched.exit_code == 1
    assert "no such file or folder" in added.stderr
    assert "no such file or folder" in watched.stderr


def test_nothing_is_left_behind_by_the_output_folder_check(world: Path) -> None:
    out = world / "new" / "deeper" / "out"
    result = runner.invoke(app, ["add", str(world / "src"), "-o", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not (world / "new").exists()
