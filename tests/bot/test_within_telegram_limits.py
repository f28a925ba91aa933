"""Acceptance 6 of issue 11: whatever a person answers, within each question's own limits
(free text up to its maximum, any button on screen, files), every message the bot sends fits
the Bot API's limits in Spanish and English, and a sent report reaches the focal point whole.

In process (tests/support/people.Person drives the unit of work over a real database),
rendered as the Telegram transport renders: text split at 4,096 UTF-16 code units where
it must be (`bot.telegram.split_text`; a message with buttons must fit whole), callback data
through `bot.telegram.encode_callback` (64 bytes).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.conversations import Conversations, Turn, Upload
from bot.i18n import render, render_label, translations
from bot.telegram import MAX_MESSAGE_LENGTH, encode_callback, split_text, telegram_length
from flows.conversation import build_flow
from flows.engine import NAV_BACK, NAV_CANCEL, Command, Text
from flows.evidence import EvidenceStep
from flows.followup import ReceiptCodeStep, ReplyStep
from flows.menu import ENTRIES
from flows.municipalities import Catalog
from flows.municipality_step import MunicipalityStep
from flows.priorities import MSG_PRIORITY_THANKS
from flows.reports import Promise
from flows.selfcare import LocalLinesStep
from flows.steps import TextStep
from flows.wipe import AFTER_REPORT
from storage.models import ReportKey
from storage.reports import read_report
from storage.store import Store
from tests.support.fuzzing import examples
from tests.support.people import PHOTO, Person
from tests.support.staff import add_staff, private_key_of

CATALOG = Catalog.load()
# A long organization name: it is in the welcome and in every receipt.
PROMISE = Promise(organization="Corporación Regional de Derechos Humanos del Pacífico Sur")
FLOW = build_flow(CATALOG, PROMISE)
DEPARTMENTS = tuple(department.code for department in CATALOG.departments())
CATALOGS = {locale: translations(locale) for locale in ("es", "en")}
MAX_BUTTON_LABEL = 64
TOWNS = ["Tumaco", "pasto", "Ipiales", "barbacoas", "Albania"]
chats = itertools.count(7_500_000_001)
# Per database: a focal point of every covered department (id, private key), made for its
# first example.
FOCAL_POINTS: dict[int, tuple[str, bytes]] = {}

# What a person may write: a piece (letters, accents, emoji, line breaks, braces) repeated
# up to a length within the question's limit, the limit itself included.
pieces = st.sampled_from(["a", "ñá ", "😀", "Amenaza\n", "{x} ", "\n\n", "palabra "])


def writing(limit: int) -> st.SearchStrategy[str]:
    exact = st.builds(lambda piece: (piece * limit)[:limit], pieces)
    some = st.builds(lambda piece, n: (piece * n)[:limit], pieces, st.integers(1, limit))
    return st.one_of(exact, some, st.text(min_size=1, max_size=40))


def check_fits(turn: Turn) -> None:
    """Every reply of the turn as Telegram would get it, in both languages."""
    for reply in turn.replies:
        for catalog in CATALOGS.values():
            text = render(reply.text, catalog)
            parts = split_text(text)
            assert "".join(parts).replace(" ", "").replace("\n", "") == \
                text.replace(" ", "").replace("\n", "")  # nothing lost
            assert all(part.strip() and telegram_length(part) <= MAX_MESSAGE_LENGTH
                       for part in parts), reply.text.msgid
            if reply.choices:  # buttons hang under one message: it must fit whole
                assert len(parts) == 1, reply.text.msgid
            for choice in reply.choices:
                label = render_label(choice, catalog)
                assert label.strip() and len(label) <= MAX_BUTTON_LABEL, label
                assert len(encode_callback(reply.step, choice.code).encode()) <= 64


def on_screen(person: Person) -> list[str]:
    return [c.code for r in person.shown for c in r.choices if c.code not in (NAV_BACK,
                                                                                NAV_CANCEL)]


async def _walk(person: Person, entry: str, data: st.DataObject, codes: list[str]) -> bool:
    """One conversation through the entry; True if it ended in a sent report or survey."""
    check_fits(await person.send(Command("start")))
    turn = await person.send(entry)
    check_fits(turn)
    for _ in range(40):
        state = turn.state
        if state.status != "active" or state.step in (None, AFTER_REPORT):
            break
        step = FLOW.step(state.step)
        choices = on_screen(person)
        item: object
        if isinstance(step, MunicipalityStep | LocalLinesStep) and not choices:
            item = Text(data.draw(st.sampled_from(TOWNS)))
        elif isinstance(step, ReceiptCodeStep):
            if not codes:
                break
            item = Text(data.draw(st.sampled_from(codes)))
        elif isinstance(step, TextStep | ReplyStep) and (not choices or data.draw(st.booleans())):
            limit = step.max_length if isinstance(step, TextStep) else 4000
            item = Text(data.draw(writing(limit)))
            event(f"wrote {'near the limit' if len(item.text) > limit * 3 // 4 else 'less'}")
        elif isinstance(step, EvidenceStep) and data.draw(st.integers(0, 3)) == 0:
            item = Upload(PHOTO)
        elif "confirm" in choices:
            item = "confirm"
        elif (towns := [c for c in choices if c.startswith("mun:") and c[4:].isdigit()]) \
                and data.draw(st.integers(0, 3)) > 0:
            item = data.draw(st.sampled_from(towns))
        elif "done" in choices and data.draw(st.booleans()):
            item = "done"
        elif choices:
            item = data.draw(st.sampled_from(choices))
        else:
            break
        turn = await person.send(item)  # type: ignore[arg-type]
        check_fits(turn)
    if any(r.step == AFTER_REPORT for r in person.shown):
        codes.append(person.receipt())
        return True
    return any(r.text.msgid == MSG_PRIORITY_THANKS for r in person.shown)


@pytest.mark.parametrize("backend", ["sqlite"])
@settings(max_examples=examples(15), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(entries=st.lists(st.sampled_from([e for e in ENTRIES if e != "wipe"]), min_size=1,
                        max_size=3),
       data=st.data())
async def test_every_message_fits_telegram_and_sent_reports_reach_the_focal_point(
    store: Store, entries: list[str], data: st.DataObject,
) -> None:
    conversations = Conversations(store=store, flow=FLOW, promise=PROMISE)
    if id(store) not in FOCAL_POINTS:  # one focal point for all examples of a database
        await add_staff(store, f"focal_{id(store)}", departments=DEPARTMENTS)
        FOCAL_POINTS[id(store)] = await private_key_of(store, f"focal_{id(store)}")
    staff_id, private_key = FOCAL_POINTS[id(store)]
    codes: list[str] = []  # receipts of this example's reports, for its follow-ups
    person = Person(conversations, next(chats))
    for entry in entries:
        async with store.transaction() as session:
            before = set((await session.exec(select(ReportKey.report_id).where(
                col(ReportKey.recipient_id) == staff_id))).all())
        sent = await _walk(person, entry, data, codes)
        event(f"{entry}: {'sent' if sent else 'not sent'}")
        async with store.transaction() as session:
            after = set((await session.exec(select(ReportKey.report_id).where(
                col(ReportKey.recipient_id) == staff_id))).all())
            new = after - before
            assert len(new) == (1 if sent else 0), (entry, sent)
            for report_id in new:
                detail = await read_report(session=session, user_id=staff_id,
                                           private_key=private_key, report_id=report_id)
                assert detail is not None and detail.report.created_hour <= datetime.now(UTC)
