"""Counts for the operator's metrics: how many, never which, where or who.

A report's stored time is its hour, so counts that a report moves (reports
submitted, notifications settled) only include whole past hours: a scrape must
not date a report more finely than the database does. The one count that moves
sooner, notifications still waiting, leaves out the first minute, in which a
working delivery loop has already sent them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, Report, floor_hour
from storage.outbox import MAX_ATTEMPTS, NO_CHAT
from storage.reports import overdue_condition

# A notification is sent within seconds by a working delivery loop (every 3 s).
DELIVERY_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class MonitoringCounts:
    # Reports by kind, submitted before the current hour.
    reports_by_kind: Mapping[str, int]
    # Cases still `new` past their deadline.
    overdue: int
    # Notifications neither sent nor given up, queued more than DELIVERY_GRACE ago.
    outbox_pending: int
    # Notifications queued before the current hour, by outcome: sent, no_chat, failed.
    outbox_settled: Mapping[str, int]


async def _reports_by_kind(session: AsyncSession, hour: datetime) -> dict[str, int]:
    # All reports by kind (an index-only count) less this hour's few rows, found by the
    # hour's index. A filter on the hour alone, or grouping this hour's rows in SQL, has
    # SQLite walk every report row, payload and all.
    every = await session.exec(select(Report.kind, func.count()).group_by(Report.kind))
    counts = {kind: int(total) for kind, total in every.all()}
    recent = await session.exec(select(Report.kind).where(col(Report.created_hour) >= hour))
    for kind in recent.all():
        counts[kind] -= 1
    return counts


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def count_for_monitoring(*, session: AsyncSession, now: datetime) -> MonitoringCounts:
    """Reads the counts in a few aggregate queries; nothing is decrypted."""
    hour = floor_hour(now)
    overdue = await session.exec(
        select(func.count()).select_from(Report)
        .where(overdue_condition(now), col(Report.kind) != "priority")
    )
    unsent = col(OutboxMessage.sent_at).is_(None)
    given_up = and_(unsent, col(OutboxMessage.attempts) >= MAX_ATTEMPTS)
    settled_before = col(OutboxMessage.created_at) < hour
    nobody = col(OutboxMessage.last_error) == NO_CHAT
    outbox = (
        await session.exec(
            select(
                _count(and_(unsent, col(OutboxMessage.attempts) < MAX_ATTEMPTS,
                            col(OutboxMessage.created_at) <= now - DELIVERY_GRACE)),
                _count(and_(~unsent, settled_before)),
                _count(and_(given_up, settled_before, nobody)),
                # NULL is never NO_CHAT, and `!=` would not count it.
                _count(and_(given_up, settled_before,
                            col(OutboxMessage.last_error).is_distinct_from(NO_CHAT))),
            )
        )
    ).one()
    pending, sent, no_chat, failed = (int(value) for value in outbox)
    return MonitoringCounts(
        reports_by_kind=await _reports_by_kind(session, hour),
        overdue=int(overdue.one()),
        outbox_pending=pending,
        outbox_settled={"sent": sent, "no_chat": no_chat, "failed": failed},
    )
