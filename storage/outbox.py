"""The transactional outbox: notifications written with their cause, delivered by a worker.

Payloads are sealed with the server key and name a user or a report, never a
chat id in clear; the worker resolves the sealed chat at delivery time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgresql
from storage.keyfile import Keyring
from storage.models import OutboxMessage, floor_hour, new_id

MAX_ATTEMPTS = 8
KINDS = ("new_report", "immediate_alert", "overdue", "reporter_news", "protection_request",
         "reporter_reply", "case_assigned", "early_warning")
# The error of a message given up because nobody can receive it (no linked chat, the
# reporter withdrew, the account is disabled): a fact about the recipient, not a fault.
NO_CHAT = "no linked chat"


def outbox_aad(message_id: str) -> bytes:
    return b"somos/v1/outbox\x00" + message_id.encode()


@dataclass(frozen=True)
class Pending:
    row: OutboxMessage
    payload: Mapping[str, Any]


async def enqueue(
    *, session: AsyncSession, keyring: Keyring, kind: str, payload: Mapping[str, Any],
    now: datetime,
) -> OutboxMessage:
    """Writes one notification in the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    message_id = new_id()
    row = OutboxMessage(
        id=message_id, kind=kind, created_at=now, next_attempt_at=now,
        crypto_payload=keyring.seal(json.dumps(dict(payload)).encode(), outbox_aad(message_id)),
    )
    session.add(row)
    await session.flush()
    return row


async def due_messages(
    *, session: AsyncSession, keyring: Keyring, now: datetime, limit: int = 20
) -> Sequence[Pending]:
    """Messages to send now; on PostgreSQL other workers skip the rows this one holds."""
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.sent_at).is_(None),
               col(OutboxMessage.next_attempt_at) <= now,
               col(OutboxMessage.attempts) < MAX_ATTEMPTS,
               col(OutboxMessage.crypto_payload).is_not(None))
        .order_by(col(OutboxMessage.next_attempt_at))
        .limit(limit)
    )
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    rows = (await session.exec(query)).all()
    return [Pending(row, json.loads(keyring.open(row.crypto_payload, outbox_aad(row.id))))
            for row in rows if row.crypto_payload is not None]


def _settle(row: OutboxMessage, now: datetime) -> None:
    """A settled notification keeps only hours: its exact times would date the report that
    caused it to the second, finer than the report's own `created_hour`. Its payload (a
    reporter's chat, a staff member's id) is forgotten: it was needed only to send it."""
    row.crypto_payload = None
    row.created_at = floor_hour(row.created_at)
    row.next_attempt_at = floor_hour(now)
    if row.sent_at is not None:
        row.sent_at = floor_hour(row.sent_at)


def mark_sent(*, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
    row.sent_at = now
    row.last_error = None
    _settle(row, now)
    session.add(row)


def mark_failed(
    *, session: AsyncSession, row: OutboxMessage, now: datetime, error: str,
    retry: bool = True,
) -> None:
    """Schedules a retry with exponential backoff (30 s, 1 min, 2 min… up to an hour)."""
    row.attempts = row.attempts + 1 if retry else MAX_ATTEMPTS
    row.last_error = error[:255]
    row.next_attempt_at = now + min(timedelta(seconds=30 * 2 ** (row.attempts - 1)),
                                    timedelta(hours=1))
    if row.attempts >= MAX_ATTEMPTS:  # given up: settled too
        _settle(row, now)
    session.add(row)


async def pending_of_kind(*, session: AsyncSession, kind: str) -> Sequence[OutboxMessage]:
    query = select(OutboxMessage).where(col(OutboxMessage.kind) == kind,
                                        col(OutboxMessage.sent_at).is_(None))
    return (await session.exec(query)).all()
