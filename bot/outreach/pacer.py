"""The pace of one sender: every worker takes its turn here before each Slack call, so that a
429 seen by one worker pauses them all and slows the whole sender down."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Paces every worker of one sender together, just under Slack's rate limit.

    It aims `headroom` below the ceiling so that network jitter does not tip a burst over the
    limit; on a 429 every worker waits `Retry-After` and the pace drops by a fifth, then it
    climbs back a little each second without a 429.
    """

    MIN_RATE = 0.5

    def __init__(
        self,
        rate: float,
        *,
        headroom: float = 0.97,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ceiling = max(self.MIN_RATE, rate * headroom)
        self.rate = self.ceiling
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._paused_until = 0.0
        self._last_growth = clock()
        self.rate_limited = 0

    def acquire(self) -> None:
        """Block until this worker may make its next call."""
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._next_at, self._paused_until)
                self._next_at = start + 1.0 / self.rate
            if start > now:
                self._sleep(start - now)
            with self._lock:
                # A 429 seen while this worker slept moves the whole sender back.
                if self._clock() >= self._paused_until:
                    return

    def on_rate_limited(self, retry_after: float) -> None:
        """A 429 answered: every worker waits `retry_after` seconds from now."""
        with self._lock:
            now = self._clock()
            self.rate_limited += 1
            if now >= self._paused_until:
                # Only the first 429 of a burst slows the pace; the rest were already in flight.
                self.rate = max(self.MIN_RATE, self.rate * 0.8)
            until = now + max(retry_after, 0.0)
            self._paused_until = max(self._paused_until, until)
            self._next_at = max(self._next_at, self._paused_until)
            self._last_growth = until

    def on_success(self) -> None:
        """A call went through: the pace creeps back towards its ceiling."""
        with self._lock:
            now = self._clock()
            if self.rate < self.ceiling and now - self._last_growth >= 1.0:
                self.rate = min(self.ceiling, self.rate * 1.1)
                self._last_growth = now
