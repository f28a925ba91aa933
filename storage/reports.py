"""Reports: submission in one transaction, the caller's queue, and audited decryption."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import envelope, receipts
from storage.attachments import File, attach_to_report, list_attachments, read_attachment
from storage.audit import AuditEvent, append_audit, defer_audit_entries
from storage.cellkey import new_record_key
from storage.crypto import Argon2Params
from storage.keyfile import Keyring
from storage.models import Report, ReportKey, User, floor_hour, new_id, utcnow
from storage.outbox import enqueue
from storage.recovery import recovery_public_key
from storage.rollups import Added, AnswerCell, Cell, add, bump_rollups, month_of
from storage.routing import recipients_for

URGENCY_RANK = {"immediate": 0, "high": 1, "normal": 2}
# Time to acknowledge, by urgency (DESIGN.md §6).
DEADLINES = {
    "immediate": timedelta(hours=1),
    "high": timedelta(hours=24),
    "normal": timedelta(hours=72),
}
RECOVERY_RECIPIENT = "recovery"
MOST_CONCERNS = 3  # Borda points for the top three (DESIGN.md §7)
RECEIPT_RECIPIENT = "receipt"


class ReportError(ValueError):
    """A submission that cannot be stored as given."""


@dataclass(frozen=True)
class NewReport:
    """What a transport hands to storage: clear routing fields and the secret answers."""

    kind: str
    category: str
    municipality_code: str
    urgency: str
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class Submitted:
    report_id: str
    receipt_code: str | None
    recipients: tuple[str, ...]
    # The report's data key, for what the same transaction adds to the report (events).
    data_key: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class ReportDetail:
    report: Report
    content: Mapping[str, Any]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # Unwrapped for this request only, to read the report's notes and messages too.
    data_key: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    urgency: str | None = None
    kind: str | None = None
    municipality: str | None = None
    limit: int = 50
    # The last item of the previous page: (new_reply, urgency_rank, created_hour, id).
    after: tuple[bool, int, str, str] | None = field(default=None)
    # Overdue: still "new" past its acknowledgement deadline at `now`.
    overdue: bool | None = None
    now: datetime | None = None


CONTACT_PURPOSE = "contact"


def contact_chat_of(opened: Opened) -> int | None:
    """The chat of a reporter who consented to be told of news, while the case keeps it.

    It is encrypted under the report's data key, like the report itself: only a recipient
    of the report (a focal point's unlocked session) opens it, never the key file alone.
    """
    if opened.report.crypto_contact is None:
        return None
    return int(envelope.decrypt_with_data_key(
        report_id=opened.report.id, data_key=opened.data_key,
        ciphertext=opened.report.crypto_contact, purpose=CONTACT_PURPOSE,
    ))


def ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """A case nobody has taken yet, past its deadline."""
    return (col(Report.status) == "new") & (col(Report.due_at) <= now)


@dataclass(frozen=True)
class Submission:
    """One report to store, and the focal points it is encrypted for."""

    report: NewReport
    now: datetime
    recipients: Sequence[User]
    with_receipt: bool = True
    files: Sequence[File] = ()
    contact_chat_id: int | None = None
    # Made ahead (`make_receipt`); with none, one is made inside the transaction.
    receipt: Receipt | None = None


@dataclass(frozen=True)
class Receipt:
    """A receipt code made before its report's transaction: its Argon2id takes tens of
    milliseconds, and on SQLite a transaction that has begun holds the database's only
    write lock, so every other chat's step would wait behind it."""

    code: str = field(repr=False)
    salt: bytes
    secrets: receipts.ReceiptSecrets
    params: Argon2Params


async def make_receipt(params: Argon2Params = receipts.RECEIPT_ARGON2) -> Receipt:
    """A new receipt code and what is derived from it, in a worker thread."""
    code, salt = receipts.new_receipt_code(), receipts.new_receipt_salt()
    secrets = await asyncio.to_thread(receipts.derive_receipt_secrets, code, salt,
                                      params=params)
    return Receipt(code=code, salt=salt, secrets=secrets, params=params)


def _check(report: NewReport) -> None:
    if report.urgency not in URGENCY_RANK:
        raise ReportError(f"unknown urgency {report.urgency!r}")
    if len(report.municipality_code) != 5 or not report.municipality_code.isdigit():
        raise ReportError(f"invalid municipality code {report.municipality_code!r}")


def ranking(report: NewReport) -> tuple[str, ...]:
    """A priority answer's concerns, most important first (at most three), led by its
    category: the ranking its noise cell is kept by (storage.rollups.AnswerCell)."""
    concerns = [str(c) for c in list(report.answers.get("concerns", []))[:MOST_CONCERNS]]
    if not concerns or concerns[0] != report.category:
        return (report.category,)
    return tuple(concerns)


def _derive_receipts(
    codes: Sequence[str | None], salts: Sequence[bytes], params: Argon2Params
) -> list[receipts.ReceiptSecrets | None]:
    return [
        receipts.derive_receipt_secrets(code, salt, params=params) if code else None
        for code, salt in zip(codes, salts, strict=True)
    ]


async def submit_report(
    *,
    session: AsyncSession,
    keyring: Keyring,
    report: NewReport,
    now: datetime,
    argon2_params: Argon2Params = receipts.RECEIPT_ARGON2,
    with_receipt: bool = True,
    files: Sequence[File] = (),
    contact_chat_id: int | None = None,
    notify: bool = True,
    recipients: Sequence[User] | None = None,
    receipt: Receipt | None = None,
) -> Submitted:
    """Encrypts and stores a report with its wrapped keys, evidence, rollup and audit entry.

    Everything happens in the caller's transaction: the receipt code may be
    shown only after that transaction commits. Community-priority answers
    have no receipt (`with_receipt=False`). `contact_chat_id` is given only when
    the reporter consented to news; it is stored sealed and deleted at closing.
    Each recipient gets a content-free ping in the outbox, urgent ones an alert.
    """
    _check(report)
    if recipients is None:
        recipients = await recipients_for(
            session=session,
            municipality_code=report.municipality_code,
            kind=report.kind,
            category=report.category,
            urgency=report.urgency,
        )
    (submitted,) = await submit_reports(
        session=session, keyring=keyring, argon2_params=argon2_params, notify=notify,
        submissions=[Submission(report=report, now=now, recipients=recipients,
                                with_receipt=with_receipt, files=files,
                                contact_chat_id=contact_chat_id, receipt=receipt)],
    )
    return submitted


async def submit_reports(
    *,
    session: AsyncSession,
    keyring: Keyring,
    submissions: Sequence[Submission],
    argon2_params: Argon2Params = receipts.RECEIPT_ARGON2,
    notify: bool = True,
) -> list[Submitted]:
    """Stores several routed reports like `submit_report`, with a few statements per batch.

    Rows and wrapped keys go in one multi-row insert each, rollup cells are
    summed in memory and upserted once per batch, and the audit entries are
    chained in submission order.
    """
    for submission in submissions:
        _check(submission.report)
    recovery = await recovery_public_key(session=session)
    made = [s.receipt if s.with_receipt else None for s in submissions]
    codes = [m.code if m else receipts.new_receipt_code() if s.with_receipt else None
             for s, m in zip(submissions, made, strict=True)]
    salts = [m.salt if m else receipts.new_receipt_salt() for m in made]
    to_derive = [None if m else code for code, m in zip(codes, made, strict=True)]
    derived = (await asyncio.to_thread(_derive_receipts, to_derive, salts, argon2_params)
               if any(to_derive) else [None] * len(made))
    secrets = [m.secrets if m else d for m, d in zip(made, derived, strict=True)]
    kdfs = [(m.params if m else argon2_params).to_bytes() for m in made]

    report_rows: list[dict[str, Any]] = []
    key_rows: list[dict[str, Any]] = []
    sealed_by_id: dict[str, envelope.SealedReport] = {}
    cells: dict[Cell, Added] = {}
    answers: dict[AnswerCell, Added] = {}
    events: list[AuditEvent] = []
    results: list[Submitted] = []
    for submission, code, salt, receipt, kdf in zip(submissions, codes, salts, secrets, kdfs,
                                                     strict=True):
        report, now = submission.report, submission.now
        public_keys = {user.id: user.public_key for user in submission.recipients}
        public_keys[RECOVERY_RECIPIENT] = recovery
        if receipt is not None:
            public_keys[RECEIPT_RECIPIENT] = receipt.public_key
        report_id = new_id()
        content = {
            "kind": report.kind,
            "category": report.category,
            "municipality_code": report.municipality_code,
            "urgency": report.urgency,
            "submitted_at": now.isoformat(),
            "answers": dict(report.answers),
        }
        sealed = envelope.seal_report(
            report_id, json.dumps(content, ensure_ascii=False).encode(), public_keys
        )
        sealed_by_id[report_id] = sealed
        created_hour = floor_hour(now)
        record_key = new_record_key()
        report_rows.append({
            "id": report_id,
            "kind": report.kind,
            "category": report.category,
            "department_code": report.municipality_code[:2],
            "municipality_code": report.municipality_code,
            "urgency": report.urgency,
            "urgency_rank": URGENCY_RANK[report.urgency],
            "status": "new",
            "created_hour": created_hour,
            "record_key": record_key,
            "due_at": ceil_hour(now + DEADLINES[report.urgency]),
            "receipt_lookup": receipts.receipt_lookup(keyring, code) if code else None,
            "receipt_salt": salt if receipt else None,
            "receipt_kdf": kdf if receipt else None,
            "crypto_receipt_verifier": receipt.verifier if receipt else None,
            "crypto_payload": sealed.crypto_payload,
            "crypto_contact": (
                envelope.encrypt_with_data_key(
                    report_id=report_id, data_key=sealed.data_key,
                    plaintext=str(submission.contact_chat_id).encode(), purpose=CONTACT_PURPOSE,
                ) if submission.contact_chat_id is not None else None
            ),
        })
        for recipient_id, wrapped in sealed.crypto_keys.items():
            kind = (recipient_id if recipient_id in (RECEIPT_RECIPIENT, RECOVERY_RECIPIENT)
                    else "user")
            key_rows.append({"id": new_id(), "report_id": report_id, "recipient_kind": kind,
                             "recipient_id": recipient_id, "crypto_key": wrapped})
        month = month_of(now)
        one = Added(1, record_key)
        cell = Cell(report.municipality_code, report.kind, report.category, month)
        cells[cell] = add(cells.get(cell, Added(0, 0)), one)
        if report.kind == "priority":
            answer = AnswerCell(report.municipality_code, month, ranking(report))
            answers[answer] = add(answers.get(answer, Added(0, 0)), one)
        events.append(AuditEvent(
            actor="reporter", action="report.submitted", report_id=report_id, at=created_hour,
            detail={"kind": report.kind, "urgency": report.urgency,
                    "recipients": len(submission.recipients),
                    "attachments": len(submission.files)},
        ))
        results.append(Submitted(report_id, code, tuple(u.id for u in submission.recipients),
                                 sealed.data_key))

    await session.exec(insert(Report.__table__), params=report_rows)  # type: ignore[attr-defined]
    for submission, submitted in zip(submissions, results, strict=True):
        ping = "immediate_alert" if submission.report.urgency == "immediate" else "new_report"
        for user in submission.recipients if notify else ():
            await enqueue(session=session, keyring=keyring, kind=ping, now=submission.now,
                          payload={"user_id": user.id,
                                   "municipality": submission.report.municipality_code})
        if submission.files:
            await attach_to_report(
                session=session, report_id=submitted.report_id,
                data_key=sealed_by_id[submitted.report_id].data_key, files=submission.files,
            )
    await session.exec(insert(ReportKey.__table__), params=key_rows)  # type: ignore[attr-defined]
    await bump_rollups(session=session, cells=cells, answers=answers)
    defer_audit_entries(session=session, events=events)
    return results


def _visible_to(user_id: str) -> Any:
    return col(Report.id).in_(
        select(ReportKey.report_id).where(col(ReportKey.recipient_id) == user_id)
    )


async def list_queue(
    *, session: AsyncSession, user_id: str, filters: QueueFilter = QueueFilter()
) -> Sequence[Report]:
    """Reports routed to the user: those with a reply nobody has read first, then most
    urgent first, then oldest; keyset-paginated."""
    # Community-priority answers are read in aggregate, never worked as cases.
    query = select(Report).where(_visible_to(user_id), col(Report.kind) != "priority")
    if filters.status:
        query = query.where(col(Report.status) == filters.status)
    if filters.urgency:
        query = query.where(col(Report.urgency) == filters.urgency)
    if filters.kind:
        query = query.where(col(Report.kind) == filters.kind)
    if filters.municipality:
        query = query.where(col(Report.municipality_code) == filters.municipality)
    if filters.overdue is not None:
        late = overdue_condition(filters.now or utcnow())
        query = query.where(late if filters.overdue else ~late)
    if filters.after is not None:
        marked, rank, hour, report_id = filters.after
        hour_value = datetime.fromisoformat(hour)
        same_mark = col(Report.new_reply) == marked
        later = same_mark & (
            (col(Report.urgency_rank) > rank)
            | ((col(Report.urgency_rank) == rank) & (col(Report.created_hour) > hour_value))
            | (
                (col(Report.urgency_rank) == rank)
                & (col(Report.created_hour) == hour_value)
                & (col(Report.id) > report_id)
            )
        )
        # Marked cases come first: after a marked one, every unmarked one is still to come.
        query = query.where(later | ~col(Report.new_reply) if marked else later)
    query = query.order_by(
        col(Report.new_reply).desc(), col(Report.urgency_rank), col(Report.created_hour),
        col(Report.id),
    ).limit(filters.limit)
    return (await session.exec(query)).all()


async def get_visible_report(
    *, session: AsyncSession, user_id: str, report_id: str
) -> tuple[Report, ReportKey] | None:
    """The report and the user's wrapped key, or None when it is not theirs to see."""
    row = (
        await session.exec(
            select(Report, ReportKey)
            .join(ReportKey, col(ReportKey.report_id) == col(Report.id))
            .where(col(Report.id) == report_id, col(ReportKey.recipient_id) == user_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True)
class Opened:
    """A report the caller may act on, with its data key unwrapped for this transaction."""

    report: Report
    data_key: bytes = field(repr=False)


async def open_for_user(
    *, session: AsyncSession, user_id: str, private_key: bytes, report_id: str
) -> Opened | None:
    """The report and its data key, if `user_id` is one of its recipients; None otherwise
    (the same answer for a report that does not exist)."""
    found = await get_visible_report(session=session, user_id=user_id, report_id=report_id)
    if found is None:
        return None
    report, key = found
    data_key = envelope.unwrap_data_key(
        report_id=report.id, recipient_id=user_id, crypto_key=key.crypto_key,
        private_key=private_key,
    )
    return Opened(report, data_key)


async def read_report(
    *, session: AsyncSession, user_id: str, private_key: bytes, report_id: str
) -> ReportDetail | None:
    """Decrypts a report for a recipient and writes the read to the audit log."""
    opened = await open_for_user(session=session, user_id=user_id, private_key=private_key,
                                 report_id=report_id)
    if opened is None:
        return None
    report, data_key = opened.report, opened.data_key
    content: dict[str, Any] = {}
    if report.crypto_payload is not None:  # None once the retention purge removed it
        content = json.loads(envelope.open_report(
            report_id=report.id, crypto_payload=report.crypto_payload, data_key=data_key
        ))
    files = await list_attachments(session=session, report_id=report.id, data_key=data_key)
    if report.new_reply and report.assigned_to in (None, user_id):
        # Whoever works the case has now seen what the reporter wrote (anyone it reached,
        # before somebody took it): the «respuesta nueva» mark goes. The read is audited.
        report.new_reply = False
        session.add(report)
    await append_audit(session=session, actor=user_id, action="report.read", report_id=report.id)
    return ReportDetail(report, content, files, data_key)


async def read_report_attachment(
    *, session: AsyncSession, user_id: str, private_key: bytes, report_id: str,
    attachment_id: str,
) -> File | None:
    """One evidence file, decrypted for a recipient of the report; audited."""
    opened = await open_for_user(session=session, user_id=user_id, private_key=private_key,
                                 report_id=report_id)
    if opened is None:
        return None
    file = await read_attachment(session=session, report_id=report_id,
                                 attachment_id=attachment_id, data_key=opened.data_key)
    if file is not None:
        await append_audit(session=session, actor=user_id, action="attachment.read",
                           report_id=report_id, detail={"attachment": attachment_id})
    return file


async def find_by_receipt(
    *, session: AsyncSession, keyring: Keyring, code: str
) -> tuple[Report, receipts.ReceiptSecrets] | None:
    """The report a receipt code belongs to, checked against its slow verifier."""
    normalized = receipts.normalize_receipt_code(code)
    if normalized is None:
        return None
    buckets = receipts.receipt_buckets(keyring, normalized)
    in_buckets = (
        await session.exec(select(Report).where(col(Report.receipt_lookup).in_(buckets)))
    ).all()
    for report in in_buckets:
        if (
            report.receipt_salt is None or report.receipt_kdf is None
            or report.crypto_receipt_verifier is None
        ):
            continue
        secrets = await asyncio.to_thread(
            receipts.verify_receipt, normalized, report.receipt_salt,
            report.crypto_receipt_verifier, Argon2Params.from_bytes(report.receipt_kdf),
        )
        if secrets is not None:
            return report, secrets
    return None
