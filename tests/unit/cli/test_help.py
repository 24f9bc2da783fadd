"""``--help`` of every command is honest: defaults, metavars, choices and an example."""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from thumbgen.cli.app import app

runner = CliRunner()
GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)  # type: ignore[attr-defined]


def help_of(*names: str) -> str:
    result = runner.invoke(app, [*names, "--help"])
    assert result.exit_code == 0, result.output
    return result.stdout


def options_of(name: str) -> list[typer.core.TyperOption]:
    command = GROUP.commands[name]  # type: ignore[attr-defined]
    return [p for p in command.params if p.param_type_name == "option" and not p.hidden]


def test_every_command_is_walked() -> None:
    assert {"add", "watch", "worker", "status", "jobs", "show", "retry", "cancel"} <= set(COMMANDS)
    assert {"clear", "pause", "resume", "config"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_has_an_example(name: str) -> None:
    assert "Example: thumbgen" in " ".join(help_of(name).split())


@pytest.mark.parametrize("name", COMMANDS)
def test_no_python_types_or_rich_leftovers_in_help(name: str) -> None:
    text = help_of(name)
    assert not re.search(r"<(list|str|int|float|bool)\b", text), text
    assert "list[str]" not in text
    # Every "[default" opened is closed: none was swallowed as markup.
    flat = " ".join(text.split())
    assert flat.count("default:") == len(re.findall(r"default: [^\]]+\]", flat)), flat
    assert " ." not in flat.replace(" ...", "")  # a swallowed "[default: x]" leaves "word ."


def entries(text: str) -> dict[str, str]:
    """Each option's help entry, flattened to one line, by each of its names."""
    found: dict[str, str] = {}
    current: list[str] = []

    def flush() -> None:
        if current:
            entry = " ".join(" ".join(current).split())
            for word in re.findall(r"(?<![\w-])--?[\w-]+", entry.split("  ")[0]):
                found.setdefault(word, entry)

    for row in text.splitlines():
        if re.match(r"^  -", row):
            flush()
            current = [row]
        elif current and row.startswith("    "):
            current.append(row)
        else:
            flush()
            current = []
    flush()
    return found


@pytest.mark.parametrize("name", COMMANDS)
def test_every_value_option_shows_a_metavar_and_its_default(name: str) -> None:
    shown = entries(help_of(name))
    for option in options_of(name):
        entry = shown.get(option.opts[0])
        assert entry is not None, f"{name} {option.opts} missing from help"
        if option.is_flag:
            continue
        assert option.metavar, f"{name} {option.opts} has no metavar"
        assert f"{max(option.opts, key=len)} {option.metavar}" in entry, entry
        has_default = option.default is not None or option.show_default not in (None, True)
        if has_default and option.show_default is not False:
            assert "default: " in entry, entry


@pytest.mark.parametrize("name", COMMANDS)
def test_flags_do_not_look_as_if_they_take_a_value(name: str) -> None:
    text = help_of(name)
    for option in options_of(name):
        if option.is_flag:
            for opt in option.opts:
                assert not re.search(rf"{re.escape(opt)} (BOOLEAN|<bool>|TEXT)", text)


@pytest.mark.parametrize(
    ("name", "option", "choices"),
    [
        ("add", "--fit", "contain|cover|pad|fill"),
        ("add", "--format", "auto|jpeg|png|webp|avif"),
        ("add", "--crop", "center|entropy|attention|faces|X,Y"),
        ("watch", "--fit", "contain|cover|pad|fill"),
        ("jobs", "--state", "queued|running|done|failed"),
    ],
)
def test_choices_are_listed(name: str, option: str, choices: str) -> None:
    assert choices in " ".join(help_of(name).split())


def test_the_defaults_people_ask_about_are_shown() -> None:
    text = " ".join(help_of("add").split())
    assert "THUMBGEN_SIZE; default: (256)]" in text  # --size
    assert "THUMBGEN_MAX_PIXELS; default: (178956970)]" in text
    assert "THUMBGEN_FIT; default: contain]" in text
    assert "THUMBGEN_QUALITY; default: 85]" in text
    assert "Refuse sources with more pixels, from their header, before decoding. [env" in text


def test_version_and_completion() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"thumbgen \d+\.\d+\.\d+\n", result.stdout)
    assert "--install-completion" in help_of()
