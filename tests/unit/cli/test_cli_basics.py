"""The command line through Typer's CliRunner: exit codes, exact messages, help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
from support.imagegen import write_jpegs
from typer.testing import CliRunner

from thumbgen.cli.app import app
from thumbgen.jobqueue.backend import open_queue

runner = CliRunner()


@pytest.mark.parametrize("name", sorted(typer.main.get_command(app).commands))  # type: ignore[attr-defined]
def test_every_command_has_help(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help, f"{name} has no help text"
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0


def test_a_bad_size_is_a_usage_error_with_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["add", str(tmp_path), "-s", "big"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Invalid size 'big': use 256 (a 256x256 box), 320x240, 320x or x240\n"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--fit", "squash"], "Invalid fit 'squash': choose one of contain, cover, pad, fill"),
        (["--crop", "2,0"], "Invalid crop '2,0': focal point coordinates must be between 0 and 1"),
        (["-f", "gif"], "Invalid format 'gif': choose one of auto, jpeg, png, webp, avif"),
        (["--background", "blurple"], "Invalid background colour 'blurple'"),
        (["--name", "{stem}.{colour}"], "Invalid --name '{stem}.{colour}': unknown placeholder"),
    ],
)
def test_bad_output_options_name_what_to_use(
    tmp_path: Path, option: list[str], message: str
) -> None:
    result = runner.invoke(app, ["add", str(tmp_path), *option])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}")
    assert result.stderr.count("\n") == 1


def test_a_missing_path_is_an_error_but_the_rest_is_queued(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "src", 2)
    missing = str(tmp_path / "nope")
    result = runner.invoke(app, ["add", str(tmp_path / "src"), missing])
    assert result.exit_code == 1
    assert result.stdout == "2 queued\n"
    assert result.stderr == f"Error: {missing}: no such file or folder\n"


def test_add_then_status_json_then_clear(tmp_path: Path, queue_path: str) -> None:
    write_jpegs(tmp_path / "src", 3)
    assert runner.invoke(app, ["add", str(tmp_path / "src")]).exit_code == 0
    status = runner.invoke(app, ["status", "--json"])
    data = json.loads(status.stdout)
    assert (data["queued"], data["done"], data["workers"]) == (3, 0, 0)
    assert data["queue"] == queue_path
    cleared = runner.invoke(app, ["clear", "--all", "--yes"])
    assert cleared.stdout == "3 jobs cleared\n"
    assert json.loads(runner.invoke(app, ["status", "--json"]).stdout)["queued"] == 0


def test_status_table_shows_counts(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "src", 2)
    runner.invoke(app, ["add", str(tmp_path / "src")])
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["queued", "2"] in lines
    assert ["workers", "0"] in lines


def test_environment_sets_options_and_flags_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, queue_path: str
) -> None:
    write_jpegs(tmp_path / "a", 1)
    write_jpegs(tmp_path / "b", 1, prefix="b")
    monkeypatch.setenv("THUMBGEN_SIZE", "100")
    monkeypatch.setenv("THUMBGEN_FORMAT", "webp")
    runner.invoke(app, ["add", str(tmp_path / "a")])
    runner.invoke(app, ["add", str(tmp_path / "b"), "-f", "png"])
    queue = open_queue(queue_path)
    try:
        specs = [queue.store.claim("me").options.specs[0] for _ in range(2)]  # type: ignore[union-attr]
    finally:
        queue.close()
    assert [(s.size.label, s.format.value) for s in specs] == [
        ("100x100", "webp"),
        ("100x100", "png"),
    ]


def test_the_queue_option_beats_the_environment(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    write_jpegs(tmp_path / "src", 1)
    runner.invoke(app, ["--queue", str(other), "add", str(tmp_path / "src")])
    assert other.exists()
    data = json.loads(runner.invoke(app, ["--queue", str(other), "status", "--json"]).stdout)
    assert data["queued"] == 1


def test_an_unreachable_redis_queue_is_one_line() -> None:
    result = runner.invoke(app, ["--queue", "redis://127.0.0.1:1/0", "status"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot reach Redis at redis://127.0.0.1:1/0")
    assert result.stderr.count("\n") == 1


def test_retry_with_nothing_failed(tmp_path: Path) -> None:
    write_jpegs(tmp_path / "src", 1)
    runner.invoke(app, ["add", str(tmp_path / "src")])
    result = runner.invoke(app, ["retry"])
    assert (result.exit_code, result.stdout) == (0, "0 queued again\n")


def test_file_names_are_printed_as_they_are_emoji_codes_and_markup_too(tmp_path: Path) -> None:
    for name in ("a:fire:.jpg", "[bold]b.jpg"):
        (tmp_path / name).write_bytes(b"not an image")
    result = runner.invoke(app, ["add", str(tmp_path), "-v"])
    assert "a:fire:.jpg: not an image" in result.stderr
    assert "[bold]b.jpg: not an image" in result.stderr


def test_add_counts_special_files_and_outside_links_as_skipped(tmp_path: Path) -> None:
    import os

    write_jpegs(tmp_path / "d", 1)
    os.mkfifo(tmp_path / "d" / "pipe.jpg")
    (tmp_path / "d" / "up").symlink_to("..")
    result = runner.invoke(app, ["add", str(tmp_path / "d"), "-o", str(tmp_path / "o"), "-v"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 queued, 2 skipped\n"
    assert result.stderr.splitlines() == [
        f"skipped {tmp_path}/d/pipe.jpg: not a regular file (a FIFO)",
        f"skipped {tmp_path}/d/up: a symlink leading out of the folder added (to {tmp_path})",
    ]
