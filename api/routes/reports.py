"""The caller's queue (clear metadata only) and the decrypted, audited report detail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep, TriageSession
from api.params import MUNICIPALITY_CODE, STORABLE, AttachmentId, ReportId
from api.problems import Problem, problem_responses
from api.reports_view import (
    MSG_NO_FILE,
    BadCursor,
    ReportDetailOut,
    ReportPage,
    evidence_response,
    queue_page,
    report_detail,
)
from storage.reports import read_report_attachment
from storage.triage import MSG_NOT_IN_QUEUE

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
# What bot.evidence stores: pictures re-encoded from their pixels, PDFs made of pictures of
# their pages, audio rebuilt with only its sound (WAV, Ogg, MP3).
EVIDENCE_MEDIA_TYPES = ("image/*", "application/pdf", "audio/*", "application/octet-stream")


@router.get("", responses=problem_responses(400, 401, 403, 422))
async def queue(
    current: TriageSession,
    session: SessionDep,
    status: Annotated[str | None, Query(pattern=STORABLE)] = None,
    urgency: Annotated[str | None, Query(pattern=STORABLE)] = None,
    kind: Annotated[str | None, Query(pattern=STORABLE)] = None,
    municipality: Annotated[str | None, Query(pattern=MUNICIPALITY_CODE)] = None,
    overdue: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReportPage:
    """The reports routed to the caller: those with a new reply from the reporter first
    (`new_reply`), then most urgent, then oldest."""
    try:
        return await queue_page(
            session=session, user_id=current.user.id, now=datetime.now(UTC), status=status,
            urgency=urgency, kind=kind, municipality=municipality, overdue=overdue,
            cursor=cursor, limit=limit,
        )
    except BadCursor as error:
        raise Problem(400, str(error), code="bad-cursor") from None


@router.get("/{report_id}", responses=problem_responses(401, 403, 404, 422))
async def detail(report_id: ReportId, current: TriageSession,
                 session: SessionDep) -> ReportDetailOut:
    """One report, decrypted with the caller's key. Every read is audited."""
    found = await report_detail(session=session, user_id=current.user.id,
                                private_key=current.private_key, report_id=report_id,
                                now=datetime.now(UTC))
    if found is None:
        raise Problem(404, MSG_NOT_IN_QUEUE)
    return found


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
        raise Problem(404, MSG_NO_FILE)
    return evidence_response(file)
