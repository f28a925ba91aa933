"""The caller's queue (clear metadata only) and the decrypted, audited report detail."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import SessionDep, TriageSession
from api.labels import label_of, municipality_name
from api.params import STORABLE, AttachmentId, ReportId, is_id
from api.problems import Problem, problem_responses
from storage.models import Report
from storage.reports import (
    Opened,
    QueueFilter,
    list_queue,
    read_report,
    read_report_attachment,
)
from storage.triage import MSG_NOT_IN_QUEUE, list_events

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
# What bot.evidence stores: images and PDFs rewritten without metadata, audio as received.
EVIDENCE_MEDIA_TYPES = ("image/*", "application/pdf", "audio/*", "application/octet-stream")


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


def _item(report: Report, now: datetime) -> dict[str, Any]:
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
    }


def encode_cursor(report: Report) -> str:
    raw = json.dumps([report.urgency_rank, report.created_hour.isoformat(), report.id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str, str]:
    try:
        rank, hour, report_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if datetime.fromisoformat(hour).tzinfo is None:
            raise ValueError("cursor time without a zone")
        if not is_id(report_id):
            raise ValueError("cursor without a report id")
        return int(rank), str(hour), str(report_id)
    except (ValueError, TypeError, binascii.Error) as error:
        raise Problem(400, "El cursor de paginación no es válido.", code="bad-cursor") from error


@router.get("", responses=problem_responses(400, 401, 403, 422))
async def queue(
    current: TriageSession,
    session: SessionDep,
    status: Annotated[str | None, Query(pattern=STORABLE)] = None,
    urgency: Annotated[str | None, Query(pattern=STORABLE)] = None,
    kind: Annotated[str | None, Query(pattern=STORABLE)] = None,
    municipality: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReportPage:
    """The reports routed to the caller: most urgent first, then oldest."""
    now = datetime.now(UTC)
    filters = QueueFilter(
        status=status, urgency=urgency, kind=kind, municipality=municipality, limit=limit,
        after=decode_cursor(cursor) if cursor else None, overdue=overdue, now=now,
    )
    rows = await list_queue(session=session, user_id=current.user.id, filters=filters)
    items = [_item(report, now) for report in rows]
    next_cursor = encode_cursor(rows[-1]) if len(rows) == limit else None
    return ReportPage(items=[ReportItem(**item) for item in items], next_cursor=next_cursor)


@router.get("/{report_id}", responses=problem_responses(401, 403, 404, 422))
async def detail(report_id: ReportId, current: TriageSession,
                 session: SessionDep) -> ReportDetailOut:
    """One report, decrypted with the caller's key. Every read is audited."""
    found = await read_report(
        session=session, user_id=current.user.id, private_key=current.private_key,
        report_id=report_id,
    )
    if found is None:
        raise Problem(404, MSG_NOT_IN_QUEUE)
    opened = Opened(found.report, found.data_key)
    events = [_event(e) for e in await list_events(session=session, opened=opened)]
    answers = dict(found.content.get("answers", {}))
    labels = {key: label_of(value) for key, value in answers.items() if isinstance(value, str)
              and key not in ("description", "locale")}
    return ReportDetailOut(
        **_item(found.report, datetime.now(UTC)),
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
        history=[e for e in events if e.kind == "status"],
    )


def _event(raw: dict[str, Any]) -> EventItem:
    fixed = {"id", "seq", "kind", "actor", "at", "text"}
    return EventItem(
        id=raw["id"], seq=raw["seq"], kind=raw["kind"], actor=raw["actor"], at=raw["at"],
        text=raw.get("text"), details={k: v for k, v in raw.items() if k not in fixed},
    )


@router.get(
    "/{report_id}/attachments/{attachment_id}", response_class=Response,
    responses={200: {"description": "El archivo, con el tipo con que se guardó.",
                     "content": {media_type: {"schema": {"type": "string", "format": "binary"}}
                                 for media_type in EVIDENCE_MEDIA_TYPES}},
               **problem_responses(401, 403, 404, 422)},
)
async def attachment(
    report_id: ReportId, attachment_id: AttachmentId, current: TriageSession, session: SessionDep
) -> Response:
    """One evidence file (metadata already stripped), decrypted for the caller. Audited."""
    file = await read_report_attachment(
        session=session, user_id=current.user.id, private_key=current.private_key,
        report_id=report_id, attachment_id=attachment_id,
    )
    if file is None:
        raise Problem(404, "No existe ese archivo en un reporte de su bandeja.")
    return Response(
        content=file.data, media_type=str(file.meta.get("mime", "application/octet-stream")),
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                 "Content-Disposition": "attachment"},
    )
