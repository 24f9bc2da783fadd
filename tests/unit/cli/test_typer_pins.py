"""What the command line leans on inside Typer: fail loudly if an upgrade moves it.

cli/options.py injects the shared output options into a command's signature
(``__signature__``); Typer must keep reading parameters through
``inspect.signature`` for that to work.
"""

from __future__ import annotations

import typer
import typer.main

from thumbgen.cli.app import app
from thumbgen.cli.options import OutputOptions


def _params(command: str) -> set[str]:
    group = typer.main.get_command(app)
    return {p.name for p in group.commands[command].params}  # type: ignore[attr-defined]


def test_the_injected_output_options_reach_both_commands() -> None:
    output = {"size", "fit", "crop", "format", "quality", "out", "name", "upscale"}
    output |= {"background", "max_pixels"}
    assert output <= _params("add")
    assert output <= _params("watch")
    assert "output" not in _params("add")


def test_the_injected_defaults_are_the_library_defaults() -> None:
    group = typer.main.get_command(app)
    add = group.commands["add"]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in add.params}
    assert defaults["fit"] == OutputOptions.fit
    assert defaults["quality"] == OutputOptions.quality
    assert defaults["out"] == OutputOptions.out


def test_the_installed_typer_is_in_the_pinned_range() -> None:
    major, minor = (int(x) for x in typer.__version__.split(".")[:2])
    assert (major, minor) == (0, 28), typer.__version__
