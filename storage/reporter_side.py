"""The reporter's side of a case: what they add with the receipt code from the follow-up menu
(a reply, evidence, a protection request, consent withdrawn), each encrypted under the
report's key, and the «respuesta nueva» mark and pings that tell whoever works the case.

The team's side (claim, reassign, statuses, notes, messages) is `storage.triage`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import envelope
from storage.attachments import File, attach_to_report
from storage.audit import AuditEvent, defer_audit_entries
from storage.keyfile import Keyring
from storage.models import Report, ReportEvent, ReportKey, floor_hour
from storage.outbox import enqueue
from storage.reports import RECEIPT_RECIPIENT, Opened
from storage.triage import MAX_TEXT, MSG_NOT_IN_QUEUE, TriageError, add_event, clean_text


async def open_for_reporter(
    *, session: AsyncSession, report: Report, receipt_private_key: bytes
) -> Opened:
    """The reporter's way in: the key pair derived from the receipt code unwraps the data key."""
    key = (
        await session.exec(
            select(ReportKey).where(
                col(ReportKey.report_id) == report.id,
                col(ReportKey.recipient_id) == RECEIPT_RECIPIENT,
            )
        )
    ).one()
    data_key = envelope.unwrap_data_key(
        report_id=report.id, recipient_id=RECEIPT_RECIPIENT, crypto_key=key.crypto_key,
        private_key=receipt_private_key,
    )
    return Opened(report, data_key)


async def reporter_replies(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, text: str, now: datetime
) -> ReportEvent:
    """The reporter's answer, read by the team on the case page; the case is marked."""
    hour = floor_hour(now)
    event = await add_event(session=session, opened=opened, kind="from_reporter",
                            actor="reporter", body={"text": clean_text(text)}, at=hour)
    await _mark_new_reply(session=session, keyring=keyring, opened=opened, now=now)
    defer_audit_entries(session=session, events=[AuditEvent(
        actor="reporter", action="report.reporter_replied", report_id=opened.report.id,
        at=hour)])
    return event


async def _ping_recipients(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, kind: str, now: datetime
) -> None:
    recipients = (
        await session.exec(
            select(ReportKey.recipient_id).where(col(ReportKey.report_id) == opened.report.id,
                                                 col(ReportKey.recipient_kind) == "user")
        )
    ).all()
    for user_id in recipients:
        await enqueue(session=session, keyring=keyring, kind=kind, now=now,
                      payload={"user_id": user_id,
                               "municipality": opened.report.municipality_code})


async def _mark_new_reply(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, now: datetime,
    ping: bool = True,
) -> None:
    """Marks the case «respuesta nueva» until someone working it opens it
    (`storage.reports.read_report`). Only the first of the reporter's messages since then
    pings: whoever works the case (or, before anyone took it, every focal point it reached)
    gets one content-free ping, not one per message."""
    # Locked, then read afresh: of two replies at once, exactly one finds the case unmarked.
    await session.refresh(opened.report, with_for_update=True)
    if opened.report.new_reply:
        return
    opened.report.new_reply = True
    session.add(opened.report)
    if not ping:
        return
    recipients = (
        await session.exec(
            select(ReportKey.recipient_id).where(col(ReportKey.report_id) == opened.report.id,
                                                 col(ReportKey.recipient_kind) == "user")
        )
    ).all()
    assignee = opened.report.assigned_to
    for user_id in recipients:
        if assignee in (None, user_id):
            # Nothing of the report in the payload: the ping says only "a case of yours".
            await enqueue(session=session, keyring=keyring, kind="reporter_reply", now=now,
                          payload={"user_id": user_id})


def _protection_body(request: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "needs": [str(need) for need in request.get("needs", [])][:10],
        "contact": str(request.get("contact") or ""),
        "text": str(request.get("details") or "")[:MAX_TEXT],
    }


async def request_protection(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, request: Mapping[str, Any],
    now: datetime,
) -> ReportEvent:
    """A leader's request for protection follow-up: needs and how they may be contacted."""
    hour = floor_hour(now)
    event = await add_event(session=session, opened=opened, kind="protection",
                            actor="reporter", body=_protection_body(request), at=hour)
    await _ping_recipients(session=session, keyring=keyring, opened=opened,
                           kind="protection_request", now=now)
    # Its own ping just went to every focal point of the case.
    await _mark_new_reply(session=session, keyring=keyring, opened=opened, now=now, ping=False)
    defer_audit_entries(session=session, events=[AuditEvent(
        actor="reporter", action="report.protection_requested", report_id=opened.report.id,
        at=hour)])
    return event


async def protection_request_report(
    *, session: AsyncSession, report_id: str, data_key: bytes, request: Mapping[str, Any],
    now: datetime,
) -> ReportEvent:
    """A request for protection made without an earlier report: it is the report just
    submitted in this transaction (whose recipients were already told of a new report),
    and its request is recorded as the case's protection event, where focal points read
    requests made from a case too."""
    report = await session.get(Report, report_id)
    if report is None:
        raise TriageError("not-found", MSG_NOT_IN_QUEUE)
    return await add_event(session=session, opened=Opened(report, data_key), kind="protection",
                           actor="reporter", body=_protection_body(request),
                           at=floor_hour(now))


async def revoke_contact(*, session: AsyncSession, opened: Opened, now: datetime) -> None:
    """The reporter withdraws consent to news pings: the sealed chat id is deleted."""
    opened.report.crypto_contact = None
    session.add(opened.report)
    defer_audit_entries(session=session, events=[AuditEvent(
        actor="reporter", action="report.contact_revoked", report_id=opened.report.id,
        at=floor_hour(now))])


async def add_reporter_evidence(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, files: Sequence[File],
    now: datetime,
) -> list[str]:
    """Files the reporter adds from the follow-up menu; the case is marked."""
    ids = await attach_to_report(session=session, report_id=opened.report.id,
                                 data_key=opened.data_key, files=files)
    await _mark_new_reply(session=session, keyring=keyring, opened=opened, now=now)
    defer_audit_entries(session=session, events=[AuditEvent(
        actor="reporter", action="report.evidence_added", report_id=opened.report.id,
        detail={"files": len(ids)}, at=floor_hour(now))])
    return ids
