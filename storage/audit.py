"""The append-only, hash-chained audit log. Entries name actions and ids, never content."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgresql
from storage.models import AuditEntry, PendingAuditEntry, floor_hour, utcnow

GENESIS = "0" * 64
# Any constant works: it serializes appenders so the chain never forks.
_PG_AUDIT_LOCK = 0x50_4D_4F_53


def entry_digest(
    *, prev_hash: str, at: datetime, actor: str, action: str, report_id: str | None, detail: str
) -> str:
    """SHA-256 over the previous hash and this entry's canonical fields."""
    canonical = json.dumps(
        [prev_hash, at.isoformat(), actor, action, report_id, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class AuditEvent:
    """One entry to append: who did what, to which report, with codes and ids only."""

    actor: str
    action: str
    report_id: str | None = None
    detail: Mapping[str, Any] | None = None
    at: datetime | None = None


async def _chain_tail(session: AsyncSession) -> str:
    """The last entry's hash, holding the lock that keeps appenders from forking the chain."""
    if is_postgresql(session):
        await session.exec(select(func.pg_advisory_xact_lock(_PG_AUDIT_LOCK)))
    last = (
        await session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1))
    ).first()
    return last.entry_hash if last else GENESIS


def _chained(prev_hash: str, event: AuditEvent) -> dict[str, Any]:
    when = (event.at or utcnow()).replace(microsecond=0)
    detail_json = _detail_json(event.detail)
    return {
        "at": when, "actor": event.actor, "action": event.action, "report_id": event.report_id,
        "detail": detail_json, "prev_hash": prev_hash,
        "entry_hash": entry_digest(
            prev_hash=prev_hash, at=when, actor=event.actor, action=event.action,
            report_id=event.report_id, detail=detail_json,
        ),
    }


async def append_audit(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    report_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Adds one entry chained to the last one, inside the caller's transaction."""
    event = AuditEvent(actor=actor, action=action, report_id=report_id, detail=detail, at=at)
    entry = AuditEntry(**_chained(await _chain_tail(session), event))
    session.add(entry)
    await session.flush()
    return entry


async def append_audit_entries(*, session: AsyncSession, events: Sequence[AuditEvent]) -> None:
    """Adds entries chained in the given order: one read of the tail, one multi-row insert."""
    if not events:
        return
    prev_hash = await _chain_tail(session)
    rows = []
    for event in events:
        row = _chained(prev_hash, event)
        rows.append(row)
        prev_hash = row["entry_hash"]
    # Executed row by row in list order, so `seq` grows in chain order on both databases.
    await session.exec(insert(AuditEntry.__table__), params=rows)  # type: ignore[attr-defined]


def _detail_json(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"))


def defer_audit_entries(*, session: AsyncSession, events: Sequence[AuditEvent]) -> None:
    """Holds a reporter's actions, stamped with their hour, until the hour is over.

    A report's own transaction calls this; `flush_pending_audit` appends them to the chain
    later, so their place in the chain says no more than their hour does.
    """
    for event in events:
        if event.at is None or event.at != floor_hour(event.at):
            raise ValueError("a reporter's audit entry is stamped with its hour")
        session.add(PendingAuditEntry(at=event.at, actor=event.actor, action=event.action,
                                      report_id=event.report_id,
                                      detail=_detail_json(event.detail)))


async def flush_pending_audit(*, session: AsyncSession, now: datetime) -> int:
    """Appends the held entries of hours already over, ordered by hour, action and report id
    (random ids: nothing of the arrival order), and forgets them. Returns how many."""
    query = (select(PendingAuditEntry)
             .where(col(PendingAuditEntry.at) < floor_hour(now))
             .order_by(col(PendingAuditEntry.at), col(PendingAuditEntry.action),
                       col(PendingAuditEntry.report_id), col(PendingAuditEntry.id)))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    held = list((await session.exec(query)).all())
    if not held:
        return 0
    await append_audit_entries(session=session, events=[
        AuditEvent(actor=e.actor, action=e.action, report_id=e.report_id,
                   detail=json.loads(e.detail), at=e.at) for e in held
    ])
    await session.exec(delete(PendingAuditEntry).where(
        col(PendingAuditEntry.id).in_([e.id for e in held])))
    return len(held)


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify_audit_chain(*, session: AsyncSession) -> ChainCheck:
    """Recomputes every hash in order; names the first entry that does not match."""
    prev_hash = GENESIS
    count = 0
    result = await session.stream_scalars(select(AuditEntry).order_by(col(AuditEntry.seq)))
    async for entry in result:
        count += 1
        if entry.prev_hash != prev_hash:
            return ChainCheck(count, entry.seq, "prev_hash does not match the previous entry")
        expected = entry_digest(
            prev_hash=entry.prev_hash, at=entry.at, actor=entry.actor, action=entry.action,
            report_id=entry.report_id, detail=entry.detail,
        )
        if expected != entry.entry_hash:
            return ChainCheck(count, entry.seq, "entry_hash does not match its contents")
        prev_hash = entry.entry_hash
    return ChainCheck(count)


async def audit_page(
    *, session: AsyncSession, before: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """Newest first; `before` is the seq of the last entry of the previous page (a keyset)."""
    query = select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(limit)
    if before is not None:
        query = query.where(col(AuditEntry.seq) < before)
    return list((await session.exec(query)).all())
