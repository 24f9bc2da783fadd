"""The Redis job store's pages for the dashboard: jobs by cursor, failures by reason, labels.

Every state has a sorted set of its ids scored by id (``P:s:<state>``, and
``P:all``), so a page is one ZRANGEBYSCORE from the cursor: the same cost at
any depth. A search (``query``, ``error``) has no index in Redis: it reads
the ids in chunks and filters their sources, labels and errors here until
the page is full, linear in the jobs it passes over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from thumbgen.jobqueue.contract import JobRecord, State
from thumbgen.jobqueue.policy import reason

from .base import RedisBase, dec, enc, key

#: Ids read per round trip while a search filters.
SCAN_CHUNK = 2000


class RedisBrowsing(RedisBase):
    """Paging, failure reasons and labels for :class:`~thumbgen.jobqueue.redis.store.RedisStore`."""

    def page(
        self,
        *,
        state: State | None = None,
        query: str = "",
        error: str | None = None,
        after: int | None = None,
        newest_first: bool = True,
        limit: int = 50,
    ) -> list[JobRecord]:
        """A page of jobs by id from a cursor; see :class:`JobStore`."""
        index = key("all") if state is None else key("s:" + state.value)
        searching = bool(query) or error is not None
        found: list[JobRecord] = []
        cursor = after
        while len(found) < limit:
            want = SCAN_CHUNK if searching else limit - len(found)
            ids = self._ids_from(index, cursor, newest_first, want)
            if not ids:
                break
            cursor = int(ids[-1])
            if searching:
                ids = self._matching(ids, query, error)
            found += self.records_of(ids[: limit - len(found)])
            if not searching:
                break  # a job cleared between the two reads only makes the page short
        return found

    def _ids_from(self, index: bytes, after: int | None, newest_first: bool, n: int) -> list[Any]:
        if newest_first:
            top = "+inf" if after is None else f"({after}"
            return list(self._once(lambda: self.r.zrevrangebyscore(index, top, "-inf", 0, n)))
        low = "-inf" if after is None else f"({after}"
        return list(self._once(lambda: self.r.zrangebyscore(index, low, "+inf", 0, n)))

    def _matching(self, ids: Sequence[bytes], query: str, error: str | None) -> list[bytes]:
        rows = self._hmget_jobs(ids, ("source", "error"))
        wanted = _folded(query)
        labels = self.labels_of([src or b"" for src, _ in rows]) if query else []
        kept = []
        for n, (job_id, (source, err)) in enumerate(zip(ids, rows, strict=True)):
            if source is None:
                continue
            if error is not None and reason(dec(err) if err else None, dec(source)) != error:
                continue
            if query and not (wanted in _folded(dec(source)) or wanted in _folded(labels[n])):
                continue
            kept.append(job_id)
        return kept

    def failure_reasons(self, limit: int = 50) -> list[tuple[str, int]]:
        """Failed jobs grouped by error line, most common first: one pass over the failures."""
        reasons: Counter[str] = Counter()
        index = key("s:" + State.FAILED.value)
        after: int | None = None
        while True:
            ids = self._ids_from(index, after, False, SCAN_CHUNK)
            if not ids:
                break
            after = int(ids[-1])
            for err, source in self._hmget_jobs(ids, ("error", "source")):
                reasons[reason(dec(err) if err else None, dec(source or b""))] += 1
        ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]

    def set_labels(self, labels: Mapping[str, str]) -> None:
        """Name sources for display (the newest label wins); see :class:`JobStore`."""
        self._writable()
        if labels:
            mapping = {enc(source): enc(label) for source, label in labels.items()}
            self._once(lambda: self.r.hset(key("labels"), mapping=mapping))


def _folded(text: str) -> str:
    """ASCII letters in lower case, as SQLite's LIKE compares them."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
