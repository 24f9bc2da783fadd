"""``watch --mirror-deletes``: find the thumbnails a gone source made, and remove them.

A source's thumbnails are known two ways: the outputs its job recorded when
it was done, and the names its plan (:func:`thumbgen.outputs.plan`) gives
it for each size (a job queued again after a change has no recorded outputs
yet, but its earlier thumbnails are still there). Names are matched exactly
(:meth:`~thumbgen.outputs.PlannedOutput.pattern`), so ``a.jpg``'s pattern
never matches ``a_b.jpg``'s thumbnails. Only objects inside the output
location are ever removed, through its storage, and folders left empty go too.
"""

from __future__ import annotations

from collections.abc import Iterable

from thumbgen import outputs
from thumbgen.options import Options
from thumbgen.storage import Entry, open_storage


def thumbnails_of(
    source: str,
    rel_dir: str,
    options: Options,
    recorded: Iterable[str] = (),
    listings: dict[str, list[str]] | None = None,
) -> list[str]:
    """The thumbnails of ``source`` that exist in ``options.out_dir``: recorded or by name.

    ``listings`` caches the output folders' listings across calls (many
    sources gone at once, say a folder removed, share a few output folders).
    """
    store = open_storage(options.out_dir)
    keys = {k for k in (outputs.key_under(options.out_dir, p) for p in recorded) if k}
    cache = {} if listings is None else listings
    for planned in outputs.plan(options, source, rel_dir).outputs:
        pattern = planned.pattern()
        if pattern is None:
            continue  # a folder named by pixel size: only recorded outputs are trusted
        folder, matcher = pattern
        if folder not in cache:
            listed = store.entries(folder, recursive=False)
            cache[folder] = [e.key for e in listed if isinstance(e, Entry)]
        keys.update(k for k in cache[folder] if matcher.fullmatch(k.rpartition("/")[2]))
    # Served: a regular file whose real location is inside the output folder.
    return sorted(store.path(k) for k in keys if store.serve(k) is not None)


def remove(paths: Iterable[str], out_dir: str) -> int:
    """Remove ``paths`` (thumbnails inside ``out_dir``) and the folders they leave empty.

    Returns how many files went; one already gone is not an error.
    """
    keys = [k for k in (outputs.key_under(out_dir, p) for p in paths) if k]
    return open_storage(out_dir).delete(keys)
