"""Overdue reports: flagged by their deadline, escalated exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import append_audit
from storage.keyfile import Keyring
from storage.models import Report, User
from storage.outbox import enqueue

ESCALATION_BATCH = 100


async def escalate_overdue(
    *, session: AsyncSession, keyring: Keyring, now: datetime, limit: int = ESCALATION_BATCH
) -> int:
    """Marks unacknowledged reports past their deadline and pings the admins, once each
    report and with one message per call.

    At most `limit` reports per call (oldest deadline first): the caller commits and calls
    again, so a backlog never holds the write lock for long.
    """
    overdue = (
        await session.exec(
            select(Report.id, Report.municipality_code).where(
                col(Report.status) == "new", col(Report.due_at) <= now,
                col(Report.escalated_at).is_(None), col(Report.kind) != "priority",
            ).order_by(col(Report.due_at), col(Report.id)).limit(limit)
        )
    ).all()
    admins = (
        await session.exec(
            select(User.id).where(col(User.role) == "admin", col(User.disabled).is_(False))
        )
    ).all()
    escalated: list[str] = []
    for report_id, municipality in overdue:
        # The condition makes a concurrent escalator's update a no-op: once means once.
        result = await session.exec(
            update(Report)
            .where(col(Report.id) == report_id, col(Report.escalated_at).is_(None))
            .values(escalated_at=now)
        )
        if result.rowcount != 1:
            continue
        escalated.append(municipality)
        await append_audit(session=session, actor="system", action="report.escalated",
                           report_id=report_id, at=now)
    # One ping per admin for the whole batch, not one per report: a backlog of a hundred
    # overdue reports is one message to read, not a hundred.
    if escalated:
        for admin_id in admins:
            await enqueue(session=session, keyring=keyring, kind="overdue", now=now,
                          payload={"user_id": admin_id, "municipalities": escalated})
    return len(escalated)
