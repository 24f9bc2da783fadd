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
from thumbgen.options import Fit, Format, Options, build_options

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
    cache_control: str | None = None
    placeholder: str | None = None
    manifest: str | None = None
    srcset: str | None = None
    animated: bool = False

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
            cache_control=self.cache_control,
            placeholder=self.placeholder,
            manifest=self.manifest,
            srcset=self.srcset,
            animated=self.animated,
        )


_FITS = "|".join(f.value for f in Fit)
_FORMATS = "|".join(f.value for f in Format)

_OUTPUT_PARAMETERS: dict[str, Any] = {
    "size": Annotated[
        list[str] | None,
        typer.Option(
            "--size",
            "-s",
            metavar="SIZE",
            envvar="THUMBGEN_SIZE",
            show_default=defaults.DEFAULT_SIZE,
            help="Box to fit: 256 (256x256), 320x240, 320x (width), x240 (height). Repeatable.",
        ),
    ],
    "fit": Annotated[
        str,
        typer.Option(
            metavar=f"[{_FITS}]",
            envvar="THUMBGEN_FIT",
            help="contain (fit inside), cover (fill the box, crop), pad (to the box), fill.",
        ),
    ],
    "crop": Annotated[
        str,
        typer.Option(
            metavar="[center|entropy|attention|faces|X,Y]",
            envvar="THUMBGEN_CROP",
            help="Where cover crops: the centre, the busiest part, the most salient part"
            " (attention), faces (the faces extra), or a focal point in 0..1.",
        ),
    ],
    "format": Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar=f"[{_FORMATS}]",
            envvar="THUMBGEN_FORMAT",
            help="Output format; auto is JPEG, or PNG for pictures with transparency.",
        ),
    ],
    "quality": Annotated[
        int,
        typer.Option(
            "--quality",
            "-q",
            metavar="1-100",
            envvar="THUMBGEN_QUALITY",
            help="JPEG/WebP/AVIF quality.",
        ),
    ],
    "out": Annotated[
        str,
        typer.Option("--out", "-o", metavar="DIR", envvar="THUMBGEN_OUT", help="Output folder."),
    ],
    "name": Annotated[
        str,
        typer.Option(
            metavar="TEMPLATE",
            envvar="THUMBGEN_NAME",
            help="Output name from {dir} {stem} {name} {size} {width} {height} {ext} {hash}.",
        ),
    ],
    "upscale": Annotated[
        bool,
        typer.Option(
            "--upscale/--no-upscale",
            envvar="THUMBGEN_UPSCALE",
            help="Enlarge sources smaller than the box.",
        ),
    ],
    "background": Annotated[
        str,
        typer.Option(
            metavar="COLOUR",
            envvar="THUMBGEN_BACKGROUND",
            help="Colour for pad and for JPEG transparency: a name, #rrggbb or transparent.",
        ),
    ],
    "max_pixels": Annotated[
        int | None,
        typer.Option(
            metavar="PIXELS",
            envvar="THUMBGEN_MAX_PIXELS",
            show_default=str(defaults.DEFAULT_MAX_PIXELS),
            help="Refuse sources with more pixels, from their header, before decoding.",
        ),
    ],
    "cache_control": Annotated[
        str | None,
        typer.Option(
            metavar="VALUE",
            envvar="THUMBGEN_CACHE_CONTROL",
            show_default="none",
            help="Cache-Control stored with thumbnails in a bucket,"
            " e.g. 'public, max-age=31536000'.",
        ),
    ],
    "placeholder": Annotated[
        str | None,
        typer.Option(
            metavar="[thumbhash|blurhash]",
            envvar="THUMBGEN_PLACEHOLDER",
            show_default="none",
            help="Record a placeholder string (and the average colour) with each job.",
        ),
    ],
    "manifest": Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            envvar="THUMBGEN_MANIFEST",
            show_default="none",
            help="Keep a JSON manifest of every finished source here (a path or s3:// key).",
        ),
    ],
    "srcset": Annotated[
        str | None,
        typer.Option(
            metavar="WIDTHS",
            envvar="THUMBGEN_SRCSET",
            show_default="none",
            help="Widths for an HTML srcset, e.g. 320,640,1280 (one size each).",
        ),
    ],
    "animated": Annotated[
        bool,
        typer.Option(
            "--animated",
            envvar="THUMBGEN_ANIMATED",
            help="Animated thumbnails (WebP; GIF with --format gif) of animated GIF, WebP and"
            " PNG, and a 3 s preview of videos.",
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
    typer.Option(
        "--workers",
        "-w",
        min=1,
        metavar="N",
        envvar="THUMBGEN_WORKERS",
        show_default="one per core",
        help="Worker processes.",
    ),
]

#: ``-w`` of the commands that run workers beside their own work (watch,
#: serve): 0 means they only queue, for workers that run elsewhere.
QueueingWorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers",
        "-w",
        min=0,
        metavar="N",
        envvar="THUMBGEN_WORKERS",
        show_default="one per core",
        help="Worker processes to run; 0 = only queue (workers run elsewhere).",
    ),
]
