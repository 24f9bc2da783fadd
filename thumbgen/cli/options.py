"""Command-line options shared by several commands, declared once.

Typer declares options per function parameter, so ``add`` and ``watch`` would
each repeat the ten output options. :func:`with_output_options` adds them to a
command's signature instead and hands the command one :class:`OutputOptions`.
Every default comes from :mod:`thumbgen.options`, never retyped here.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from thumbgen import options as defaults
from thumbgen.options import Options, build_options

F = TypeVar("F", bound=Callable[..., Any])

CORES = os.cpu_count() or 1


@dataclasses.dataclass(frozen=True)
class OutputOptions:
    """The output options as typed on the command line, before validation."""

    size: list[str] | None = None
    fit: str = defaults.DEFAULT_FIT
    crop: str = defaults.DEFAULT_CROP
    format: str = defaults.DEFAULT_FORMAT
    quality: int = defaults.DEFAULT_QUALITY
    out: str = defaults.DEFAULT_OUT
    name: str = defaults.DEFAULT_NAME
    upscale: bool = False
    background: str = defaults.DEFAULT_BACKGROUND
    max_pixels: int | None = None

    def build(self) -> Options:
        """Validate into :class:`~thumbgen.options.Options` (raises UsageError)."""
        return build_options(
            self.size or [defaults.DEFAULT_SIZE],
            fit=self.fit,
            crop=self.crop,
            format=self.format,
            quality=self.quality,
            out_dir=self.out,
            name=self.name,
            upscale=self.upscale,
            background=self.background,
            max_pixels=self.max_pixels,
        )


_OUTPUT_PARAMETERS: dict[str, Any] = {
    "size": Annotated[
        list[str] | None,
        typer.Option(
            "--size",
            "-s",
            envvar="THUMBGEN_SIZE",
            help="Box to fit: 256 (256x256), 320x240, 320x (width), x240 (height). Repeatable.",
        ),
    ],
    "fit": Annotated[
        str,
        typer.Option(envvar="THUMBGEN_FIT", help="contain, cover (crop to fill), pad or fill."),
    ],
    "crop": Annotated[
        str,
        typer.Option(envvar="THUMBGEN_CROP", help="Where cover crops: center, entropy, or x,y."),
    ],
    "format": Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            envvar="THUMBGEN_FORMAT",
            help="auto (JPEG, or PNG with transparency), jpeg, png, webp, avif.",
        ),
    ],
    "quality": Annotated[
        int,
        typer.Option("--quality", "-q", envvar="THUMBGEN_QUALITY", help="JPEG/WebP/AVIF quality."),
    ],
    "out": Annotated[
        str, typer.Option("--out", "-o", envvar="THUMBGEN_OUT", help="Output folder.")
    ],
    "name": Annotated[
        str,
        typer.Option(
            envvar="THUMBGEN_NAME",
            help="Output name: {dir} {stem} {name} {size} {width} {height} {ext}.",
        ),
    ],
    "upscale": Annotated[
        bool, typer.Option(envvar="THUMBGEN_UPSCALE", help="Enlarge sources smaller than the box.")
    ],
    "background": Annotated[
        str,
        typer.Option(
            envvar="THUMBGEN_BACKGROUND", help="Colour for pad and for JPEG transparency."
        ),
    ],
    "max_pixels": Annotated[
        int | None,
        typer.Option(
            envvar="THUMBGEN_MAX_PIXELS",
            help=f"Refuse larger sources [default: {defaults.DEFAULT_MAX_PIXELS}].",
        ),
    ],
}


def with_output_options(command: F) -> F:
    """Give ``command`` the output options; it receives them as ``output: OutputOptions``.

    The options take the place of the ``output`` parameter in the signature
    Typer reads, so they show in ``--help`` where the command declares it.
    """
    signature = inspect.signature(command, eval_str=True)
    fields = {f.name: f.default for f in dataclasses.fields(OutputOptions)}
    injected = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=fields[name], annotation=a)
        for name, a in _OUTPUT_PARAMETERS.items()
    ]
    parameters: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if param.name == "output":
            parameters.extend(injected)
        else:
            parameters.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _OUTPUT_PARAMETERS if name in kwargs}
        return command(*args, output=OutputOptions(**values), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    if signature.return_annotation is not inspect.Signature.empty:
        wrapper.__annotations__["return"] = signature.return_annotation
    return wrapper  # type: ignore[return-value]


WorkersOpt = Annotated[
    int,
    typer.Option("--workers", "-w", min=0, envvar="THUMBGEN_WORKERS", help="Worker processes."),
]
