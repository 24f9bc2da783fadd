"""``--manifest``: one JSON document listing every finished source, made from the queue.

The queue is the source of truth: each job records what it made
(:func:`thumbgen.thumbnailing.info`) when it finishes, and the manifest is
derived from the done jobs made with the same ``--manifest``, rewritten
whole (:func:`thumbgen.storage.rewrite.rewrite`: a lock and an atomic
replace locally, ETag-conditional PUTs in a bucket). So it is right
whatever order jobs finish in and however many workers write it, a worker
killed before its rewrite is made good by the next one (or by ``thumbgen
manifest --write``), and a source queued again or gone drops out until it
is done again.

JSON rather than JSON Lines: the file is replaced whole on every change
anyway (an append-only log cannot take back a deleted or re-made source),
and what reads it, a web build step, loads one document keyed by source
with the ``JSON.parse``/``json.load`` it already has; a reader never sees
a torn line because the file never changes in place.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

from thumbgen import locations
from thumbgen.jobqueue.contract import JobRecord, JobStore
from thumbgen.options import Options
from thumbgen.storage.rewrite import rewrite

#: The document's ``version``: a reader checks it before trusting the layout.
FORMAT_VERSION = 1
MEDIA_TYPE = "application/json"


def entries(
    store: JobStore, *, manifest: str | None = None, sources: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Source -> its entry, for every done job (made with ``--manifest manifest`` if given).

    ``sources`` keeps only those sources and the ones under those folders.
    A source with several done jobs (other options) shows the one finished last.
    """
    wanted = [_normal(s) for s in sources]
    match = None if manifest is None else (lambda o: o.manifest == manifest)
    chosen: dict[str, tuple[JobRecord, Options]] = {}
    for record, options in store.done_jobs(match):
        if wanted and not any(_within(record.source, w) for w in wanted):
            continue
        prev = chosen.get(record.source)
        if prev is None or (record.finished_at or 0) >= (prev[0].finished_at or 0):
            chosen[record.source] = (record, options)
    return {src: entry(rec, opts) for src, (rec, opts) in sorted(chosen.items())}


def entry(record: JobRecord, options: Options) -> dict[str, Any]:
    """One source's entry: the source, its outputs, a srcset, colour and placeholder."""
    info = record.info or {}
    source = {"path": record.source, **info.get("source", {"bytes": record.size})}
    made = info.get("outputs") or [{"path": p} for p in record.outputs]
    result: dict[str, Any] = {"source": source, "outputs": made}
    if "width" in (made[0] if made else {}):
        result["srcset"] = srcset(made)
    for field in ("average_colour", "placeholder"):
        if field in info:
            result[field] = info[field]
    result["finished_at"] = record.finished_at
    return result


def srcset(made: Sequence[dict[str, Any]]) -> str:
    """An HTML ``srcset`` of the outputs in the first one's format: ``key 320w, ...``.

    The width-only sizes (``--srcset``, ``-s 320x``) when there are any: a
    srcset's candidates must show one picture, which a cropped box may not.
    One candidate per width (the smallest file when two share one), keys
    relative to the output folder, which is what a site serves under its base URL.
    """
    widths_only = [o for o in made if str(o.get("size", "")).endswith("x")]
    made = widths_only or made
    fmt = made[0].get("format")
    by_width: dict[int, dict[str, Any]] = {}
    for out in made:
        if out.get("format") != fmt:
            continue
        width = int(out["width"])
        if width not in by_width or out["bytes"] < by_width[width]["bytes"]:
            by_width[width] = out
    return ", ".join(
        f"{_escape(by_width[w].get('key', by_width[w]['path']))} {w}w" for w in sorted(by_width)
    )


def document(found: dict[str, dict[str, Any]]) -> bytes:
    """The manifest file's bytes."""
    doc = {"version": FORMAT_VERSION, "generated_at": time.time(), "sources": found}
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")


def refresh(store: JobStore, manifest: str) -> int:
    """Rewrite the manifest at ``manifest`` from the queue; return how many sources it lists."""
    listed = 0

    def make() -> bytes:
        nonlocal listed
        found = entries(store, manifest=manifest)
        listed = len(found)
        return document(found)

    rewrite(manifest, make, MEDIA_TYPE)
    return listed


def _normal(location: str) -> str:
    text = locations.absolute(location) if locations.is_path(location) else location
    return text.rstrip("/") if len(text) > 1 else text


def _within(source: str, wanted: str) -> bool:
    return source == wanted or source.startswith(wanted.rstrip(os.sep + "/") + "/")


def _escape(key: str) -> str:
    # A srcset candidate ends at whitespace and is separated by commas.
    return key.replace(" ", "%20").replace(",", "%2C")
