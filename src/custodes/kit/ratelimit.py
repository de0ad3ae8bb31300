"""Rate limits over the `limits` library (moving window, in process memory).

Each server process counts on its own: N workers allow an address N times the rate, and a restart resets
the counts (docs/security.md, known limits). Nothing that must hold across processes is kept here: the
log-in lock-out is in the account's row (identity.service.authenticate)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies


class RateLimit:
    def __init__(self, rate: str | RateLimitItem, namespace: str) -> None:
        self._item = parse(rate) if isinstance(rate, str) else rate
        self._namespace = namespace
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    @property
    def rate(self) -> str:
        """The limit in words ("200 per 1 hour")."""
        return str(self._item)

    def once_per_window(self, namespace: str) -> RateLimit:
        """A limit of one attempt per this limit's window (for one notice per window)."""
        return RateLimit(type(self._item)(1, self._item.multiples), namespace)

    def hit(self, key: str) -> bool:
        """Count one attempt; False once the limit is exceeded."""
        return self._limiter.hit(self._item, self._namespace, key)

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` may try again (for a `Retry-After` header); at least 1."""
        reset = self._limiter.get_window_stats(self._item, self._namespace, key).reset_time
        return max(1, math.ceil(reset - time.time()))
