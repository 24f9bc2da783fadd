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
        # Issue 22: each value is parsed by its flag's parser when the file is read.
        ("size = ['big']\n", 'Invalid setting size = ["big"] in'),
        ("workers = 'two'\n", 'Invalid setting workers = "two" in'),
        ("[worker]\nworkers = 0\n", "Invalid setting workers = 0 in"),
        ("quality = 0\n", "Invalid quality 0"),
        ("fit = ['cover']\n", "give one value, not a list"),
        ("[clear]\nolder_than = '7'\n", "give it a unit"),
        ("[jobs]\nstate = 'lost'\n", "Invalid setting state"),
        # Internal parameter names, positional arguments and dangerous flags.
        ("all_ = true\n", "Unknown setting 'all_'"),
        ("[clear]\nall = true\n", "Unknown setting 'all' for clear"),
        ("[clear]\nyes = true\n", "Unknown setting 'yes' for clear"),
        ("[show]\nref = '5'\n", "Unknown setting 'ref' for show"),
        ("paths = ['/']\n", "Unknown setting 'paths'"),
        ("as_json = true\n", "Unknown setting 'as_json'"),
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


def test_a_bad_value_in_the_file_names_the_file_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[add]\nworkers = 'two'\n")
    monkeypatch.setenv("THUMBGEN_CONFIG", str(path))
    write_jpegs(tmp_path / "src", 1)
    result = cli.invoke(app, ["add", str(tmp_path / "src")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: Invalid setting workers = \"two\" in {path}: 'two' is not a valid int range.\n"
    )


def test_a_single_size_in_the_file_is_one_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, queue_path: str
) -> None:
    path = tmp_path / "one.toml"
    path.write_text("size = 128\njson = true\n")
    monkeypatch.setenv("THUMBGEN_CONFIG", str(path))
    write_jpegs(tmp_path / "src", 1)
    result = cli.invoke(app, ["add", str(tmp_path / "src")])
    assert result.exit_code == 0, result.output
    assert '"queued": 1' in result.stdout  # json = true: the documented key of --json
    assert queued_spec(queue_path)[0] == "128x128"


def test_config_lists_the_documented_keys_with_their_real_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THUMBGEN_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    lines = cli.invoke(app, ["config"]).stdout.splitlines()
    keys = {line.split(" = ")[0] for line in lines if " = " in line and not line.startswith("#")}
    assert {"json", "size", "max_pixels", "workers"} <= keys
    assert not keys & {"all_", "all", "as_json", "every", "ref", "refs", "paths", "dirs", "yes"}
    assert any(line.startswith('size = ["256"]  # default') for line in lines)
    assert any(line.startswith("max_pixels = 178956970  # default") for line in lines)
    assert any(line.startswith("# poll: not set  # default; watch") for line in lines)
    assert any(line.startswith("# older_than: not set  # default; clear") for line in lines)
    assert not any('= ""' in line for line in lines)
