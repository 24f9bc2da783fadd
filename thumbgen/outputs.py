"""Outputs as a concept: what a job will write, planned from its options before any decode.

:func:`plan` turns a job's options and source into its planned outputs: for
each one its kind, the formats it may take (``auto`` is JPEG or PNG, decided
by the pixels), their media types, and its name under the output location
(``{width}``, ``{height}`` and ``{ext}`` are known only once encoded). The
pipeline names what it encodes through the plan, ``watch --mirror-deletes``
finds a gone source's thumbnails through it, the store's clash check uses
its :func:`target`, and the server's thumbnail URLs are keys under
the plan's output location. A new kind of output is a new :class:`Kind`
and its entries here.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
from collections.abc import Mapping

from .naming import HASH_DIGITS, render
from .options import Format, Options, OutputSpec


@dataclasses.dataclass(frozen=True)
class FileType:
    """How one output format is named and served."""

    #: File extension without the dot, as ``{ext}`` in name templates.
    extension: str
    content_type: str


#: Output format -> its extension and media type. ``Format.AUTO`` is resolved first.
FILE_TYPES: Mapping[Format, FileType] = {
    Format.JPEG: FileType("jpg", "image/jpeg"),
    Format.PNG: FileType("png", "image/png"),
    Format.WEBP: FileType("webp", "image/webp"),
    Format.AVIF: FileType("avif", "image/avif"),
    Format.GIF: FileType("gif", "image/gif"),
}


class Kind(enum.StrEnum):
    """What an output is. Thumbnails today; placeholders, manifests, posters to come."""

    THUMBNAIL = "thumbnail"


# Stand-ins for the placeholders a name pattern leaves open; no file name
# holds these characters, and normpath leaves them alone.
_WIDTH, _HEIGHT, _EXT, _HASH = "\x01w\x01", "\x01h\x01", "\x01e\x01", "\x01x\x01"


@dataclasses.dataclass(frozen=True)
class PlannedOutput:
    """One output a job will write: the spec it is made by and how it will be named."""

    spec: OutputSpec
    kind: Kind
    #: The formats it may be written as (``auto``: JPEG or PNG).
    formats: tuple[Format, ...]
    source: str
    rel_dir: str
    template: str
    #: The output location (a folder) its key is under.
    out: str

    @property
    def content_types(self) -> tuple[str, ...]:
        """The media types it may have, one per format."""
        return tuple(FILE_TYPES[f].content_type for f in self.formats)

    def key(self, width: int, height: int, fmt: Format, digest: str = "") -> str:
        """Its name under :attr:`out` once encoded at ``width`` x ``height`` in ``fmt``.

        ``digest``: the SHA-256 (hex) of its bytes, for ``{hash}``.
        """
        return self._render(width, height, FILE_TYPES[fmt].extension, digest)

    def location(self, width: int, height: int, fmt: Format, digest: str = "") -> str:
        """Where it is stored: :attr:`out` joined with :meth:`key`."""
        return os.path.join(self.out, self.key(width, height, fmt, digest))

    def shown(self) -> str:
        """Where it will be, for a person: ``*`` for a pixel size not known yet, and the
        extensions it may take (``out/a_256x256.{jpg,png}``)."""
        exts = [FILE_TYPES[f].extension for f in self.formats]
        ext = exts[0] if len(exts) == 1 else "{" + ",".join(exts) + "}"
        return os.path.join(self.out, self._render("*", "*", ext, "*"))

    def as_dict(self) -> dict[str, object]:
        """For ``show --json`` and the API: kind, box, where, media types."""
        return {
            "kind": self.kind.value,
            "size": self.spec.size.label,
            "path": self.shown(),
            "content_types": list(self.content_types),
        }

    def pattern(self) -> tuple[str, re.Pattern[str]] | None:
        """The folder key it is written in and the file names it may have there.

        Names are matched exactly: ``{width}`` and ``{height}`` only as
        digits, ``{ext}`` only as one of its formats' extensions. None when
        the folder itself depends on the pixel size (then only the outputs
        a job recorded are known).
        """
        rel = self._render(_WIDTH, _HEIGHT, _EXT, _HASH)
        folder, name = os.path.split(rel)
        if any(s in folder for s in (_WIDTH, _HEIGHT, _EXT, _HASH)):
            return None
        exts = "|".join(re.escape(FILE_TYPES[f].extension) for f in self.formats)
        regex = (
            re.escape(name)
            .replace(_WIDTH, r"\d+")
            .replace(_HEIGHT, r"\d+")
            .replace(_EXT, f"(?:{exts})")
            .replace(_HASH, f"[0-9a-f]{{{HASH_DIGITS}}}")
        )
        return folder, re.compile(regex)

    def _render(self, width: int | str, height: int | str, ext: str, digest: str) -> str:
        return render(
            self.template,
            source=self.source,
            rel_dir=self.rel_dir,
            size_label=self.spec.size.label,
            width=width,
            height=height,
            ext=ext,
            digest=digest,
        )


@dataclasses.dataclass(frozen=True)
class Plan:
    """Every output of one job, in the order of its specs."""

    out: str
    outputs: tuple[PlannedOutput, ...]


def plan(options: Options, source: str, rel_dir: str = "") -> Plan:
    """The outputs a job for ``source`` (found under ``{dir}`` ``rel_dir``) will write."""
    outputs = tuple(
        PlannedOutput(
            spec,
            Kind.THUMBNAIL,
            _formats(spec, options.animated),
            source,
            rel_dir,
            options.name,
            options.out_dir,
        )
        for spec in options.specs
    )
    return Plan(options.out_dir, outputs)


def _formats(spec: OutputSpec, animated: bool) -> tuple[Format, ...]:
    """The formats an output may be written as: ``auto`` is JPEG or PNG; with ``--animated``
    an animated source gives WebP (GIF when GIF was asked for)."""
    still = (Format.JPEG, Format.PNG) if spec.format is Format.AUTO else (spec.format,)
    moving = Format.GIF if spec.format is Format.GIF else Format.WEBP
    return still if not animated or moving in still else (*still, moving)


def target(options: Options, source: str, rel_dir: str = "") -> str:
    """The names of every output of ``source``, whatever their size and format (``*``).

    Two sources with one target would overwrite each other's thumbnails, and
    the store refuses the second.
    """
    wildcard = render(
        options.name,
        source=source,
        rel_dir=rel_dir,
        size_label="*",
        width="*",
        height="*",
        ext="*",
        digest="*",
    )
    return os.path.join(options.out_dir, wildcard)


def key_under(out: str, location: str) -> str | None:
    """The key of the output at ``location`` under the output location ``out``; None if outside."""
    rel = os.path.relpath(location, out)
    if rel == os.curdir or rel.startswith(os.pardir) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")
