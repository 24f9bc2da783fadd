"""Putting photos in a bucket and reading back what is there, for the S3 tests."""

from __future__ import annotations

from pathlib import Path

from support.imagegen import write_jpegs
from thumbgen.storage import Blob, Entry, open_storage


def upload(tmp_path: Path, location: str, count: int, folder: str = "sub") -> list[str]:
    """``count`` distinct JPEGs put under ``location`` in ``folder``; their keys."""
    store = open_storage(location)
    paths = write_jpegs(tmp_path / "made", count, size=(320, 240))
    keys = [f"{folder}/{p.name}" if folder else p.name for p in paths]
    store.put_all([Blob(k, p.read_bytes(), "image/jpeg") for k, p in zip(keys, paths, strict=True)])
    return keys


def objects(location: str) -> dict[str, bytes]:
    """Every object under ``location``, by key."""
    store = open_storage(location)
    return {e.key: store.read(e.key) for e in store.entries() if isinstance(e, Entry)}
