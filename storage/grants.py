"""Open cases for whoever joins an area after them: one rule for the pages, the API and the CLI.

A new report is wrapped for the focal points routing names at that moment
(`storage.routing`). Someone given an area later (a new account, or a rule naming them)
would see only what comes next; the area's open cases stay with whoever received them.
Here those cases are the ones routing would send the person today and they cannot read:
a colleague's or an admin's unlocked session re-wraps the keys it can open, and the
organization recovery key, offline, opens them all. Priority surveys are never cases;
closed cases stay where they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import envelope
from storage.audit import AuditEvent, append_audit_entries
from storage.db import is_postgresql
from storage.models import Report, ReportKey, User, new_id
from storage.reports import RECOVERY_RECIPIENT
from storage.routing import RoutingTable, load_routing
from storage.text import N_

MSG_YOURSELF = N_("Nadie puede darse acceso a sí mismo. Pida a un colega o a administración "
                  "que se lo dé.")
MSG_NOT_A_RECIPIENT = N_("Solo un punto focal o administrador activo recibe casos.")
MSG_WRONG_RECOVERY_KEY = N_("La llave de recuperación no abre los reportes de esta instalación.")
# Rows per statement: well under SQLite's and PostgreSQL's limits on bound parameters.
_CHUNK = 500


class GrantError(ValueError):
    """A grant that cannot be made: `code` is stable (`yourself`, `bad-recipient`,
    `wrong-key`), the message a msgid."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Opener:
    """Who opens the data keys: a staff member's unlocked key (`recipient_id` is their id)
    or the recovery key (`RECOVERY_RECIPIENT`, actor "operator")."""

    recipient_id: str
    actor: str
    private_key: bytes = field(repr=False)


def staff_opener(*, user: User, private_key: bytes) -> Opener:
    return Opener(recipient_id=user.id, actor=user.id, private_key=private_key)


def recovery_opener(private_key: bytes) -> Opener:
    return Opener(recipient_id=RECOVERY_RECIPIENT, actor="operator", private_key=private_key)


@dataclass(frozen=True)
class Granted:
    """What a grant did: cases now readable, cases the opener could not open, and the
    active staff who hold those (usernames)."""

    granted: int
    not_opened: int
    holders: tuple[str, ...] = ()


def _is_open_case() -> ColumnElement[bool]:
    return (col(Report.status) != "closed") & (col(Report.kind) != "priority")


def _routed_to(routing: RoutingTable, report: Report) -> set[str]:
    return {user.id for user in routing.recipients(
        municipality_code=report.municipality_code, kind=report.kind,
        category=report.category, urgency=report.urgency)}


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


async def _holders(session: AsyncSession, report_ids: Sequence[str]) -> dict[str, set[str]]:
    """Every recipient id of each report (staff, receipt, recovery)."""
    held: dict[str, set[str]] = {report_id: set() for report_id in report_ids}
    for chunk in _chunks(report_ids):
        rows = await session.exec(select(ReportKey.report_id, ReportKey.recipient_id)
                                  .where(col(ReportKey.report_id).in_(chunk)))
        for report_id, recipient_id in rows.all():
            held[report_id].add(recipient_id)
    return held


def _places_of(routing: RoutingTable, user: User) -> set[str] | None:
    """Departments where routing may send `user` anything; None when it may be anywhere
    (an admin, the fallback of every place, or a rule without a place)."""
    if user.role == "admin":
        return None
    places = {area.department_code or (area.municipality_code or "")[:2]
              for area in routing.areas if area.user_id == user.id}
    for rule in routing.rules:
        if rule.user_id == user.id:
            if rule.department_code is None:
                return None
            places.add(rule.department_code)
    return places


async def pending_for(*, session: AsyncSession, user: User) -> list[Report]:
    """The open cases routing would send `user` today that `user` cannot read yet, most
    urgent first (none for a disabled account, an analyst, or before any area or rule)."""
    routing = await load_routing(session=session)
    if user.id not in routing.active_users:
        return []
    places = _places_of(routing, user)
    if places is not None and not places:
        return []
    readable = select(ReportKey.report_id).where(col(ReportKey.recipient_id) == user.id)
    query = select(Report).where(_is_open_case(), ~col(Report.id).in_(readable))
    if places is not None:
        query = query.where(col(Report.department_code).in_(sorted(places)))
    query = query.order_by(col(Report.urgency_rank), col(Report.created_hour), col(Report.id))
    return [report for report in (await session.exec(query)).all()
            if user.id in _routed_to(routing, report)]


async def count_openable(*, session: AsyncSession, reports: Sequence[Report],
                         user_id: str) -> int:
    """How many of `reports` `user_id` holds a key to (what their grant would give)."""
    held = await _holders(session, [report.id for report in reports])
    return sum(user_id in recipients for recipients in held.values())


@dataclass(frozen=True)
class Colleague:
    """Someone routing sends cases the granter holds, and how many they cannot read yet."""

    user: User
    cases: int


async def grantable_by(*, session: AsyncSession, user: User) -> list[Colleague]:
    """Colleagues who cannot read open cases that `user` can open and routing sends them
    (`user` themselves never), by username."""
    routing = await load_routing(session=session)
    held = select(ReportKey.report_id).where(col(ReportKey.recipient_id) == user.id)
    reports = (await session.exec(
        select(Report).where(_is_open_case(), col(Report.id).in_(held)))).all()
    holders = await _holders(session, [report.id for report in reports])
    counts: dict[str, int] = {}
    for report in reports:
        for missing in _routed_to(routing, report) - holders[report.id] - {user.id}:
            counts[missing] = counts.get(missing, 0) + 1
    colleagues = [Colleague(routing.active_users[user_id], cases)
                  for user_id, cases in counts.items()]
    return sorted(colleagues, key=lambda colleague: colleague.user.username)


def _rewrap(opener: Opener, user: User, report_id: str, crypto_key: bytes) -> bytes | None:
    try:
        data_key = envelope.unwrap_data_key(
            report_id=report_id, recipient_id=opener.recipient_id, crypto_key=crypto_key,
            private_key=opener.private_key)
    except (envelope.DecryptionError, ValueError):  # ValueError: not a private key at all
        if opener.recipient_id == RECOVERY_RECIPIENT:
            # Every report is wrapped for the recovery key: this one is not that key.
            raise GrantError("wrong-key", MSG_WRONG_RECOVERY_KEY) from None
        return None
    return envelope.rewrap_data_key(report_id=report_id, data_key=data_key,
                                    recipient_id=user.id, public_key=user.public_key)


def _rewrap_all(opener: Opener, user: User, keys: dict[str, bytes]) -> dict[str, bytes | None]:
    return {report_id: _rewrap(opener, user, report_id, key) for report_id, key in keys.items()}


async def grant_open_cases(
    *, session: AsyncSession, opener: Opener, user: User, via: str, now: datetime,
    progress: Callable[[int], None] | None = None,
) -> Granted:
    """Wraps for `user` the data key of every case `pending_for` names that `opener` can
    open; audits each case (`report.granted`) and the whole (`user.cases_granted`, counts
    only). `progress(n)` is told of each chunk done. Raises GrantError."""
    if opener.recipient_id == user.id:
        raise GrantError("yourself", MSG_YOURSELF)
    if user.disabled or user.role not in ("focal_point", "admin"):
        raise GrantError("bad-recipient", MSG_NOT_A_RECIPIENT)
    pending = [report.id for report in await pending_for(session=session, user=user)]
    granted: list[str] = []
    opened_ids: set[str] = set()
    for chunk in _chunks(pending):
        wrapped = dict((await session.exec(
            select(ReportKey.report_id, ReportKey.crypto_key).where(
                col(ReportKey.report_id).in_(chunk),
                col(ReportKey.recipient_id) == opener.recipient_id))).all())
        # HPKE with ML-KEM, twice per case: in a thread, off the event loop.
        rewrapped = await asyncio.to_thread(_rewrap_all, opener, user, wrapped)
        opened = {report_id: key for report_id, key in rewrapped.items() if key is not None}
        rows: list[dict[str, object]] = [
            {"id": new_id(), "report_id": report_id, "recipient_kind": "user",
             "recipient_id": user.id, "crypto_key": key} for report_id, key in opened.items()]
        granted += await _add_keys(session, rows)
        opened_ids.update(opened)
        if progress is not None:
            progress(len(chunk))
    not_opened = sorted(set(pending) - opened_ids)
    holders = await _active_holders(session, not_opened, exclude={user.id})
    detail = {"user": user.id, "granted": len(granted), "not_opened": len(not_opened),
              "via": via}
    await append_audit_entries(session=session, events=[
        *(AuditEvent(actor=opener.actor, action="report.granted", report_id=report_id,
                     detail={"with": user.id, "via": via}, at=now) for report_id in granted),
        AuditEvent(actor=opener.actor, action="user.cases_granted", detail=detail, at=now),
    ])
    return Granted(len(granted), len(not_opened), holders)


async def _add_keys(session: AsyncSession, rows: list[dict[str, object]]) -> list[str]:
    """Inserts wrapped keys; the report ids actually added (a grant running at the same time
    for the same person may have added some first: those are skipped, not an error)."""
    if not rows:
        return []
    table = ReportKey.__table__  # type: ignore[attr-defined]
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    statement = (insert(table).values(rows)
                 .on_conflict_do_nothing(index_elements=[table.c.report_id,
                                                         table.c.recipient_id])
                 .returning(table.c.report_id))
    return [str(report_id) for report_id in (await session.exec(statement)).scalars()]


async def _active_holders(
    session: AsyncSession, report_ids: Sequence[str], *, exclude: set[str]
) -> tuple[str, ...]:
    holders = await _holders(session, report_ids)
    ids = set().union(*holders.values()) - exclude if holders else set()
    if not ids:
        return ()
    users = (await session.exec(select(User).where(
        col(User.id).in_(sorted(ids)), col(User.disabled).is_(False)))).all()
    return tuple(sorted(user.username for user in users))
