"""A clock that tests move by hand and a sleep that only writes down how long it was
asked to wait, put on `app.state.clock` and `app.state.sleep` (api/clock.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI

# On the minute: the sign-in limits count from the minute of a first failure.
START = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Sleeps:
    """Every wait the app asked for, in seconds, in order; none of them is slept."""

    asked: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)

    def take(self) -> list[float]:
        """The waits asked for since the last `take`."""
        taken, self.asked = self.asked, []
        return taken


@dataclass
class Held:
    clock: Clock
    sleeps: Sleeps


def hold_time(app: FastAPI, start: datetime = START) -> Held:
    """Stops `app`'s time at `start`: it moves when the test moves `clock.now`, and waits
    are written down in `sleeps` instead of slept."""
    held = Held(Clock(start), Sleeps())
    app.state.clock = held.clock
    app.state.sleep = held.sleeps
    return held
