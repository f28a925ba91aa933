"""A draft that expires with a report half answered is explained to the next message, once;
nothing of its answers is kept for that, and the mark it leaves has an end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from api.background import expire
from bot.conversations import MSG_DRAFT_EXPIRED, Conversations
from bot.i18n import render, translations
from flows.conversation import build_flow
from flows.engine import Command, Text
from flows.menu import MSG_MENU, MSG_WELCOME
from flows.municipalities import Catalog
from storage.drafts import NOTICE_KEPT, draft_aad
from storage.models import Draft
from storage.store import Store
from tests.support.people import THREAT, Person
from tests.support.places import TUMACO

CHAT = 7_300_000_111
HALF_A_REPORT = [Command("start"), "threat", "no", Text("tumaco"), f"mun:{TUMACO}", "target.leader"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # mid-epoch (09:00 UTC turns)

    def __call__(self) -> datetime:
        return self.now


def _people(store: Store) -> tuple[Person, Clock]:
    clock = Clock()
    conversations = Conversations(store=store, flow=build_flow(Catalog.load()), clock=clock)
    return Person(conversations, CHAT), clock


def _shown(person: Person) -> list[str]:
    catalog = translations("es")
    return [render(reply.text, catalog) for reply in person.shown]


async def test_the_next_message_hears_why_the_report_is_gone_then_the_menu(
    store: Store,
) -> None:
    person, clock = _people(store)
    await person.do(HALF_A_REPORT)
    clock.now += timedelta(minutes=31)
    await expire(store, clock.now)  # the background job got there first

    turn = await person.send(Text("Ya volví, sigo con el reporte"))
    assert [r.text.msgid for r in turn.replies] == [MSG_DRAFT_EXPIRED, MSG_WELCOME, MSG_MENU]
    said = _shown(person)[0]
    assert "30 minutos" in said and "para su seguridad" in said and "No se envió" in said
    assert turn.state.answers == {}  # nothing of the old answers came back

    # Told once: the message after that is an ordinary one.
    turn = await person.send("threat")
    assert MSG_DRAFT_EXPIRED not in [r.text.msgid for r in turn.replies]


async def test_without_the_background_job_the_next_message_is_told_too(store: Store) -> None:
    person, clock = _people(store)
    await person.do(HALF_A_REPORT)
    clock.now += timedelta(minutes=45)
    turn = await person.send("threat.extortion")  # a button of the expired question
    assert [r.text.msgid for r in turn.replies] == [MSG_DRAFT_EXPIRED, MSG_WELCOME, MSG_MENU]


async def test_nothing_to_tell_after_a_sent_report_the_menu_or_a_wipe(store: Store) -> None:
    person, clock = _people(store)
    await person.do(THREAT)  # sent: the draft is the receipt's step
    clock.now += timedelta(minutes=40)
    await expire(store, clock.now)
    turn = await person.send(Text("hola"))
    assert [r.text.msgid for r in turn.replies] == [MSG_WELCOME, MSG_MENU]

    clock.now += timedelta(minutes=40)  # idle at the menu
    turn = await person.send(Text("hola"))
    assert [r.text.msgid for r in turn.replies] == [MSG_WELCOME, MSG_MENU]

    await person.do(HALF_A_REPORT)
    clock.now += timedelta(minutes=40)
    turn = await person.send(Command("salir"))  # leaving: the wipe's answer only
    assert turn.wipe and MSG_DRAFT_EXPIRED not in [r.text.msgid for r in turn.replies]


async def test_the_mark_holds_no_answer_and_is_gone_within_a_day(store: Store) -> None:
    """What a seized database shows of an expired report: a row under the day's
    pseudonym whose sealed state opens to nothing, until a day after the hour it expired."""
    person, clock = _people(store)
    await person.do([*HALF_A_REPORT, "threat.extortion"])
    clock.now += timedelta(minutes=31)
    await expire(store, clock.now)
    async with store.transaction() as session:
        (mark,) = (await session.exec(select(Draft))).all()
        assert store.keyring.open(mark.crypto_state, draft_aad(mark.pseudonym)) == b""
        assert mark.expires_at <= clock.now + NOTICE_KEPT
        assert mark.expires_at.minute == 0  # the hour, not the minute

    clock.now += NOTICE_KEPT + timedelta(hours=1)
    await expire(store, clock.now)
    async with store.transaction() as session:
        assert (await session.exec(select(Draft))).all() == []
    turn = await person.send(Text("hola"))
    assert [r.text.msgid for r in turn.replies] == [MSG_WELCOME, MSG_MENU]
