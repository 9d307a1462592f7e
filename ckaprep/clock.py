"""The time, as all of ckaprep reads it: the wall clock (what is recorded and shown), the
monotonic clock and sleep (how long a wait has taken, and the wait itself), in one object.

A function that needs a moment takes `now`, an aware datetime read once by its caller; one that
reads the time as it goes (waits, deadlines, durations) takes a Clock. Tests pass one fake
Clock instead of patching the time module.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    """The system's clocks; a test passes a subclass."""

    def now(self) -> datetime:
        """The wall time, aware, in UTC."""
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = Clock()
