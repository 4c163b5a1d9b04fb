"""Fixed-window rate limits kept in Django's cache.

With ``CACHE_URL=redis://…`` every worker counts in the same place; the
default local-memory cache counts per process (``catalyst.checks`` warns when
that meets several workers).
"""

import time

from django.core.cache import cache


class RateLimited(Exception):
    """Raised when an allowance is spent; says how long until the window ends."""

    def __init__(self, *, limit: int, window: int, retry_after: int) -> None:
        super().__init__(f"more than {limit} per {window} s")
        self.limit = limit
        self.window = window
        self.retry_after = retry_after

    def wait_phrase(self) -> str:
        """“30 seconds”, “12 minutes”: the wait in words."""
        if self.retry_after < 120:
            return f"{self.retry_after} second{'s' if self.retry_after != 1 else ''}"
        minutes = -(-self.retry_after // 60)
        return f"{minutes} minutes"

    def window_phrase(self) -> str:
        """“minute”, “15 minutes”, “hour”: the window in words."""
        seconds = self.window
        if seconds in (60, 3600):
            return "minute" if seconds == 60 else "hour"
        if seconds % 3600 == 0:
            return f"{seconds // 3600} hours"
        if seconds % 60 == 0:
            return f"{seconds // 60} minutes"
        return f"{seconds} seconds"


def allowance_take(key: str, *, limit: int, window: int) -> None:
    """Count one use of ``key``; raise ``RateLimited`` past ``limit`` per ``window`` seconds."""
    now = time.time()
    bucket = f"ratelimit:{key}:{window}:{int(now // window)}"
    cache.add(bucket, 0, timeout=window + 5)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window + 5)
        count = 1
    if count > limit:
        raise RateLimited(limit=limit, window=window, retry_after=max(1, int(window - now % window) + 1))
