"""One source in, its thumbnails stored: the imaging core between two storages.

The source is read from its storage as one stream (stat first: the size
and version recorded are those read before decoding), decoded once and
encoded by the imaging core, and the encoded set is handed to the output
storage, which stores all of it or none. Names come from the job's plan
(:mod:`thumbgen.outputs`). This is the library call, and what a worker runs
for each job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from thumbgen import outputs, storage
from thumbgen.errors import ClaimLost
from thumbgen.imaging import budget
from thumbgen.imaging.pipeline import Encoded, Rendered, render_all
from thumbgen.messages import display_path
from thumbgen.options import Format, Options, OutputSpec


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    """One stored thumbnail: where it is, its pixel size and its format."""

    path: str
    width: int
    height: int
    format: Format
    #: Its size in bytes and their SHA-256 (hex).
    bytes: int = 0
    digest: str = ""
    #: For ``cover``: the window kept, (left, top, right, bottom) in source pixels.
    crop: tuple[int, int, int, int] | None = None
    #: The box it was asked for (``{size}``: ``256x256``, ``320x``).
    size: str = ""


@dataclasses.dataclass(frozen=True)
class Made:
    """What one source gave: the version of it that was read, and its thumbnails."""

    source: storage.Entry
    thumbnails: list[Thumbnail]
    #: The upright source's size and EXIF orientation, its average colour
    #: (``#rrggbb``, "" unless asked for) and the ``--placeholder`` string ("" if none).
    source_size: tuple[int, int] = (0, 0)
    orientation: int = 1
    average_colour: str = ""
    placeholder: str = ""
    #: A video's duration, codec and size, or a PDF's pages (:attr:`Rendered.media`).
    media: dict[str, Any] = dataclasses.field(default_factory=dict)


def make_thumbnails(source: str, options: Options, *, rel_dir: str = "") -> list[Thumbnail]:
    """Decode ``source`` once and store every thumbnail ``options`` asks for.

    The thumbnails appear together or not at all. ``rel_dir`` fills
    ``{dir}`` in the name template. Raises a
    :class:`~thumbgen.errors.ThumbgenError` subclass for every expected
    problem (missing, not an image, corrupt, too large, unwritable output).
    """
    return make(source, options, rel_dir=rel_dir).thumbnails


def make(
    source: str,
    options: Options,
    *,
    rel_dir: str = "",
    max_memory: int = 0,
    still_held: Callable[[], bool] | None = None,
) -> Made:
    """:func:`make_thumbnails`, also refusing a decode over ``max_memory`` bytes (0: no limit).

    ``still_held`` is asked once everything is encoded, just before anything
    is stored: False raises :class:`~thumbgen.errors.ClaimLost` and stores
    nothing (a worker's job went to another worker meanwhile).
    """
    plan = outputs.plan(options, source, rel_dir)
    planned = {p.spec: p for p in plan.outputs}

    out = storage.open_storage(plan.out)

    def name_for(spec: OutputSpec, width: int, height: int, fmt: Format, digest: str) -> str:
        # Called before each encode: an output that cannot be written fails
        # the job now, not after the cost of encoding it.
        out.prepare(planned[spec].key(width, height, fmt, digest))
        return planned[spec].location(width, height, fmt, digest)

    store, key = storage.open_object(source)
    with store.open_version(key) as (entry, f):
        budget.check(f, source, options, max_memory)
        rendered: Rendered = render_all(f, source, options, name_for, max_memory)
    encoded = rendered.outputs
    if still_held is not None and not still_held():
        raise ClaimLost(
            f"Gave up {display_path(source)}: its claim lapsed and another worker runs it now; "
            "nothing stored"
        )
    out.put_all([_blob(planned[e.spec], e, options) for e in encoded])
    thumbs = [
        Thumbnail(
            e.name, e.width, e.height, e.format, len(e.data), e.digest, e.crop, e.spec.size.label
        )
        for e in encoded
    ]
    return Made(
        entry,
        thumbs,
        rendered.source_size,
        rendered.orientation,
        rendered.average_colour,
        rendered.placeholder,
        rendered.media,
    )


def _blob(planned: outputs.PlannedOutput, encoded: Encoded, options: Options) -> storage.Blob:
    return storage.Blob(
        planned.key(encoded.width, encoded.height, encoded.format, encoded.digest),
        encoded.data,
        outputs.FILE_TYPES[encoded.format].content_type,
        options.cache_control,
    )


def info(made: Made, options: Options) -> dict[str, Any]:
    """What a job records about ``made`` (JSON values): manifests are made from it.

    The source's upright size, EXIF orientation, bytes and version; per
    output its location, pixel size, bytes, format, media type, SHA-256 and
    crop window; the average colour and the placeholder when asked for; a
    video's duration, codec and size, a PDF's page count and page size.
    """
    result: dict[str, Any] = {
        "source": {
            "width": made.source_size[0],
            "height": made.source_size[1],
            "orientation": made.orientation,
            "bytes": made.source.size,
            "version": made.source.version,
        },
        "outputs": [
            {
                "path": t.path,
                "key": outputs.key_under(options.out_dir, t.path) or t.path,
                "size": t.size,
                "width": t.width,
                "height": t.height,
                "bytes": t.bytes,
                "format": t.format.value,
                "content_type": outputs.FILE_TYPES[t.format].content_type,
                "sha256": t.digest,
                "crop": list(t.crop) if t.crop is not None else None,
            }
            for t in made.thumbnails
        ],
    }
    if made.average_colour:
        result["average_colour"] = made.average_colour
    if options.placeholder:
        result["placeholder"] = {"kind": options.placeholder, "value": made.placeholder}
    # "video": duration (seconds or None), codec, width, height;
    # "pdf": pages, and the first page's width and height in points.
    result.update(made.media)
    return result
