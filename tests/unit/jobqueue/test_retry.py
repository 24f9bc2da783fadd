"""The retry policy: exponential backoff from the first delay."""

from __future__ import annotations

from thumbgen.workers.retry import RetryPolicy


def test_backoff_doubles_from_the_first_delay() -> None:
    policy = RetryPolicy(attempts=4, delay=0.5)
    assert [policy.backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
