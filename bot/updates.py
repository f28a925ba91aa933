"""Updates of different chats at once; one chat's updates one at a time, in order.

A person's taps must be applied in the order they were made (the draft is read, advanced
and written back by each), but one chat sending slow things — large files, a flood —
must never hold another chat's answer (issue 13). PTB's `concurrent_updates(True)` runs
everything at once; this processor adds one lock per chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB waits on its own semaphore before handing an update over. Updates that wait for their
# chat's turn hold a place there, so the bound is far above what one chat can queue before
# the rate limit answers it cheaply.
MAX_PENDING_UPDATES = 4096


class PerChatOrder(BaseUpdateProcessor):
    """Runs each chat's updates in arrival order, different chats concurrently."""

    def __init__(self, max_pending: int = MAX_PENDING_UPDATES) -> None:
        super().__init__(max_pending)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        # No await before the lock is asked for: tasks start in arrival order, so each
        # chat's waiters queue in that order (asyncio.Lock is first come, first served).
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._holders[chat.id] = self._holders.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._holders[chat.id] -= 1
            if not self._holders[chat.id]:
                del self._holders[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up: locks are made as chats write."""

    async def shutdown(self) -> None:
        """Nothing to free: a lock lives only while its chat has updates in flight."""
