"""Output file names: the ``--name`` template and its placeholders.

``{dir}`` is the source's folder relative to the root it was found under, so
``a/x.jpg`` and ``b/x.jpg`` never share a thumbnail. Names are checked to
stay inside the output folder whatever the template says.
"""

from __future__ import annotations

import os
import string

from .errors import UsageError
from .messages import display_path

#: Placeholders ``--name`` understands, with what each one means (for help and errors).
PLACEHOLDERS = {
    "dir": "source folder relative to the PATH it was found under",
    "stem": "source file name without extension",
    "name": "source file name with extension",
    "size": "requested box, e.g. 256x256",
    "width": "actual width in pixels",
    "height": "actual height in pixels",
    "ext": "extension of the output format (jpg, png, webp, avif)",
    "hash": "the output's content hash (16 hex digits): a new name whenever its bytes change",
}

#: Hex digits of the output's SHA-256 that ``{hash}`` gives: 64 bits, so two
#: different thumbnails of one source share a name once in 2**32 versions or so.
HASH_DIGITS = 16

_FORMATTER = string.Formatter()


def check_template(template: str) -> None:
    """Raise UsageError unless ``template`` is a usable ``--name`` value."""
    try:
        parsed = [
            (f, spec, conv) for _, f, spec, conv in _FORMATTER.parse(template) if f is not None
        ]
    except ValueError as exc:
        raise UsageError(f"Invalid --name {template!r}: {exc}") from None
    fields = [f for f, _, _ in parsed]
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
        raise UsageError(
            f"Invalid --name {template!r}: unknown placeholder {{{unknown[0]}}}; use {known}"
        )
    for field, spec, conv in parsed:
        # Names are also rendered with "*" for width and height before decoding
        # (the clash check), where a spec such as ":04d" cannot apply.
        if spec or conv:
            raise UsageError(
                f"Invalid --name {template!r}: write {{{field}}} without ':' or '!' formatting"
            )
    if "stem" not in fields and "name" not in fields:
        raise UsageError(
            f"Invalid --name {template!r}: it must contain {{stem}} or {{name}}, "
            "or every source would write the same file"
        )
    if "hash" in fields and "{hash}" in template.replace("\\", "/").rpartition("/")[0]:
        raise UsageError(
            f"Invalid --name {template!r}: {{hash}} belongs in the file name, not a folder"
        )
    if template.startswith(("/", "\\")) or os.path.isabs(template):
        raise UsageError(f"Invalid --name {template!r}: it must be relative to the output folder")
    # A trial name catches "../{stem}" now rather than at the first thumbnail.
    render(
        template,
        source="x.jpg",
        rel_dir="",
        size_label="1x1",
        width=1,
        height=1,
        ext="jpg",
        digest="0" * HASH_DIGITS,
    )


def render(
    template: str,
    *,
    source: str,
    rel_dir: str,
    size_label: str,
    width: int | str,
    height: int | str,
    ext: str,
    digest: str = "",
) -> str:
    """Fill ``template`` and return a normalised path relative to the output folder.

    ``width``/``height``/``ext`` may be strings such as ``"*"`` when the
    caller only needs a name pattern (the collision check before decoding).
    ``digest`` is the output's SHA-256 in hex (or such a pattern); ``{hash}``
    is its first :data:`HASH_DIGITS` characters.
    """
    base = os.path.basename(source)
    stem, _ = os.path.splitext(base)
    try:
        text = template.format(
            dir=rel_dir,
            stem=stem,
            name=base,
            size=size_label,
            width=width,
            height=height,
            ext=ext,
            hash=digest[:HASH_DIGITS],
        )
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise UsageError(f"Invalid --name {template!r}: {exc}") from None
    # An empty {dir} leaves a leading "/" in "{dir}/{stem}"; it means "top level".
    rel = os.path.normpath(text.replace("\\", "/").lstrip("/"))
    # Only a whole ".." component leaves the folder; "..notes_256x256.jpg" is a
    # legitimate (hidden-looking) file name.
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        raise UsageError(
            f"Output name {text!r} for {display_path(source)} "
            "points outside the output folder; fix --name"
        )
    return rel


def relative_dir(source: str, root: str) -> str:
    """``{dir}`` for ``source`` found under ``root`` ("" when it is directly inside)."""
    rel = os.path.relpath(os.path.dirname(os.path.abspath(source)), os.path.abspath(root))
    if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return ""
    return rel
