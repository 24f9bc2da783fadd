"""How often and how soon a job that failed for a transient reason is tried again."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon transient failures are tried again."""

    attempts: int = 3
    delay: float = 2.0
    factor: float = 2.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        return float(self.delay * self.factor ** max(attempt - 1, 0))
