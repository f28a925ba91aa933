"""Reports as the API and the focal point's pages show them: queue items and their cursor,
the detail with its events, an evidence file as a download. Storage decides what the
caller may read (and audits it); this module only shapes it."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from fastapi import Response
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.labels import label_of, municipality_name
from api.params import is_id
from storage.attachments import File
from storage.models import Report
from storage.reports import Opened, QueueFilter, list_queue, read_report
from storage.triage import HISTORY_KINDS, list_events

MSG_BAD_CURSOR = "El cursor de paginación no es válido."
MSG_NO_FILE = "No existe ese archivo en un reporte de su bandeja."


class BadCursor(ValueError):
    """A queue cursor this server did not make."""


class ReportItem(BaseModel):
    id: str
    kind: str
    category: str
    category_label: str
    department_code: str
    municipality_code: str
    municipality: str
    urgency: str
    status: str
    created_hour: datetime
    due_at: datetime
    overdue: bool
    new_reply: bool = Field(description=(
        "«Respuesta nueva»: the reporter replied, added evidence or asked for protection "
        "since the case was last opened by whoever works it (anyone it reached, while "
        "nobody has taken it). Such cases come first in the queue. Reading the case "
        "(`GET /api/v1/reports/{id}` or its page) by that person clears it."))
    # Referred without the entity's filing number yet (add it with POST …/reference).
    reference_pending: bool


class ReportPage(BaseModel):
    items: list[ReportItem]
    next_cursor: str | None


class AttachmentOut(BaseModel):
    id: str
    kind: str
    mime: str
    size: int


class EventItem(BaseModel):
    id: str
    seq: int
    kind: str
    actor: str
    at: datetime
    text: str | None = None
    details: dict[str, Any] = {}


class ReportDetailOut(ReportItem):
    submitted_at: str | None
    assigned_to: str | None
    referred_to: str | None
    closing_reason: str | None
    answers: dict[str, Any]
    answer_labels: dict[str, str]
    attachments: list[AttachmentOut]
    notes: list[EventItem]
    messages: list[EventItem]
    protection_requests: list[EventItem]
    history: list[EventItem]


def item_of(report: Report, now: datetime) -> dict[str, Any]:
    return {
        "id": report.id,
        "kind": report.kind,
        "category": report.category,
        "category_label": label_of(report.category),
        "department_code": report.department_code,
        "municipality_code": report.municipality_code,
        "municipality": municipality_name(report.municipality_code),
        "urgency": report.urgency,
        "status": report.status,
        "created_hour": report.created_hour,
        "due_at": report.due_at,
        "overdue": report.status == "new" and report.due_at <= now,
        "new_reply": report.new_reply,
        "reference_pending": report.reference_pending,
    }


def encode_cursor(report: Report) -> str:
    raw = json.dumps([report.new_reply, report.urgency_rank, report.created_hour.isoformat(),
                      report.id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[bool, int, str, str]:
    """The queue position `encode_cursor` wrote; BadCursor for anything else."""
    try:
        marked, rank, hour, report_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(marked, bool):
            raise ValueError("cursor without the new-reply mark")
        if datetime.fromisoformat(hour).tzinfo is None:
            raise ValueError("cursor time without a zone")
        if not is_id(report_id):
            raise ValueError("cursor without a report id")
        return marked, int(rank), str(hour), str(report_id)
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadCursor(MSG_BAD_CURSOR) from error


async def queue_page(
    *, session: AsyncSession, user_id: str, now: datetime, status: str | None = None,
    urgency: str | None = None, kind: str | None = None, municipality: str | None = None,
    overdue: bool | None = None, cursor: str | None = None, limit: int = 50,
) -> ReportPage:
    """One page of the reports routed to the user: new replies first, then most urgent,
    then oldest."""
    filters = QueueFilter(
        status=status, urgency=urgency, kind=kind, municipality=municipality, limit=limit,
        after=decode_cursor(cursor) if cursor else None, overdue=overdue, now=now,
    )
    rows = await list_queue(session=session, user_id=user_id, filters=filters)
    next_cursor = encode_cursor(rows[-1]) if len(rows) == limit else None
    return ReportPage(items=[ReportItem(**item_of(report, now)) for report in rows],
                      next_cursor=next_cursor)


def _event(raw: dict[str, Any]) -> EventItem:
    fixed = {"id", "seq", "kind", "actor", "at", "text"}
    return EventItem(
        id=raw["id"], seq=raw["seq"], kind=raw["kind"], actor=raw["actor"], at=raw["at"],
        text=raw.get("text"), details={k: v for k, v in raw.items() if k not in fixed},
    )


async def report_detail(
    *, session: AsyncSession, user_id: str, private_key: bytes, report_id: str, now: datetime,
) -> ReportDetailOut | None:
    """One report decrypted with the user's key, with its notes, messages, protection
    requests and history; None when it is not in their queue. The read is audited."""
    found = await read_report(session=session, user_id=user_id, private_key=private_key,
                              report_id=report_id)
    if found is None:
        return None
    opened = Opened(found.report, found.data_key)
    events = [_event(e) for e in await list_events(session=session, opened=opened)]
    answers = dict(found.content.get("answers", {}))
    labels = {key: label_of(value) for key, value in answers.items() if isinstance(value, str)
              and key not in ("description", "locale")}
    return ReportDetailOut(
        **item_of(found.report, now),
        submitted_at=found.content.get("submitted_at"),
        answers=answers,
        answer_labels=labels,
        attachments=[AttachmentOut(**item) for item in found.attachments],
        assigned_to=found.report.assigned_to,
        referred_to=found.report.referred_to,
        closing_reason=found.report.closing_reason,
        notes=[e for e in events if e.kind == "note"],
        messages=[e for e in events if e.kind in ("to_reporter", "from_reporter")],
        protection_requests=[e for e in events if e.kind == "protection"],
        history=[e for e in events if e.kind in HISTORY_KINDS],
    )


def evidence_response(file: File) -> Response:
    """An evidence file (metadata already stripped) as a download nobody caches or sniffs."""
    return Response(
        content=file.data, media_type=str(file.meta.get("mime", "application/octet-stream")),
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                 "Content-Disposition": "attachment"},
    )
