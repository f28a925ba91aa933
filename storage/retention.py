"""Retention: report contents are deleted after a while; counts (rollups) stay.

Only closed cases and community-priority answers are purged: an open case is
still being worked, whatever its age.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import append_audit
from storage.models import Attachment, Report, ReportEvent, ReportKey


async def purge_closed_contents(
    *, session: AsyncSession, older_than: datetime, now: datetime
) -> int:
    """Deletes payloads, evidence, events, wrapped keys and contact handles; returns the count."""
    reports = (
        await session.exec(
            select(Report.id).where(
                col(Report.created_hour) < older_than,
                col(Report.payload_purged_at).is_(None),
                or_(col(Report.status) == "closed", col(Report.kind) == "priority"),
            )
        )
    ).all()
    for report_id in reports:
        await session.exec(delete(Attachment).where(col(Attachment.report_id) == report_id))
        await session.exec(delete(ReportEvent).where(col(ReportEvent.report_id) == report_id))
        await session.exec(delete(ReportKey).where(col(ReportKey.report_id) == report_id))
        report = await session.get(Report, report_id)
        if report is None:
            continue
        report.crypto_payload = None
        report.crypto_contact = None
        report.receipt_lookup = None
        report.crypto_receipt_verifier = None
        report.payload_purged_at = now
        session.add(report)
        await append_audit(session=session, actor="system", action="report.purged",
                           report_id=report_id, at=now)
    await session.flush()
    return len(reports)
