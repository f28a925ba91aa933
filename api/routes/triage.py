"""Triage actions on a report: claim, status, notes, messages to the reporter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StoreDep, TriageSession
from api.params import STORABLE, ReportId
from api.problems import Problem, problem_responses
from api.routes.reports import NOT_FOUND
from flows.messages import N_
from storage.reports import Opened, open_for_user
from storage.sessions import OpenSession
from storage.triage import (
    CLOSING_REASONS,
    REFERRAL_ENTITIES,
    TriageError,
    add_note,
    change_status,
    claim_report,
    message_reporter,
    share_report,
)
from storage.users import get_user_by_username

router = APIRouter(prefix="/api/v1/reports", tags=["triage"])
# 409: someone else took the case, or the status cannot move that way from where it is.
REFUSALS = problem_responses(401, 403, 404, 409, 422)
# 400: a body that is not JSON text (not UTF-8) cannot even be parsed.
REFUSALS_WITH_BODY = problem_responses(400, 401, 403, 404, 409, 422)


class StatusChange(BaseModel):
    status: Literal["in_review", "referred", "follow_up", "closed"]
    # Allowed values live once, in storage.triage, which validates them (422 with the list).
    entity: str | None = Field(
        default=None, max_length=32,
        description="Entidad a la que se remite: " + ", ".join(REFERRAL_ENTITIES) + ".")
    reference: str | None = Field(default=None, max_length=120,
                                  description="Número de radicado o referencia de la entidad.")
    reason: str | None = Field(
        default=None, max_length=32,
        description="Motivo de cierre: " + ", ".join(CLOSING_REASONS) + ".")


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class ShareIn(BaseModel):
    username: str = Field(pattern=STORABLE,
                          description="Punto focal que también podrá leer el reporte.")


class Shared(BaseModel):
    id: str
    shared_with: str
    new: bool


class Done(BaseModel):
    id: str
    status: str
    assigned_to: str | None = None


class EventOut(BaseModel):
    id: str
    seq: int


async def _opened(session: AsyncSession, current: OpenSession, report_id: str) -> Opened:
    opened = await open_for_user(session=session, user_id=current.user.id,
                                 private_key=current.private_key, report_id=report_id)
    if opened is None or opened.report.kind == "priority":
        # Community-priority answers are read, never worked as cases.
        raise Problem(404, NOT_FOUND)
    return opened


def _require_assignee(current: OpenSession, opened: Opened) -> None:
    assignee = opened.report.assigned_to
    if assignee not in (None, current.user.id) and current.user.role != "admin":
        raise Problem(409, N_("Este reporte lo atiende otra persona del equipo."),
                      code="assigned-to-other")


def _conflict(error: TriageError) -> Problem:
    status = 409 if error.code in ("already-claimed", "bad-transition") else 422
    return Problem(status, str(error), code=error.code)


@router.post("/{report_id}/claim", responses=REFUSALS)
async def claim(report_id: ReportId, current: TriageSession, session: SessionDep) -> Done:
    """Takes an unclaimed report; if someone else already took it, answers 409."""
    await _opened(session, current, report_id)
    try:
        report = await claim_report(session=session, report_id=report_id,
                                    user_id=current.user.id, now=datetime.now(UTC))
    except TriageError as error:
        raise _conflict(error) from None
    return Done(id=report.id, status=report.status, assigned_to=report.assigned_to)


@router.post("/{report_id}/status", responses=REFUSALS_WITH_BODY)
async def status(report_id: ReportId, change: StatusChange, current: TriageSession,
                 session: SessionDep) -> Done:
    """Moves the report along; referral needs entity and reference, closing a reason."""
    opened = await _opened(session, current, report_id)
    _require_assignee(current, opened)
    try:
        report = await change_status(
            session=session, opened=opened, user_id=current.user.id, status=change.status,
            entity=change.entity, reference=change.reference, reason=change.reason,
            now=datetime.now(UTC),
        )
    except TriageError as error:
        raise _conflict(error) from None
    return Done(id=report.id, status=report.status, assigned_to=report.assigned_to)


@router.post("/{report_id}/notes", status_code=201, responses=REFUSALS_WITH_BODY)
async def note(report_id: ReportId, body: TextIn, current: TriageSession,
               session: SessionDep) -> EventOut:
    """An internal note, encrypted like the report."""
    opened = await _opened(session, current, report_id)
    try:
        event = await add_note(session=session, opened=opened, user_id=current.user.id,
                               text=body.text, now=datetime.now(UTC))
    except TriageError as error:
        raise _conflict(error) from None
    return EventOut(id=event.id, seq=event.seq)


@router.post("/{report_id}/messages", status_code=201, responses=REFUSALS_WITH_BODY)
async def message(report_id: ReportId, body: TextIn, current: TriageSession,
                  session: SessionDep, store: StoreDep) -> EventOut:
    """A message the reporter reads in Telegram with the receipt code."""
    opened = await _opened(session, current, report_id)
    _require_assignee(current, opened)
    try:
        event = await message_reporter(session=session, keyring=store.keyring, opened=opened,
                                       user_id=current.user.id, text=body.text,
                                       now=datetime.now(UTC))
    except TriageError as error:
        raise _conflict(error) from None
    return EventOut(id=event.id, seq=event.seq)


@router.post("/{report_id}/share", responses=REFUSALS_WITH_BODY)
async def share(report_id: ReportId, body: ShareIn, current: TriageSession, session: SessionDep,
                store: StoreDep) -> Shared:
    """Lets another focal point read the report: its key is wrapped for them from this session."""
    opened = await _opened(session, current, report_id)
    recipient = await get_user_by_username(session=session, username=body.username)
    if recipient is None:
        raise Problem(422, f"No existe el usuario {body.username!r}.", code="bad-recipient")
    try:
        new = await share_report(session=session, keyring=store.keyring, opened=opened,
                                 user_id=current.user.id, recipient=recipient,
                                 now=datetime.now(UTC))
    except TriageError as error:
        raise _conflict(error) from None
    return Shared(id=report_id, shared_with=recipient.id, new=new)
