"""Where settings come from: flags, the environment, a config file, defaults.

A setting resolves as: command-line flag, then its ``THUMBGEN_*`` environment
variable, then the config file, then the default. The config file is TOML in
the per-user config folder (``~/.config/thumbgen/config.toml`` on Linux), or
the file named by ``--config`` / ``THUMBGEN_CONFIG``. Top-level keys apply to
every command that has that option; a table named after a command
(``[worker]``) applies to that command only and wins over the top level::

    queue = "/srv/thumbs/queue.db"
    size = ["256", "1024"]
    format = "webp"

    [worker]
    workers = 2

This module only finds, reads and checks the file; the CLI knows which
options each command has and feeds them to its parser.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from typing import Any

import platformdirs

from . import locations
from .errors import UsageError

QUEUE_ENV = "THUMBGEN_QUEUE"
CONFIG_ENV = "THUMBGEN_CONFIG"


def default_queue() -> str:
    """The per-user queue file, so ``add``, ``worker`` and ``status`` meet from any folder."""
    return os.path.join(platformdirs.user_data_dir("thumbgen", appauthor=False), "queue.db")


def default_config_path() -> str:
    """The per-user config file (it need not exist)."""
    return os.path.join(platformdirs.user_config_dir("thumbgen", appauthor=False), "config.toml")


def resolve_queue(flag: str | None = None, configured: str | None = None) -> str:
    """The queue location: ``--queue``, ``THUMBGEN_QUEUE``, the config file, the default."""
    return locations.absolute(flag or os.environ.get(QUEUE_ENV) or configured or default_queue())


@dataclasses.dataclass(frozen=True)
class ConfigFile:
    """A read config file: top-level settings and per-command tables."""

    path: str
    #: Whether the file exists (a missing default file is no error).
    found: bool = False
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    commands: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    def for_command(self, command: str, known: set[str]) -> dict[str, Any]:
        """The settings that apply to ``command``, restricted to the options it has."""
        merged = {k: v for k, v in self.settings.items() if k in known}
        merged.update(self.commands.get(command, {}))
        return merged


def load_config(path: str | None = None) -> ConfigFile:
    """Read the config file: ``path``, else ``THUMBGEN_CONFIG``, else the per-user one.

    A file named explicitly must exist; the per-user one may be missing.
    Keys may be spelt with dashes or underscores (``max-pixels``). Raises
    :class:`~thumbgen.errors.UsageError` with the file and the problem.
    """
    explicit = path or os.environ.get(CONFIG_ENV)
    where = os.path.abspath(os.path.expanduser(explicit or default_config_path()))
    try:
        with open(where, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        if explicit:
            raise UsageError(f"Config file not found: {where}") from None
        return ConfigFile(where)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"Invalid config file {where}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"Cannot read config file {where}: {exc.strerror}") from None
    settings: dict[str, Any] = {}
    commands: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            commands[key] = {_name(k): v for k, v in value.items()}
        else:
            settings[_name(key)] = value
    return ConfigFile(where, True, settings, commands)


def check_config(config: ConfigFile, options: Mapping[str, set[str]]) -> None:
    """Refuse keys no command has, and tables for commands that do not exist.

    ``options`` maps each command to the names of its options.
    """
    every = set().union(*options.values()) | {"queue"}
    for key in config.settings:
        if key not in every:
            raise UsageError(
                f"Unknown setting {key!r} in {config.path}; known settings: "
                + ", ".join(sorted(every))
            )
    for command, table in config.commands.items():
        if command not in options:
            raise UsageError(
                f"Unknown command table [{command}] in {config.path}; commands: "
                + ", ".join(sorted(options))
            )
        for key in table:
            if key not in options[command]:
                raise UsageError(
                    f"Unknown setting {key!r} for {command} in {config.path}; {command} has: "
                    + ", ".join(sorted(options[command]))
                )


def _name(key: str) -> str:
    return key.replace("-", "_")
