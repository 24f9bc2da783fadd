"""Settings resolve flag > environment > config file > default; ``thumbgen config`` says which."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.imagegen import write_jpegs
from typer.testing import CliRunner

from thumbgen.cli.app import app
from thumbgen.jobqueue.backend import open_queue

cli = CliRunner()


def queued_spec(queue_path: str) -> tuple[str, str, int]:
    queue = open_queue(queue_path)
    try:
        job = queue.store.claim("me")
        assert job is not None
        spec = job.options.specs[0]
        return spec.size.label, spec.format.value, spec.quality
    finally:
        queue.close()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "thumbgen.toml"
    path.write_text('size = ["100"]\nformat = "webp"\nquality = 70\n\n[add]\nquality = 60\n')
    monkeypatch.setenv("THUMBGEN_CONFIG", str(path))
    write_jpegs(tmp_path / "src", 1)
    return path


def test_the_config_file_sets_defaults_and_command_tables_win(
    config: Path, tmp_path: Path, queue_path: str
) -> None:
    assert cli.invoke(app, ["add", str(tmp_path / "src")]).exit_code == 0
    assert queued_spec(queue_path) == ("100x100", "webp", 60)


def test_the_environment_beats_the_config_file_and_flags_beat_both(
    config: Path, tmp_path: Path, queue_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THUMBGEN_FORMAT", "png")
    assert cli.invoke(app, ["add", str(tmp_path / "src"), "-s", "50"]).exit_code == 0
    assert queued_spec(queue_path) == ("50x50", "png", 60)


def test_config_lists_each_setting_with_its_source(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THUMBGEN_FIT", "cover")
    result = cli.invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"# config file: {config}"
    assert any(line.startswith('format = "webp"  # config file') for line in lines)
    assert any(line.startswith('fit = "cover"  # environment THUMBGEN_FIT') for line in lines)
    assert any(line.startswith("upscale = false  # default") for line in lines)
    assert any(line.startswith("quality = 60  # config file") for line in lines)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'red'\n", "Unknown setting 'colour'"),
        ("[adder]\nsize = 1\n", "Unknown command table [adder]"),
        ("[worker]\nsize = ['1']\n", "Unknown setting 'size' for worker"),
        ("size = [\n", "Invalid config file"),
    ],
)
def test_a_bad_config_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    monkeypatch.setenv("THUMBGEN_CONFIG", str(path))
    result = cli.invoke(app, ["status"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
