"""Background work of the server: draft expiry, overdue escalation, the reporters' audit
entries of past hours, early warnings, notification delivery, memory freed after a burst
given back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from api.memory import trim
from bot.notifier import deliver_due
from storage.alerts import raise_alerts
from storage.attachments import expire_draft_attachments
from storage.audit import flush_pending_audit
from storage.chats import expire_chat_bookkeeping
from storage.db import checkpoint_wal
from storage.drafts import expire_drafts
from storage.early_warning import Rule
from storage.epochs import end_epochs, open_epoch
from storage.escalation import ESCALATION_BATCH, escalate_overdue
from storage.store import Store

log = logging.getLogger("somos")

EXPIRY_INTERVAL = 60.0
ESCALATION_INTERVAL = 60.0
DELIVERY_INTERVAL = 3.0
TRIM_INTERVAL = 15.0
BATCH_PAUSE = 0.1


async def every(
    seconds: float, name: str, work: Callable[[], Awaitable[object]],
    succeeded: Callable[[str], None] = lambda _name: None,
) -> None:
    """Runs `work` forever; a failure is logged by type only and retried on the next tick."""
    while True:
        try:
            await work()
        except Exception as error:
            log.warning("%s failed: %s", name, type(error).__name__)
        else:
            succeeded(name)
        await asyncio.sleep(seconds)


async def expire(store: Store, now: datetime | None = None) -> None:
    """Forgets expired drafts and their files, stale chat traces and old update ids;
    begins the day's chat epoch and destroys those past their window, with their rows."""
    now = now or datetime.now(UTC)
    async with store.transaction() as session:
        expired = await expire_drafts(session=session, keyring=store.keyring, now=now)
        await expire_draft_attachments(session=session, now=now)
        await expire_chat_bookkeeping(session=session, now=now)
        await open_epoch(session=session, keyring=store.keyring, now=now)
        ended = await end_epochs(session=session, now=now)
    if ended:
        await checkpoint_wal(store.engine)
        log.info("destroyed %d chat epochs", len(ended))
    if expired:
        log.info("forgot %d expired drafts", expired)


async def flush_audit(store: Store) -> None:
    """Chains the reporters' audit entries of hours already over (`audit_pending`)."""
    async with store.transaction() as session:
        await flush_pending_audit(session=session, now=datetime.now(UTC))


async def escalate(store: Store, now: datetime | None = None) -> None:
    """Escalates the whole backlog, one short transaction per batch (requests get in
    between: a backlog of thousands after an outage must not stall sign-ins or reports)."""
    now = now or datetime.now(UTC)
    total = 0
    while True:
        async with store.transaction() as session:
            escalated = await escalate_overdue(session=session, keyring=store.keyring, now=now)
        total += escalated
        if escalated < ESCALATION_BATCH:
            break
        # A pause with the write lock free, so waiting requests take it (SQLite's busy
        # handler retries every few milliseconds; back-to-back batches would starve them).
        await asyncio.sleep(BATCH_PAUSE)
    if total:
        log.info("escalated %d overdue reports", total)


async def _trim() -> None:
    trim()


async def warn(store: Store, rule: Rule, now: datetime | None = None) -> int:
    """Raises the early warnings of the latest window (`storage.alerts.raise_alerts`)."""
    async with store.transaction() as session:
        raised = await raise_alerts(session=session, keyring=store.keyring,
                                    now=now or datetime.now(UTC), rule=rule)
    if raised:
        log.info("raised %d early warnings", len(raised))
    return len(raised)


def start_background(
    store: Store, bot: Any | None, succeeded: Callable[[str], None] = lambda _name: None,
    alerts: tuple[Rule, float] | None = None,
) -> list[asyncio.Task[None]]:
    """Starts the loops; `succeeded(name)` hears of each finished run (for the metrics).
    `alerts`: the early-warning rule and the seconds between its runs."""
    tasks = [
        asyncio.create_task(every(EXPIRY_INTERVAL, "expiry", lambda: expire(store), succeeded)),
        asyncio.create_task(every(ESCALATION_INTERVAL, "escalation", lambda: escalate(store),
                                  succeeded)),
        asyncio.create_task(every(ESCALATION_INTERVAL, "audit", lambda: flush_audit(store),
                                  succeeded)),
        asyncio.create_task(every(TRIM_INTERVAL, "memory", _trim, succeeded)),
    ]
    if alerts is not None:
        rule, interval = alerts
        tasks.append(asyncio.create_task(every(interval, "alerts", lambda: warn(store, rule),
                                               succeeded)))
    if bot is not None:
        tasks.append(asyncio.create_task(every(
            DELIVERY_INTERVAL, "delivery",
            lambda: deliver_due(store=store, bot=bot, now=datetime.now(UTC)), succeeded,
        )))
    return tasks
