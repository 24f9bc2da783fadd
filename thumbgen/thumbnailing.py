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

from thumbgen import outputs, storage
from thumbgen.imaging import budget
from thumbgen.imaging.pipeline import Encoded, encode_all
from thumbgen.options import Format, Options, OutputSpec


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    """One stored thumbnail: where it is, its pixel size and its format."""

    path: str
    width: int
    height: int
    format: Format


@dataclasses.dataclass(frozen=True)
class Made:
    """What one source gave: the version of it that was read, and its thumbnails."""

    source: storage.Entry
    thumbnails: list[Thumbnail]


def make_thumbnails(source: str, options: Options, *, rel_dir: str = "") -> list[Thumbnail]:
    """Decode ``source`` once and store every thumbnail ``options`` asks for.

    The thumbnails appear together or not at all. ``rel_dir`` fills
    ``{dir}`` in the name template. Raises a
    :class:`~thumbgen.errors.ThumbgenError` subclass for every expected
    problem (missing, not an image, corrupt, too large, unwritable output).
    """
    return make(source, options, rel_dir=rel_dir).thumbnails


def make(source: str, options: Options, *, rel_dir: str = "", max_memory: int = 0) -> Made:
    """:func:`make_thumbnails`, also refusing a decode over ``max_memory`` bytes (0: no limit)."""
    plan = outputs.plan(options, source, rel_dir)
    planned = {p.spec: p for p in plan.outputs}

    out = storage.open_storage(plan.out)

    def name_for(spec: OutputSpec, width: int, height: int, fmt: Format) -> str:
        # Called before each encode: an output that cannot be written fails
        # the job now, not after the cost of encoding it.
        out.prepare(planned[spec].key(width, height, fmt))
        return planned[spec].location(width, height, fmt)

    store, key = storage.open_object(source)
    with store.open_version(key) as (entry, f):
        budget.check(f, source, options, max_memory)
        encoded = encode_all(f, source, options, name_for)
    out.put_all([_blob(planned[e.spec], e, options) for e in encoded])
    return Made(entry, [Thumbnail(e.name, e.width, e.height, e.format) for e in encoded])


def _blob(planned: outputs.PlannedOutput, encoded: Encoded, options: Options) -> storage.Blob:
    return storage.Blob(
        planned.key(encoded.width, encoded.height, encoded.format),
        encoded.data,
        outputs.FILE_TYPES[encoded.format].content_type,
        options.cache_control,
    )
