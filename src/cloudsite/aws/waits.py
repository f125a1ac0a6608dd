"""Time, for the polling loops: every wait is bounded and polls at a set interval.

Tests pass a Clock whose sleep advances a counter instead of the wall clock, so a 45-minute
timeout is exercised in milliseconds.
"""

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cloudsite.errors import WaitTimeout


@dataclass
class Clock:
    """Monotonic time, sleeping, and the wall clock, with the poll interval for AWS calls."""

    poll: float = 5.0

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def wall(self) -> datetime:
        return datetime.now(UTC)


def clock_from_env(env: Mapping[str, str] | None = None) -> Clock:
    """The real clock; CLOUDSITE_POLL_SECONDS shortens the poll (emulators answer at once)."""
    env = os.environ if env is None else env
    return Clock(poll=float(env.get("CLOUDSITE_POLL_SECONDS", "5")))


@dataclass
class Deadline:
    """A bounded wait: `check()` raises WaitTimeout naming what we waited for."""

    clock: Clock
    seconds: float
    what: str
    hint: str
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.clock.now()

    @property
    def expired(self) -> bool:
        return self.clock.now() - self.started >= self.seconds

    def check(self, state: str = "") -> None:
        if self.expired:
            minutes = self.seconds / 60
            shown = f"{minutes:.0f} min" if minutes >= 1 else f"{self.seconds:.0f} s"
            still = f" (still {state})" if state else ""
            raise WaitTimeout(self.what, f"gave up after {shown}{still}", hint=self.hint)
