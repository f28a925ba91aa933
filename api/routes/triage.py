"""Triage actions on a report: claim, reassign, status, notes, messages to the reporter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import SessionDep, StoreDep, TriageSession
from api.params import STORABLE, ReportId
from api.problems import Problem, problem_responses, triage_problem
from storage.reports import Opened
from storage.sessions import OpenSession
from storage.triage import (
    CLOSING_REASONS,
    MAX_REFERENCE,
    MAX_TEXT,
    REFERRAL_ENTITIES,
    TriageError,
    add_note,
    add_reference,
    change_status,
    claim_report,
    message_reporter,
    open_case,
    reassign_choices,
    reassign_report,
    require_assignee,
    share_report,
)

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
    reference: str | None = Field(
        default=None, max_length=MAX_REFERENCE,
        description="Número de radicado o referencia de la entidad; si todavía no lo tiene, "
                    "el caso queda con el radicado pendiente (`reference_pending`) hasta que "
                    "lo agregue con `POST /api/v1/reports/{id}/reference`.")
    reason: str | None = Field(
        default=None, max_length=32,
        description="Motivo de cierre: " + ", ".join(CLOSING_REASONS) + ".")


class ReferenceIn(BaseModel):
    reference: str = Field(min_length=1, max_length=MAX_REFERENCE,
                           description="Número de radicado o referencia que dio la entidad.")


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class ShareIn(BaseModel):
    username: str = Field(pattern=STORABLE,
                          description="Punto focal que también podrá leer el reporte.")


class AssigneeIn(BaseModel):
    username: str = Field(
        pattern=STORABLE, max_length=64,
        description="Quien atenderá el caso desde ahora: un punto focal activo que atienda "
                    "su lugar (un área o una regla de enrutamiento) o que ya lo lea, o un "
                    "administrador activo; nunca un analista, una cuenta desactivada ni quien "
                    "ya lo atiende.")


class Candidate(BaseModel):
    id: str
    username: str
    role: Literal["focal_point", "admin"]


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
    try:
        return await open_case(session=session, user=current.user,
                               private_key=current.private_key, report_id=report_id)
    except TriageError as error:
        raise _problem(error) from None


def _problem(error: TriageError) -> Problem:
    return triage_problem(error.code, str(error))


@router.post("/{report_id}/claim", responses=REFUSALS)
async def claim(report_id: ReportId, current: TriageSession, session: SessionDep) -> Done:
    """Takes an unclaimed report; if someone else already took it, answers 409."""
    opened = await _opened(session, current, report_id)
    try:
        report = await claim_report(session=session, opened=opened,
                                    user_id=current.user.id, now=datetime.now(UTC))
    except TriageError as error:
        raise _problem(error) from None
    return Done(id=report.id, status=report.status, assigned_to=report.assigned_to)


@router.get("/{report_id}/assignee/candidates", responses=REFUSALS)
async def assignee_candidates(report_id: ReportId, current: TriageSession,
                              session: SessionDep) -> list[Candidate]:
    """Who the case may pass to (`POST /api/v1/reports/{id}/assignee`), by username: the
    same list the case page offers. 409 if nobody took the case (`not-claimed`) or the
    caller may not pass it (`assigned-to-other`)."""
    opened = await _opened(session, current, report_id)
    try:
        people = await reassign_choices(session=session, opened=opened, user=current.user)
    except TriageError as error:
        raise _problem(error) from None
    return [Candidate(id=person.id, username=person.username,
                      role="admin" if person.role == "admin" else "focal_point")
            for person in people]


@router.post("/{report_id}/assignee", responses=REFUSALS_WITH_BODY)
async def reassign(report_id: ReportId, body: AssigneeIn, current: TriageSession,
                   session: SessionDep, store: StoreDep) -> Done:
    """Passes a taken case to a colleague: only whoever attends it, or an admin. The case
    keeps its status; its key is wrapped for the new assignee if they cannot read it yet;
    the history records who passed it to whom; the new assignee gets a ping with nothing
    of the case in it. 409 if nobody took it (`not-claimed`), if someone else attends it
    (`assigned-to-other`) or if that person already does (`same-assignee`); 422
    (`bad-assignee`) for someone who cannot be given it."""
    opened = await _opened(session, current, report_id)
    try:
        report = await reassign_report(session=session, keyring=store.keyring, opened=opened,
                                       user=current.user, username=body.username,
                                       now=datetime.now(UTC))
    except TriageError as error:
        raise _problem(error) from None
    return Done(id=report.id, status=report.status, assigned_to=report.assigned_to)


@router.post("/{report_id}/status", responses=REFUSALS_WITH_BODY)
async def status(report_id: ReportId, change: StatusChange, current: TriageSession,
                 session: SessionDep) -> Done:
    """Moves the report along; a referral needs its entity (the reference may come later),
    closing a reason."""
    opened = await _opened(session, current, report_id)
    try:
        require_assignee(user=current.user, opened=opened)
        report = await change_status(
            session=session, opened=opened, user_id=current.user.id, status=change.status,
            entity=change.entity, reference=change.reference, reason=change.reason,
            now=datetime.now(UTC),
        )
    except TriageError as error:
        raise _problem(error) from None
    return Done(id=report.id, status=report.status, assigned_to=report.assigned_to)


@router.post("/{report_id}/reference", responses=REFUSALS_WITH_BODY)
async def reference(report_id: ReportId, body: ReferenceIn, current: TriageSession,
                    session: SessionDep) -> Done:
    """Adds the filing number of a referral saved without one; 409 if none is pending."""
    opened = await _opened(session, current, report_id)
    try:
        require_assignee(user=current.user, opened=opened)
        report = await add_reference(session=session, opened=opened, user_id=current.user.id,
                                     reference=body.reference, now=datetime.now(UTC))
    except TriageError as error:
        raise _problem(error) from None
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
        raise _problem(error) from None
    return EventOut(id=event.id, seq=event.seq)


@router.post("/{report_id}/messages", status_code=201, responses=REFUSALS_WITH_BODY)
async def message(report_id: ReportId, body: TextIn, current: TriageSession,
                  session: SessionDep, store: StoreDep) -> EventOut:
    """A message the reporter reads in Telegram with the receipt code."""
    opened = await _opened(session, current, report_id)
    try:
        require_assignee(user=current.user, opened=opened)
        event = await message_reporter(session=session, keyring=store.keyring, opened=opened,
                                       user_id=current.user.id, text=body.text,
                                       now=datetime.now(UTC))
    except TriageError as error:
        raise _problem(error) from None
    return EventOut(id=event.id, seq=event.seq)


@router.post("/{report_id}/share", responses=REFUSALS_WITH_BODY)
async def share(report_id: ReportId, body: ShareIn, current: TriageSession, session: SessionDep,
                store: StoreDep) -> Shared:
    """Lets another focal point read the report: its key is wrapped for them from this session."""
    opened = await _opened(session, current, report_id)
    try:
        recipient, new = await share_report(session=session, keyring=store.keyring,
                                            opened=opened, user_id=current.user.id,
                                            username=body.username, now=datetime.now(UTC))
    except TriageError as error:
        raise _problem(error) from None
    return Shared(id=report_id, shared_with=recipient.id, new=new)
