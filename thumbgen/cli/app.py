"""The ``thumbgen`` command line: the Typer app, its global options and its entry point.

Each command lives in a module of its own (producing, working, inspecting,
managing) and only parses, calls one service function and renders. Errors the
parser finds (a bad value, an unknown option) become the same one line as
thumbgen's own: ``Error: ...`` on stderr, exit code 2.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, NoReturn

import typer

# The parser's exceptions: Typer 0.28 vendors click (pinned, and checked by
# tests/unit/test_typer_pins.py).
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from thumbgen import __version__
from thumbgen.errors import ExitCode, ThumbgenError

from . import inspecting, managing, producing, render, serving, settings, working


class _OneLineErrors(TyperGroup):
    """A command group whose usage errors are one ``Error:`` line, exit 2."""

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, **kwargs: Any
    ) -> Any:
        standalone_mode = kwargs.pop("standalone_mode", True)
        try:
            result = super().main(args, prog_name, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            if not standalone_mode:
                raise
            print(exc.format_message())
            sys.exit(int(ExitCode.USAGE))
        except UsageError as exc:
            if not standalone_mode:
                raise
            render.error(_usage_line(exc))
            sys.exit(int(ExitCode.USAGE))
        except ClickException as exc:
            if not standalone_mode:
                raise
            render.error(" ".join(exc.format_message().split()))
            sys.exit(exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            if not standalone_mode:
                raise
            render.note("Interrupted")
            sys.exit(int(ExitCode.INTERRUPTED))
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def _usage_line(exc: UsageError) -> str:
    message = " ".join(exc.format_message().split())
    ctx = exc.ctx
    if ctx is not None and ctx.command_path:
        return f"{message} (see '{ctx.command_path} --help')"
    return message


app = typer.Typer(
    cls=_OneLineErrors,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Make thumbnails through a durable local queue.\n\nExample: thumbgen add photos/ --wait",
)


def _version(value: bool) -> None:
    if value:
        print(f"thumbgen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            metavar="PATH",
            envvar="THUMBGEN_QUEUE",
            show_default="queue.db in the per-user data folder",
            help="Queue: a SQLite file, or redis://[:PASSWORD@]HOST:PORT/DB (rediss:// for "
            "TLS, redis+sentinel://HOST:PORT/SERVICE/DB through Sentinel) for workers on many "
            "machines. Also accepted after the command.",
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            metavar="FILE",
            envvar="THUMBGEN_CONFIG",
            show_default="config.toml in the per-user config folder",
            help="Settings file (TOML); see `thumbgen config`.",
        ),
    ] = None,
    color: Annotated[
        str,
        typer.Option(
            "--color",
            metavar="[auto|always|never]",
            envvar="THUMBGEN_COLOR",
            help="Colour in output; NO_COLOR in the environment means never.",
        ),
    ] = "auto",
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Make thumbnails through a durable local queue."""
    try:
        render.set_color(color, no_color=bool(os.environ.get("NO_COLOR")))
        loaded = settings.load(config, ctx.command)
    except ThumbgenError as exc:
        render.error(str(exc))
        raise typer.Exit(int(exc.exit_code)) from None
    ctx.default_map = loaded.default_map
    ctx.obj = {"queue": loaded.queue(queue), "config": loaded}


producing.register(app)
working.register(app)
inspecting.register(app)
managing.register(app)
serving.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="thumbgen")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            _exit(exc.code or 0)
        print(exc.code, file=sys.stderr)
        _exit(1)
    _exit(0)  # pragma: no cover - the app always ends with SystemExit


def _exit(code: int) -> NoReturn:
    """End the process without tearing the interpreter down.

    Once the command is done, unloading every module (Pillow, Huey, rich,
    Typer) and freeing each object one by one took 30-60 ms of a command
    that may take 150 ms in all; the kernel frees the memory at once. What
    teardown would do that matters is done here, in its order: threads that
    are not daemons are waited for, the exit handlers run (logging's flush,
    multiprocessing's reaping) and the streams are flushed.
    """
    import atexit
    import threading

    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            # A closed pipe (thumbgen ... | head): nothing more can be said.
            code = code or 1
    os._exit(code)
