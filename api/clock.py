"""The app's clock and its way of waiting, kept on `app.state` so tests can replace them
(the web's idle timeouts, the sign-in limits' waits) instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request

Sleep = Callable[[float], Awaitable[None]]


def install_clock(app: FastAPI) -> None:
    app.state.clock = lambda: datetime.now(UTC)
    app.state.sleep = asyncio.sleep


def now_of(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


async def sleep_for(request: Request, seconds: float) -> None:
    if seconds > 0:
        sleep: Sleep = request.app.state.sleep
        await sleep(seconds)
