"""Paths in SQLite columns: any Linux name, stored so that it reads back exactly.

A Linux file name is bytes; Python hands one that is not valid UTF-8 over as
a ``str`` with surrogate escapes (U+DC80..U+DCFF), which SQLite's UTF-8 text
cannot hold (sqlite3 raises UnicodeEncodeError). Such a value is stored as a
BLOB of its original bytes instead, and every other value as TEXT, so
ordinary names stay readable in the file and in SQL.

The choice depends on the value alone, so one path is always stored the
same way and ``WHERE source = ?`` finds it (a BLOB never equals a TEXT).
Reading decodes a BLOB with ``surrogateescape``, giving back the very
``str`` that was written. Names are never compared across the two kinds
(``ORDER BY source`` would put BLOBs after all TEXT), and nothing sorts by them.
"""

from __future__ import annotations


def to_db(text: str) -> str | bytes:
    """``text`` as a column value: itself if it is valid UTF-8, else its bytes."""
    if text.isascii():  # nearly every name, and the quickest test
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return text


def to_db_opt(text: str | None) -> str | bytes | None:
    """:func:`to_db` for a column that may be NULL."""
    return None if text is None else to_db(text)


def from_db(value: str | bytes) -> str:
    """A column value written by :func:`to_db`, as the ``str`` it was."""
    if isinstance(value, str):
        return value
    return value.decode("utf-8", "surrogateescape")


def from_db_opt(value: str | bytes | None) -> str | None:
    """:func:`from_db` for a column that may be NULL."""
    return None if value is None else from_db(value)
