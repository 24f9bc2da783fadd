"""The config file fed to the parser, and the report of where each setting came from.

The parser resolves every option as flag, then environment variable, then
``default_map`` (the config file), then default; this module builds that map
from :func:`thumbgen.config.load_config` for each command, refusing keys no
command knows, and explains the outcome for ``thumbgen config``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from thumbgen.config import ConfigFile, check_config, load_config, resolve_queue

#: Options that are not settings (actions, one-off switches).
_NOT_SETTINGS = {"help", "paths", "dirs", "ids", "version", "yes", "install_completion"}
#: Settings whose value ``thumbgen config`` must not print (``serve --token``).
_SECRETS = {"token"}


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting's effective value and where it came from."""

    name: str
    value: Any
    source: str
    commands: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A config file checked against the commands, as the parser takes it."""

    file: ConfigFile
    default_map: dict[str, dict[str, Any]]

    def queue(self, flag: str | None) -> str:
        """The queue location with the config file's ``queue`` in its place."""
        configured = self.file.settings.get("queue")
        return resolve_queue(flag, str(configured) if configured else None)


def options_of(group: Any) -> dict[str, dict[str, Any]]:
    """For each command: its settable options, by name, as click parameters."""
    result = {}
    for name, command in group.commands.items():
        params = {p.name: p for p in command.params if p.name not in _NOT_SETTINGS}
        result[name] = {n: p for n, p in params.items() if getattr(p, "hidden", False) is False}
    return result


def load(path: str | None, group: Any) -> Loaded:
    """Read and check the config file; the parser's ``default_map`` from it."""
    config = load_config(path)
    options = options_of(group)
    check_config(config, {name: set(params) for name, params in options.items()})
    default_map = {
        name: config.for_command(name, set(params))
        for name, params in options.items()
        if config.for_command(name, set(params))
    }
    return Loaded(config, default_map)


def effective(loaded: Loaded, group: Any) -> list[Setting]:
    """Every setting, its value and its source: environment, config file or default."""
    merged: dict[str, Setting] = {}
    for command, params in options_of(group).items():
        for name, param in params.items():
            envvar = getattr(param, "envvar", None)
            configured = loaded.default_map.get(command, {})
            if isinstance(envvar, str) and envvar in os.environ:
                value, source = os.environ[envvar], f"environment {envvar}"
            elif name in configured:
                value, source = configured[name], f"config file {loaded.file.path}"
            else:
                value, source = param.default, "default"
            if name in _SECRETS and value:
                value = "***"
            key = name
            old = merged.get(key)
            if old is not None and (old.value, old.source) == (value, source):
                merged[key] = dataclasses.replace(old, commands=(*old.commands, command))
            elif old is None:
                merged[key] = Setting(name, value, source, (command,))
            else:
                merged[f"{command}.{name}"] = Setting(name, value, source, (command,))
    queue_source = "default"
    if os.environ.get("THUMBGEN_QUEUE"):
        queue_source = "environment THUMBGEN_QUEUE"
    elif loaded.file.settings.get("queue"):
        queue_source = f"config file {loaded.file.path}"
    merged["queue"] = Setting("queue", loaded.queue(None), queue_source, ("all",))
    return [merged[k] for k in sorted(merged)]
