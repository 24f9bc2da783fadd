"""Output file names: the ``--name`` template and its placeholders.

``{dir}`` is the source's folder relative to the root it was found under, so
``a/x.jpg`` and ``b/x.jpg`` never share a thumbnail. Names are checked to
stay inside the output folder whatever the template says.
"""

from __future__ import annotations

import os
import string

from .errors import UsageError

#: Placeholders ``--name`` understands, with what each one means (for help and errors).
PLACEHOLDERS = {
    "dir": "source folder relative to the PATH it was found under",
    "stem": "source file name without extension",
    "name": "source file name with extension",
    "size": "requested box, e.g. 256x256",
    "width": "actual width in pixels",
    "height": "actual height in pixels",
    "ext": "extension of the output format (jpg, png, webp, avif)",
}

_FORMATTER = string.Formatter()


def check_template(template: str) -> None:
    """Raise UsageError unless ``template`` is a usable ``--name`` value."""
    try:
        fields = [f for _, f, spec, conv in _FORMATTER.parse(template) if f is not None]
    except ValueError as exc:
        raise UsageError(f"Invalid --name {template!r}: {exc}") from None
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
        raise UsageError(
            f"Invalid --name {template!r}: unknown placeholder {{{unknown[0]}}}; use {known}"
        )
    if "stem" not in fields and "name" not in fields:
        raise UsageError(
            f"Invalid --name {template!r}: it must contain {{stem}} or {{name}}, "
            "or every source would write the same file"
        )
    if template.startswith(("/", "\\")) or os.path.isabs(template):
        raise UsageError(f"Invalid --name {template!r}: it must be relative to the output folder")


def render(
    template: str,
    *,
    source: str,
    rel_dir: str,
    size_label: str,
    width: int | str,
    height: int | str,
    ext: str,
) -> str:
    """Fill ``template`` and return a normalised path relative to the output folder.

    ``width``/``height``/``ext`` may be strings such as ``"?"`` when the
    caller only needs a name pattern (the collision check before decoding).
    """
    base = os.path.basename(source)
    stem, _ = os.path.splitext(base)
    text = template.format(
        dir=rel_dir,
        stem=stem,
        name=base,
        size=size_label,
        width=width,
        height=height,
        ext=ext,
    )
    # An empty {dir} leaves a leading "/" in "{dir}/{stem}"; it means "top level".
    rel = os.path.normpath(text.replace("\\", "/").lstrip("/"))
    if rel.startswith("..") or os.path.isabs(rel):
        raise UsageError(f"Output name {text!r} for {source} points outside the output folder")
    return rel


def relative_dir(source: str, root: str) -> str:
    """``{dir}`` for ``source`` found under ``root`` ("" when it is directly inside)."""
    rel = os.path.relpath(os.path.dirname(os.path.abspath(source)), os.path.abspath(root))
    if rel == "." or rel.startswith(".."):
        return ""
    return rel
