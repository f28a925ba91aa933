"""Triage: claim, status changes, notes and messages, each encrypted under the report's key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import envelope
from storage.audit import append_audit
from storage.db import is_postgresql
from storage.keyfile import Keyring
from storage.models import Report, ReportEvent, ReportKey, User
from storage.outbox import enqueue
from storage.reports import Opened, contact_chat_of, open_for_user
from storage.routing import load_routing
from storage.text import N_

# In workflow order: forms and refusals list next statuses in this order.
STATUSES = ("new", "in_review", "referred", "follow_up", "closed")
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "new": frozenset({"in_review"}),
    "in_review": frozenset({"referred", "follow_up", "closed"}),
    "referred": frozenset({"follow_up", "closed"}),
    "follow_up": frozenset({"referred", "closed"}),
    "closed": frozenset({"follow_up"}),
}
REFERRAL_ENTITIES = (
    "unp", "defensoria", "fiscalia", "personeria", "policia", "procuraduria", "icbf", "other",
)
CLOSING_REASONS = ("attended", "referred_externally", "no_contact", "duplicate", "unfounded")
# "assignment": someone took the case (or gave it to a colleague); "reference": the filing
# number of a referral saved without one. With "status", they make the case's history.
EVENT_KINDS = ("note", "to_reporter", "from_reporter", "status", "protection", "assignment",
               "reference")
HISTORY_KINDS = ("assignment", "status", "reference")
# Notes, messages and protection details: what fits one Telegram message with room to spare.
# flows.steps.MAX_TEXT_LENGTH is the same limit on the reporter's side (tests/test_layers.py).
MAX_TEXT = 4000
MSG_TEXT_LENGTH = N_("Escriba el texto, hasta 4.000 caracteres.")
# A referral's filing or reference number, as the entity wrote it.
MAX_REFERENCE = 120
MSG_REFERENCE_LENGTH = N_("El número de radicado o referencia tiene hasta 120 caracteres.")
# Refusals name what to choose in words; the forms list the choices with their labels.
MSG_BAD_STATUS = N_("Elija un estado de la lista.")
MSG_BAD_TRANSITION = N_("Desde el estado que tiene ahora, el caso no puede pasar al que eligió. "
                        "Revise el estado y elija otra vez.")
MSG_REFERRAL_ENTITY = N_("Elija la entidad a la que remite el caso.")
MSG_CLOSING_REASON = N_("Elija el motivo de cierre.")
MSG_REFERENCE_EMPTY = N_("Escriba el número de radicado o referencia.")
MSG_NO_PENDING_REFERENCE = N_("Este caso no tiene un radicado pendiente.")
MSG_ALREADY_CLAIMED = N_("Otra persona ya tomó este reporte.")


MSG_NOT_IN_QUEUE = N_("No existe un reporte con ese identificador en su bandeja.")
MSG_ASSIGNED_TO_OTHER = N_("Este reporte lo atiende otra persona del equipo.")
MSG_NO_SUCH_USER = N_("No existe el usuario «{value}».")
MSG_NOT_TAKEN = N_("Nadie tomó este caso todavía. Tómelo antes de pasarlo a otra persona.")
MSG_ONLY_ASSIGNEE_REASSIGNS = N_("Solo quien atiende el caso, o la administración, lo pasa a "
                                 "otra persona.")
MSG_CHOOSE_ASSIGNEE = N_("Elija a quién pasa el caso.")
MSG_SAME_ASSIGNEE = N_("Esa persona ya atiende este caso. Elija a otra.")
MSG_NOT_ELIGIBLE = N_("El caso solo puede pasar a un punto focal activo que atienda este lugar "
                      "o que ya lo lea, o a la administración. Elija de la lista.")


class TriageError(ValueError):
    """A triage action that cannot be done; `code` is stable, the message says what to do.

    Codes: `not-found` (also for a report outside the caller's queue), `already-claimed`,
    `bad-transition`, `assigned-to-other`, `no-pending-reference`, `not-claimed` and
    `same-assignee` (conflicts with the case as it is), and refusals of what was asked
    (`text-too-long`, `reference-too-long`, `referral-entity`, `closing-reason`,
    `bad-recipient`, `bad-assignee`, …). Messages are msgids without
    codes: the API and the pages show the words people read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def open_case(
    *, session: AsyncSession, user: User, private_key: bytes, report_id: str
) -> Opened:
    """A report of the caller's queue, opened to work on it. Community-priority answers are
    read, never worked as cases: like a report outside the queue, they are `not-found`."""
    opened = await open_for_user(session=session, user_id=user.id, private_key=private_key,
                                 report_id=report_id)
    if opened is None or opened.report.kind == "priority":
        raise TriageError("not-found", MSG_NOT_IN_QUEUE)
    return opened


def require_assignee(*, user: User, opened: Opened) -> None:
    """Only whoever took the case (or an admin) changes its status or writes to the reporter."""
    assignee = opened.report.assigned_to
    if assignee not in (None, user.id) and user.role != "admin":
        raise TriageError("assigned-to-other", MSG_ASSIGNED_TO_OTHER)


async def claim_report(
    *, session: AsyncSession, opened: Opened, user_id: str, now: datetime
) -> Report:
    """Assigns an unclaimed report to the caller (a new one goes to review); a second
    claimer gets a conflict. Taking the case is written in its history."""
    report_id = opened.report.id
    if is_postgresql(session):
        # SKIP LOCKED: a concurrent claimer does not wait for the winner, it loses at once.
        locked = await session.exec(
            select(Report.id)
            .where(col(Report.id) == report_id, col(Report.assigned_to).is_(None))
            .with_for_update(skip_locked=True)
        )
        if locked.first() is None:
            raise TriageError("already-claimed", MSG_ALREADY_CLAIMED)
    previous = opened.report.status
    result = await session.exec(
        update(Report)
        .where(col(Report.id) == report_id, col(Report.assigned_to).is_(None))
        .values(
            assigned_to=user_id,
            status=case((col(Report.status) == "new", "in_review"), else_=col(Report.status)),
        )
    )
    if result.rowcount != 1:
        raise TriageError("already-claimed", MSG_ALREADY_CLAIMED)
    await session.refresh(opened.report)
    await add_event(session=session, opened=opened, kind="assignment", actor=user_id, at=now,
                    body={"assignee": user_id, "from": previous, "to": opened.report.status})
    await append_audit(session=session, actor=user_id, action="report.claimed",
                       report_id=report_id, at=now)
    return opened.report


def _event_purpose(event: ReportEvent) -> str:
    # Kind and actor are bound too: a note moved into a "to_reporter" row fails to open.
    return f"event:{event.id}:{event.kind}:{event.actor}"


async def add_event(
    *, session: AsyncSession, opened: Opened, kind: str, actor: str, body: Mapping[str, Any],
    at: datetime,
) -> ReportEvent:
    """Appends a note, message or status detail, encrypted under the report's data key."""
    if kind not in EVENT_KINDS:
        raise TriageError("bad-event", f"unknown event kind {kind!r}")
    # Events of one report are numbered in turn: lock the report row (PostgreSQL; SQLite
    # units of work already hold the write lock).
    await session.exec(
        select(Report.id).where(col(Report.id) == opened.report.id).with_for_update()
    )
    last = (
        await session.exec(
            select(func.max(ReportEvent.seq)).where(col(ReportEvent.report_id) == opened.report.id)
        )
    ).one()
    event = ReportEvent(report_id=opened.report.id, seq=(last or 0) + 1, kind=kind, actor=actor,
                        at=at, crypto_body=b"")
    event.crypto_body = envelope.encrypt_with_data_key(
        report_id=opened.report.id, data_key=opened.data_key,
        plaintext=json.dumps(dict(body), ensure_ascii=False).encode(),
        purpose=_event_purpose(event),
    )
    session.add(event)
    await session.flush()
    return event


async def list_events(
    *, session: AsyncSession, opened: Opened, kinds: tuple[str, ...] = EVENT_KINDS
) -> list[dict[str, Any]]:
    rows = (
        await session.exec(
            select(ReportEvent)
            .where(col(ReportEvent.report_id) == opened.report.id,
                   col(ReportEvent.kind).in_(kinds))
            .order_by(col(ReportEvent.seq))
        )
    ).all()
    events = []
    for row in rows:
        body = json.loads(
            envelope.decrypt_with_data_key(
                report_id=row.report_id, data_key=opened.data_key, ciphertext=row.crypto_body,
                purpose=_event_purpose(row),
            )
        )
        events.append({"id": row.id, "seq": row.seq, "kind": row.kind, "actor": row.actor,
                       "at": row.at, **body})
    return events


def clean_text(value: str) -> str:
    """A note or message as stored: trimmed, not empty, at most `MAX_TEXT` characters."""
    text = value.strip()
    if not text:
        raise TriageError("empty-text", MSG_TEXT_LENGTH)
    if len(text) > MAX_TEXT:
        raise TriageError("text-too-long", MSG_TEXT_LENGTH)
    return text


async def add_note(
    *, session: AsyncSession, opened: Opened, user_id: str, text: str, now: datetime
) -> ReportEvent:
    event = await add_event(session=session, opened=opened, kind="note", actor=user_id,
                            body={"text": clean_text(text)}, at=now)
    await append_audit(session=session, actor=user_id, action="report.note_added",
                       report_id=opened.report.id, at=now)
    return event


async def message_reporter(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, user_id: str, text: str,
    now: datetime,
) -> ReportEvent:
    """A message the reporter reads with the receipt code (the receipt key holds the data key).

    If the reporter consented, a content-free "you have news" ping goes to the outbox.
    """
    event = await add_event(session=session, opened=opened, kind="to_reporter", actor=user_id,
                            body={"text": clean_text(text)}, at=now)
    chat = contact_chat_of(opened)
    if chat is not None:
        # The chat id rides sealed in the outbox only until the ping is sent.
        await enqueue(session=session, keyring=keyring, kind="reporter_news", now=now,
                      payload={"chat": chat})
    await append_audit(session=session, actor=user_id, action="report.message_sent",
                       report_id=opened.report.id, at=now)
    return event


def next_statuses(status: str) -> tuple[str, ...]:
    """Where a case in `status` may go, in workflow order."""
    allowed = TRANSITIONS.get(status, frozenset())
    return tuple(code for code in STATUSES if code in allowed)


def _reference(value: str | None) -> str | None:
    reference = (value or "").strip()
    if len(reference) > MAX_REFERENCE:
        raise TriageError("reference-too-long", MSG_REFERENCE_LENGTH)
    return reference or None


async def change_status(
    *,
    session: AsyncSession,
    opened: Opened,
    user_id: str,
    status: str,
    now: datetime,
    entity: str | None = None,
    reference: str | None = None,
    reason: str | None = None,
) -> Report:
    """Moves a report along new → in_review → referred → follow_up → closed.

    A referral needs its entity; its filing number may come later (`add_reference`): the
    entity often gives it days after, and until then the case says it is pending."""
    report = opened.report
    await session.refresh(report, with_for_update=True)
    if status not in STATUSES:
        raise TriageError("bad-status", MSG_BAD_STATUS)
    if status not in TRANSITIONS[report.status]:
        raise TriageError("bad-transition", MSG_BAD_TRANSITION)
    filed = None
    if status == "referred":
        if entity not in REFERRAL_ENTITIES:
            raise TriageError("referral-entity", MSG_REFERRAL_ENTITY)
        filed = _reference(reference)
        report.referred_to = entity
        report.reference_pending = filed is None
    if status == "closed":
        if reason not in CLOSING_REASONS:
            raise TriageError("closing-reason", MSG_CLOSING_REASON)
        report.closing_reason = reason
        # The consented contact handle is deleted when the case closes (DESIGN.md §5).
        report.crypto_contact = None
    else:
        report.closing_reason = None
    previous = report.status
    report.status = status
    session.add(report)
    await add_event(
        session=session, opened=opened, kind="status", actor=user_id, at=now,
        body={"from": previous, "to": status,
              "entity": entity if status == "referred" else None, "reference": filed,
              "reason": reason if status == "closed" else None},
    )
    await append_audit(session=session, actor=user_id, action="report.status_changed",
                       report_id=report.id, detail={"from": previous, "to": status}, at=now)
    return report


async def add_reference(
    *, session: AsyncSession, opened: Opened, user_id: str, reference: str, now: datetime
) -> Report:
    """The filing number of a referral saved without one: the reminder goes away, and the
    reporter reads it with the entity's name when they check their case."""
    report = opened.report
    await session.refresh(report, with_for_update=True)
    if not report.reference_pending or report.referred_to is None:
        raise TriageError("no-pending-reference", MSG_NO_PENDING_REFERENCE)
    filed = _reference(reference)
    if filed is None:
        raise TriageError("referral-reference", MSG_REFERENCE_EMPTY)
    report.reference_pending = False
    session.add(report)
    await add_event(session=session, opened=opened, kind="reference", actor=user_id, at=now,
                    body={"entity": report.referred_to, "reference": filed})
    await append_audit(session=session, actor=user_id, action="report.reference_added",
                       report_id=report.id, at=now)
    return report


async def share_report(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, user_id: str,
    username: str, now: datetime,
) -> tuple[User, bool]:
    """Wraps the report's data key for another focal point; False if they already have it."""
    recipient = (await session.exec(select(User).where(col(User.username) == username))).first()
    if recipient is None:
        raise TriageError("bad-recipient", MSG_NO_SUCH_USER.format(value=username))
    if recipient.disabled or recipient.role not in ("focal_point", "admin"):
        raise TriageError("bad-recipient", N_("Solo se puede compartir con un punto focal activo."))
    if not await _wrap_for(session=session, opened=opened, user=recipient):
        return recipient, False
    await enqueue(session=session, keyring=keyring, kind="new_report", now=now,
                  payload={"user_id": recipient.id,
                           "municipality": opened.report.municipality_code})
    await append_audit(session=session, actor=user_id, action="report.shared",
                       report_id=opened.report.id, detail={"with": recipient.id}, at=now)
    await session.flush()
    return recipient, True


async def _wrap_for(*, session: AsyncSession, opened: Opened, user: User) -> bool:
    """Wraps the report's data key for `user` unless they hold it; True if it was wrapped."""
    existing = (
        await session.exec(
            select(ReportKey).where(col(ReportKey.report_id) == opened.report.id,
                                    col(ReportKey.recipient_id) == user.id)
        )
    ).first()
    if existing is not None:
        return False
    session.add(ReportKey(
        report_id=opened.report.id, recipient_kind="user", recipient_id=user.id,
        crypto_key=envelope.rewrap_data_key(
            report_id=opened.report.id, data_key=opened.data_key, recipient_id=user.id,
            public_key=user.public_key,
        ),
    ))
    return True


async def reassign_candidates(*, session: AsyncSession, report: Report) -> list[User]:
    """Who may be given a taken case, by username: every active admin, and each active focal
    point who works its place (an area, or a routing rule naming them) or already reads it
    (it reached them, or was shared with them). Never whoever holds it now; never an analyst
    or a disabled account."""
    routing = await load_routing(session=session)
    holders = set((await session.exec(
        select(ReportKey.recipient_id).where(col(ReportKey.report_id) == report.id))).all())
    chosen = [
        user for user in routing.active_users.values()
        if user.id != report.assigned_to and (
            user.role == "admin"
            or user.role == "focal_point" and (user.id in holders or routing.covers(
                user.id, municipality_code=report.municipality_code, kind=report.kind,
                category=report.category, urgency=report.urgency)))
    ]
    return sorted(chosen, key=lambda user: user.username)


def may_reassign(*, user: User, holder: User | None) -> bool:
    """Whoever attends a case and admins pass it on; once the holder's account is disabled
    (they left), so does any colleague who reads it, taking it themselves or not."""
    return user.role == "admin" or holder is None or holder.disabled or holder.id == user.id


async def _reassignable(*, session: AsyncSession, report: Report, user: User) -> User | None:
    """The case's holder, if `user` may pass it on; raises TriageError otherwise."""
    if report.assigned_to is None:
        raise TriageError("not-claimed", MSG_NOT_TAKEN)
    holder = await session.get(User, report.assigned_to)
    if not may_reassign(user=user, holder=holder):
        raise TriageError("assigned-to-other", MSG_ONLY_ASSIGNEE_REASSIGNS)
    return holder


async def reassign_choices(*, session: AsyncSession, opened: Opened, user: User) -> list[User]:
    """`reassign_candidates` for someone who may pass the case on (TriageError otherwise)."""
    await _reassignable(session=session, report=opened.report, user=user)
    return await reassign_candidates(session=session, report=opened.report)


async def reassign_report(
    *, session: AsyncSession, keyring: Keyring, opened: Opened, user: User, username: str,
    now: datetime,
) -> Report:
    """Gives a taken case to a colleague (`reassign_candidates`): allowed to whoever holds it,
    to admins, and to anyone who reads it once the holder is disabled (`may_reassign`). The
    data key is wrapped for the new assignee if they lack it; the case keeps its status; the
    history gets an `assignment` event (who from, who to, under the report's key), the audit
    `report.reassigned` (ids only), and the new assignee a ping with nothing of the case in
    it. The former assignee keeps reading it, like any colleague it reached, and can no
    longer move it."""
    report = opened.report
    # Locked, then read afresh: of two reassignments at once, the second sees the first.
    await session.refresh(report, with_for_update=True)
    holder = await _reassignable(session=session, report=report, user=user)
    previous = report.assigned_to
    name = username.strip()
    if not name:
        raise TriageError("bad-assignee", MSG_CHOOSE_ASSIGNEE)
    candidates = {person.username: person
                  for person in await reassign_candidates(session=session, report=report)}
    target = candidates.get(name)
    if target is None:
        if holder is not None and holder.username == name:
            raise TriageError("same-assignee", MSG_SAME_ASSIGNEE)
        raise TriageError("bad-assignee", MSG_NOT_ELIGIBLE)
    wrapped = await _wrap_for(session=session, opened=opened, user=target)
    report.assigned_to = target.id
    session.add(report)
    await add_event(session=session, opened=opened, kind="assignment", actor=user.id, at=now,
                    body={"assignee": target.id, "previous": previous,
                          "from": report.status, "to": report.status})
    if target.id != user.id:
        # Nothing of the case in the payload: a lock screen is read by others too.
        await enqueue(session=session, keyring=keyring, kind="case_assigned", now=now,
                      payload={"user_id": target.id})
    await append_audit(session=session, actor=user.id, action="report.reassigned",
                       report_id=report.id,
                       detail={"from": previous, "to": target.id, "key_wrapped": wrapped},
                       at=now)
    await session.flush()
    return report
