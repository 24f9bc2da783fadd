"""The config file fed to the parser, and the report of where each setting came from.

The parser resolves every option as flag, then environment variable, then
``default_map`` (the config file), then default; this module builds that map
from :func:`thumbgen.config.load_config` for each command, refusing keys no
command knows, and explains the outcome for ``thumbgen config``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from thumbgen import options as defaults
from thumbgen.config import ConfigFile, check_config, load_config, resolve_queue
from thumbgen.errors import UsageError

#: Flags that never come from the file: what they do must be asked for each
#: time (``clear --all`` forgets every job, ``cancel --all`` cancels them,
#: ``--yes`` skips the question), or they are not settings at all.
_NOT_SETTINGS = {"help", "version", "install_completion", "all", "yes"}
#: Settings whose value ``thumbgen config`` must not print (``serve --token``).
_SECRETS = {"token"}
#: Defaults that the parser holds as "not given" (None) and the command fills in.
_REAL_DEFAULTS: dict[str, Any] = {
    "size": [defaults.DEFAULT_SIZE],
    "max_pixels": defaults.DEFAULT_MAX_PIXELS,
}


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting's effective value (None: not set) and where it came from."""

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


def key_of(param: Any) -> str:
    """The config file key of an option: its long flag's name, dashes as underscores.

    ``--json`` is ``json`` and ``--older-than`` is ``older_than``, whatever
    the Python parameter behind it is called (``as_json``, ``all_``).
    """
    flags = [o for o in param.opts if o.startswith("--")] or list(param.opts)
    return str(flags[0]).lstrip("-").replace("-", "_")


def options_of(group: Any) -> dict[str, dict[str, Any]]:
    """For each command: its settable options, by config key, as click parameters.

    Positional arguments (PATH, ID) are never settings, nor are the flags of
    :data:`_NOT_SETTINGS`.
    """
    result = {}
    for name, command in group.commands.items():
        result[name] = {
            key_of(p): p
            for p in command.params
            if p.param_type_name == "option"
            and not getattr(p, "hidden", False)
            and key_of(p) not in _NOT_SETTINGS
        }
    return result


def load(path: str | None, group: Any) -> Loaded:
    """Read and check the config file; the parser's ``default_map`` from it.

    Every value is parsed as its flag's would be, when the file is read, so a
    bad one is an error naming the file and the key (not a traceback, nor a
    complaint about the flag's environment variable).
    """
    config = load_config(path)
    options = options_of(group)
    check_config(config, {name: set(params) for name, params in options.items()})
    checked: dict[tuple[str, str], Any] = {}
    default_map: dict[str, dict[str, Any]] = {}
    for name, params in options.items():
        values = config.for_command(name, set(params))
        for key, value in values.items():
            if (key, repr(value)) not in checked:
                checked[key, repr(value)] = _parse(config.path, key, value, params[key], group)
            default_map.setdefault(name, {})[params[key].name] = checked[key, repr(value)]
    return Loaded(config, default_map)


def _parse(where: str, key: str, value: Any, param: Any, group: Any) -> Any:
    """``value`` from the file as ``param``'s parser takes it; UsageError naming file and key."""
    from typer._click.core import Context
    from typer._click.exceptions import BadParameter

    if param.multiple and not isinstance(value, list):
        value = [value]  # size = 256 is one size, as -s 256 is
    shown = _shown(value)
    if not param.multiple and isinstance(value, (list, dict)):
        raise UsageError(f"Invalid setting {key} = {shown} in {where}: give one value, not a list")
    try:
        parsed = param.type_cast_value(Context(group), value)
        _check(key, parsed)
    except BadParameter as exc:
        raise UsageError(f"Invalid setting {key} = {shown} in {where}: {exc.message}") from None
    except UsageError as exc:
        raise UsageError(f"Invalid setting {key} = {shown} in {where}: {exc}") from None
    return list(parsed) if isinstance(parsed, tuple) else parsed


def _check(key: str, value: Any) -> None:
    """What the command would refuse later, refused now (the output options, ages, states)."""
    from . import options

    fields = {f.name for f in dataclasses.fields(options.OutputOptions)}
    if key in fields:
        given: dict[str, Any] = {key: list(value) if key == "size" else value}
        options.OutputOptions(**given).build()
    elif key == "older_than":
        from thumbgen.commands import parse_age

        parse_age(str(value))
    elif key == "state":
        from thumbgen.jobqueue.contract import State

        if str(value).strip().lower() not in {s.value for s in State}:
            raise UsageError(f"choose one of {', '.join(s.value for s in State)}")


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, list)) else repr(value)


def effective(loaded: Loaded, group: Any) -> list[Setting]:
    """Every setting, its value and its source: environment, config file or default."""
    merged: dict[str, Setting] = {}
    for command, params in options_of(group).items():
        for name, param in params.items():
            envvar = getattr(param, "envvar", None)
            configured = loaded.default_map.get(command, {})
            value: Any
            if isinstance(envvar, str) and envvar in os.environ:
                value, source = os.environ[envvar], f"environment {envvar}"
            elif param.name in configured:
                value, source = configured[param.name], f"config file {loaded.file.path}"
            else:
                value, source = param.default, "default"
                if value is None:
                    value = _REAL_DEFAULTS.get(name)
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
