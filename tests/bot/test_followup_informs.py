"""What the reporter learns with the receipt code, and a leader's request without a report.

In process, on SQLite and PostgreSQL: the Tumaco focal point refers the case to the UNP
with a filing number and writes twice; the reporter answers in between. With the code the
reporter reads where the case went, its number, and the messages in the order they were
written, each with its day and never its hour. A leader who never reported asks for
protection from the menu: a receipt, and the request is in the focal point's queue.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.conversations import Conversations
from bot.i18n import render, translations
from flows.conversation import build_flow
from flows.engine import Command, Text
from flows.followup import MAX_REFERENCE_LENGTH
from flows.municipalities import Catalog
from storage.models import Report, User
from storage.reports import list_queue, read_report
from storage.store import Store
from storage.triage import (
    MAX_REFERENCE,
    add_reference,
    change_status,
    claim_report,
    list_events,
    message_reporter,
    open_case,
)
from storage.users import unlock_private_key
from tests.support.people import THREAT, Person
from tests.support.places import TUMACO
from tests.support.staff import Staff, add_staff

CHAT = 7_200_000_611
LEADER_CHAT = 7_200_000_612
REFERENCE = "OFI26-000417"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def shown(person: Person, locale: str = "es") -> str:
    catalog = translations(locale)
    return "\n".join(render(reply.text, catalog) for reply in person.shown)


async def _as_focal_point(store: Store, staff: Staff) -> tuple[User, bytes]:
    async with store.transaction() as session:
        user = await session.get(User, staff.id)
        assert user is not None
        key = await unlock_private_key(user=user, password=staff.password)
        assert key is not None
    return user, key


async def _team_writes(store: Store, staff: Staff, report_id: str, text: str,
                       now: datetime) -> None:
    user, key = await _as_focal_point(store, staff)
    async with store.transaction() as session:
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report_id)
        await message_reporter(session=session, keyring=store.keyring, opened=opened,
                               user_id=user.id, text=text, now=now)


async def test_the_reporter_reads_the_referral_and_the_messages_in_order_with_their_day(
    store: Store,
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    # 1 December, 10:05 in Tumaco (UTC-5).
    clock = Clock(datetime(2026, 12, 1, 15, 5, tzinfo=UTC))
    flow = build_flow(Catalog.load())
    reporter = Person(Conversations(store=store, flow=flow, clock=clock), CHAT)
    await reporter.do(THREAT)
    code = reporter.receipt()
    async with store.transaction() as session:
        (report,) = await list_queue(session=session, user_id=staff.id)
    user, key = await _as_focal_point(store, staff)
    async with store.transaction() as session:
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report.id)
        await claim_report(session=session, opened=opened, user_id=user.id, now=clock.now)
        await change_status(session=session, opened=opened, user_id=user.id,
                            status="referred", entity="unp", reference=REFERENCE,
                            now=clock.now)
    await _team_writes(store, staff, report.id, "Remitimos su caso a la UNP.",
                       datetime(2026, 12, 1, 15, 30, tzinfo=UTC))
    # 2 December: the team writes at 10:20, the reporter at 10:40 (kept as 10:00, the
    # hour), the team again at 10:50. Times alone would put the reporter first.
    await _team_writes(store, staff, report.id, "¿Puede ir a la Personería el lunes?",
                       datetime(2026, 12, 2, 15, 20, tzinfo=UTC))
    clock.now = datetime(2026, 12, 2, 15, 40, tzinfo=UTC)
    await reporter.do([Command("start"), "followup", Text(code), "reply",
                       Text("Sí puedo ir el lunes.")])
    await _team_writes(store, staff, report.id, "Listo, allá la esperan.",
                       datetime(2026, 12, 2, 15, 50, tzinfo=UTC))

    clock.now = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    await reporter.do([Command("start"), "followup", Text(code)])
    screen = shown(reporter)
    assert ("Su reporte fue enviado a una entidad que puede ayudarle.\n"
            "Entidad: UNP (Unidad Nacional de Protección)\n"
            f"Número de radicado o referencia: {REFERENCE}") in screen
    assert "por ejemplo" not in screen
    assert ("Mensajes de su caso:\n"
            "El 1 de diciembre, el equipo de protección escribió: Remitimos su caso a la UNP.\n"
            "El 2 de diciembre, el equipo de protección escribió: "
            "¿Puede ir a la Personería el lunes?\n"
            "El 2 de diciembre, usted escribió: Sí puedo ir el lunes.\n"
            "El 2 de diciembre, el equipo de protección escribió: Listo, allá la esperan."
            ) in screen, screen
    # The day only: no hour, neither the team's nor the reporter's.
    assert not any(hour in screen for hour in ("10:", "15:", "a. m.", "p. m."))

    # The same in English for somebody who chose English.
    await reporter.do([Command("start"), "lang", "followup", Text(code)])
    english = shown(reporter, "en")
    assert "Institution: UNP (National Protection Unit)" in english and REFERENCE in english
    assert "On December 2, you wrote: Sí puedo ir el lunes." in english, english


async def test_the_reporter_reads_a_filing_number_written_after_the_referral(
    store: Store,
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    reporter = Person(Conversations(store=store, flow=build_flow(Catalog.load())), CHAT)
    await reporter.do(THREAT)
    code = reporter.receipt()
    async with store.transaction() as session:
        (report,) = await list_queue(session=session, user_id=staff.id)
    user, key = await _as_focal_point(store, staff)
    async with store.transaction() as session:
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report.id)
        await claim_report(session=session, opened=opened, user_id=user.id,
                           now=datetime.now(UTC))
        await change_status(session=session, opened=opened, user_id=user.id,
                            status="referred", entity="defensoria", now=datetime.now(UTC))
    await reporter.do([Command("start"), "followup", Text(code)])
    pending = shown(reporter)
    # No empty number: the plain sentence until the entity gives one.
    assert "Su reporte fue enviado a una entidad que puede ayudarle." in pending
    assert "Número de radicado" not in pending

    async with store.transaction() as session:
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report.id)
        await add_reference(session=session, opened=opened, user_id=user.id,
                            reference="DP-2026-5521", now=datetime.now(UTC))
    await reporter.do([Command("start"), "followup", Text(code)])
    assert ("Entidad: Defensoría del Pueblo\n"
            "Número de radicado o referencia: DP-2026-5521") in shown(reporter)


async def test_a_leader_without_a_report_asks_for_protection_and_the_focal_point_reads_it(
    store: Store,
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    leader = Person(Conversations(store=store, flow=build_flow(Catalog.load())), LEADER_CHAT)
    await leader.do([Command("start"), "protection", "no", Text("tumaco"), f"mun:{TUMACO}",
                     "leadership.afro_council", "need.risk_assessment",
                     "need.collective_protection", "done", "contact.through_personeria",
                     Text("Nos citaron a una reunión y no fuimos."), "no", "confirm"])
    code = leader.receipt()
    assert "Su código de seguimiento es" in shown(leader)

    user, key = await _as_focal_point(store, staff)
    async with store.transaction() as session:
        (report,) = await list_queue(session=session, user_id=staff.id)
        assert (report.kind, report.category, report.municipality_code, report.urgency) == (
            "threat", "threat.protection_request", TUMACO, "high")
        detail = await read_report(session=session, user_id=user.id, private_key=key,
                                   report_id=report.id)
        assert detail is not None
        answers = detail.content["answers"]
        assert answers["target"] == "target.leader"
        assert answers["leadership"] == "leadership.afro_council"
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report.id)
        (request,) = await list_events(session=session, opened=opened, kinds=("protection",))
    assert request["needs"] == ["need.risk_assessment", "need.collective_protection"]
    assert request["contact"] == "contact.through_personeria"
    assert request["text"] == "Nos citaron a una reunión y no fuimos."
    assert request["actor"] == "reporter"
    # Kept to the hour, like every time the reporter leaves.
    assert request["at"].minute == 0 and request["at"].second == 0

    # The receipt works like any other.
    await leader.do([Command("start"), "followup", Text(code)])
    assert "Su reporte fue recibido" in shown(leader)
    async with store.transaction() as session:
        row = await session.get(Report, report.id)
        assert row is not None and row.crypto_contact is None  # said no to news


def test_the_reference_the_reporter_reads_is_as_long_as_the_one_a_focal_point_writes() -> None:
    assert MAX_REFERENCE_LENGTH == MAX_REFERENCE
