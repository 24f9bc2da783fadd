"""The Redis job store's steering: pause and resume, cancel, retry, clear.

Each is one script of :mod:`.control_scripts`, which changes the jobs, their
counters and the tokens together; :class:`~.store.RedisStore` adds the
transitions a worker makes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from thumbgen.jobqueue.contract import State

from . import control_scripts as cs
from .base import enc, key
from .browsing import RedisBrowsing

#: Jobs a clear script forgets per call.
CLEAR_CHUNK = 5000


def us(t: float) -> int:
    """Seconds as whole microseconds (the scripts' due times and scores)."""
    return int(t * 1_000_000)


class RedisControls(RedisBrowsing):
    """The steering half of :class:`~thumbgen.jobqueue.redis.store.RedisStore`."""

    def pause(self) -> None:
        """Hold every worker, on every host, from claiming; drop the tokens to run now."""
        self._run("pause", cs.PAUSE, [repr(time.time())], patient=False)

    def resume(self) -> None:
        """Lift the pause and give every queued job its token, in one script."""
        self._run("resume", cs.RESUME, [self._tokens.immediate()], patient=False)

    def _named(self, ids: Sequence[int] | None, sources: Sequence[str] | None) -> list[object]:
        if ids is None and sources is None:
            return ["*"]
        named: list[object] = [int(i) for i in ids or ()]
        if sources:
            found = self._once(lambda: self.r.hmget(key("sources"), [enc(x) for x in sources]))
            named += [int(i) for ids_ in found if ids_ for i in ids_.split(b",")]
        return named

    def cancel(
        self,
        ids: Sequence[int] | None = None,
        sources: Sequence[str] | None = None,
        *,
        vanished: bool = False,
    ) -> int:
        """Cancel queued jobs, by id or source, or all of them; see :class:`JobStore`."""
        named = self._named(ids, sources)
        if not named:
            return 0
        to = (State.VANISHED if vanished else State.CANCELLED).value
        return int(self._run("cancel", cs.CANCEL, [repr(time.time()), to, *named], patient=False))

    def retry(self, ids: Sequence[int] | None = None, sources: Sequence[str] | None = None) -> int:
        """Queue failed, cancelled or vanished jobs again; see :class:`JobStore`."""
        named = self._named(ids, sources)
        if not named:
            return 0
        now = time.time()
        args = [repr(now), us(now), self._tokens.immediate(), *named]
        return int(self._run("retry", cs.RETRY, args, patient=False))

    def retry_failed(self) -> int:
        """Queue every failed job again (``retry()`` with no names)."""
        return self.retry()

    def clear(self, states: Sequence[State], older_than: float | None = None) -> int:
        """Forget jobs in ``states`` with their tries, a chunk per script; see :class:`JobStore`."""
        if not states:
            return 0
        cutoff = "" if older_than is None else repr(time.time() - older_than)
        everything = int(set(states) == set(State) and older_than is None)
        names = [st.value for st in states]
        total = 0
        while True:
            n = int(
                self._run(
                    "clear", cs.CLEAR, [cutoff, everything, CLEAR_CHUNK, *names], patient=False
                )
            )
            total += n
            if n < CLEAR_CHUNK:
                return total
