"""Per-chat bookkeeping, keyed by pseudonym: message ids to wipe, language, dedupe, rate limits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_insert, dialect_of, forget_loaded, run, upsert
from storage.keyfile import Keyring
from storage.models import (
    ChatPreference,
    ChatTrace,
    ProcessedUpdate,
    RateLimit,
    floor_hour,
    floor_minute,
)

# Telegram lets a bot delete messages up to 48 hours old (deleteMessage).
DELETE_WINDOW = timedelta(hours=48)
MAX_TRACKED = 2000


def _trace_expiry(now: datetime) -> datetime:
    """The trace outlives Telegram's delete window by up to an hour: the row keeps the hour,
    not the second, of the chat's last message (each id keeps its own time, sealed)."""
    return floor_hour(now) + DELETE_WINDOW + timedelta(hours=1)


def trace_aad(pseudonym: str) -> bytes:
    return b"somos/v1/chat-trace\x00" + pseudonym.encode()


_TRACES = ChatTrace.__table__  # type: ignore[attr-defined]
_TRACE = (select(_TRACES.c.crypto_messages)
          .where(_TRACES.c.pseudonym == bindparam("pseudonym")).with_for_update())


async def record_messages(
    *, session: AsyncSession, keyring: Keyring, pseudonym: str, message_ids: list[int],
    now: datetime,
) -> None:
    """Remembers message ids of the chat (sealed) so a later wipe can delete them."""
    if not message_ids:
        return
    sealed = (await run(session, _TRACE, {"pseudonym": pseudonym})).scalar()
    entries: list[list[int]] = []
    if sealed is not None:
        entries = json.loads(keyring.open(sealed, trace_aad(pseudonym)))
    cutoff = int((now - DELETE_WINDOW).timestamp())
    stamp = int(now.timestamp())
    entries = [e for e in entries if e[1] > cutoff] + [[m, stamp] for m in message_ids]
    statement = upsert(dialect_of(session), _TRACES, "pseudonym",
                       ("crypto_messages", "expires_at"))
    await run(session, statement, {
        "pseudonym": pseudonym, "expires_at": _trace_expiry(now),
        "crypto_messages": keyring.seal(json.dumps(entries[-MAX_TRACKED:]).encode(),
                                        trace_aad(pseudonym)),
    })
    forget_loaded(session, ChatTrace, pseudonym)


async def take_messages(
    *, session: AsyncSession, keyring: Keyring, pseudonym: str, now: datetime
) -> list[int]:
    """The deletable message ids of the chat, newest first; the trace is forgotten."""
    trace = await session.get(ChatTrace, pseudonym)
    if trace is None:
        return []
    entries: list[list[int]] = json.loads(
        keyring.open(trace.crypto_messages, trace_aad(pseudonym))
    )
    await session.delete(trace)
    await session.flush()
    cutoff = int((now - DELETE_WINDOW).timestamp())
    return sorted({m for m, stamp in entries if stamp > cutoff}, reverse=True)


_PREFERENCES = ChatPreference.__table__  # type: ignore[attr-defined]
# The statements of every update are built once (and once per dialect): building one costs
# ten times what running it does (bench/RESULTS.md).
_LOCALE = select(_PREFERENCES.c.locale).where(_PREFERENCES.c.pseudonym == bindparam("pseudonym"))


async def get_locale(*, session: AsyncSession, pseudonym: str) -> str | None:
    locale: str | None = (await run(session, _LOCALE, {"pseudonym": pseudonym})).scalar()
    return locale


async def set_locale(*, session: AsyncSession, pseudonym: str, locale: str) -> None:
    preference = await session.get(ChatPreference, pseudonym)
    if preference is None:
        session.add(ChatPreference(pseudonym=pseudonym, locale=locale))
    else:
        preference.locale = locale
        session.add(preference)
    await session.flush()


@cache
def _claim(dialect: str) -> Any:
    table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
    return (
        dialect_insert(dialect)(table)
        .values(update_id=bindparam("update_id", type_=table.c.update_id.type),
                seen_at=bindparam("seen_at", type_=table.c.seen_at.type))
        .on_conflict_do_nothing(index_elements=[table.c.update_id])
        .returning(table.c.update_id)
    )


async def claim_update(*, session: AsyncSession, update_id: int, now: datetime) -> bool:
    """True the first time an update id is seen; False for a redelivery (one statement:
    two deliveries at once cannot both claim it)."""
    statement = _claim(dialect_of(session))
    claimed = (await run(session, statement, {"update_id": update_id,
                                              "seen_at": floor_hour(now)})).first()
    return claimed is not None


@cache
def _count(dialect: str) -> Any:
    table = RateLimit.__table__  # type: ignore[attr-defined]
    start = bindparam("start", type_=table.c.window_start.type)
    amount = bindparam("amount", type_=table.c.count.type)
    expired = table.c.window_start <= bindparam("cutoff", type_=table.c.window_start.type)
    return (
        dialect_insert(dialect)(table)
        .values(key=bindparam("key", type_=table.c.key.type), window_start=start, count=amount)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, amount), else_=table.c.count + amount),
                "window_start": case((expired, start), else_=table.c.window_start),
            },
        )
        .returning(table.c.count, table.c.window_start)
    )


async def record_attempt(
    *, session: AsyncSession, key: str, window: timedelta, now: datetime, amount: int = 1
) -> tuple[int, datetime]:
    """Counts one attempt (or `amount`, e.g. kibibytes); returns this key's total in its
    current fixed window and when that window began (to the minute).

    One upsert: simultaneous attempts each count (a read-then-write would lose some, and
    two first attempts would collide on the key)."""
    statement = _count(dialect_of(session))
    row = (await run(session, statement, {"key": key, "start": floor_minute(now),
                                          "cutoff": now - window, "amount": amount})).one()
    return int(row[0]), row[1]


async def count_attempt(
    *, session: AsyncSession, key: str, window: timedelta, now: datetime, amount: int = 1
) -> int:
    """Counts one attempt (or `amount`) and returns this key's total in its current window."""
    count, _ = await record_attempt(session=session, key=key, window=window, now=now,
                                    amount=amount)
    return count


async def uncount_attempt(*, session: AsyncSession, key: str) -> None:
    """Takes back one attempt `record_attempt` counted (one update: race-safe as well)."""
    await session.exec(
        update(RateLimit).where(col(RateLimit.key) == key, col(RateLimit.count) > 0)
        .values(count=col(RateLimit.count) - 1)
        .execution_options(synchronize_session=False)
    )


async def forget_attempts(*, session: AsyncSession, key: str) -> None:
    await session.exec(delete(RateLimit).where(col(RateLimit.key) == key))


async def expire_chat_bookkeeping(*, session: AsyncSession, now: datetime) -> None:
    """Forgets traces past Telegram's delete window, old update ids and stale rate limits."""
    await session.exec(delete(ChatTrace).where(col(ChatTrace.expires_at) <= now))
    await session.exec(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.seen_at) <= now - timedelta(days=2))
    )
    await session.exec(
        delete(RateLimit).where(col(RateLimit.window_start) <= now - timedelta(days=1))
    )
