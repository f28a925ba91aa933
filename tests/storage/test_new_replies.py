"""A reporter's reply, evidence or protection request reaches the team, on SQLite and
PostgreSQL: the case is marked «respuesta nueva» and sorted first until whoever works it
opens it; the first message since then pings them, with nothing of the report in the
ping; the thread keeps the order things were written in, not the reporter's coarse hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, select

from storage.followup import open_with_receipt
from storage.models import Report
from storage.outbox import due_messages, mark_sent
from storage.reporter_side import add_reporter_evidence, reporter_replies, request_protection
from storage.reports import QueueFilter, list_queue, read_report, submit_report
from storage.store import Store
from storage.triage import claim_report, list_events, message_reporter, open_case
from storage.users import get_user_by_username
from tests.support.people import PHOTO
from tests.support.places import TUMACO
from tests.support.reports import threat
from tests.support.staff import add_staff, private_key_of

# 2 December, 10:40:17 in Tumaco (UTC-5).
NOW = datetime(2026, 12, 2, 15, 40, 17, tzinfo=UTC)
REPLY = "Estamos escondidos en la casa de una vecina. Necesitamos ayuda para salir esta noche."


async def _submit(store: Store, urgency: str = "normal") -> tuple[str, str]:
    """A Tumaco threat an hour before NOW: its id and receipt code."""
    async with store.transaction() as session:
        submitted = await submit_report(
            session=session, keyring=store.keyring, argon2_params=store.argon2,
            now=NOW - timedelta(hours=1), report=threat(urgency=urgency, description="panfleto"),
        )
    return submitted.report_id, submitted.receipt_code


async def _reply(store: Store, code: str, text: str = REPLY, now: datetime = NOW) -> None:
    async with store.transaction() as session:
        opened = await open_with_receipt(session=session, keyring=store.keyring, code=code)
        assert opened is not None
        await reporter_replies(session=session, keyring=store.keyring, opened=opened,
                               text=text, now=now)


async def _queue(store: Store, user_id: str) -> list[tuple[str, bool]]:
    async with store.transaction() as session:
        return [(r.id, r.new_reply) for r in await list_queue(session=session, user_id=user_id)]


async def _open(store: Store, username: str, report_id: str) -> None:
    user_id, key = await private_key_of(store, username)
    async with store.transaction() as session:
        assert await read_report(session=session, user_id=user_id, private_key=key,
                                 report_id=report_id) is not None


async def _pings(store: Store) -> list[tuple[str, dict[str, object]]]:
    """The notifications waiting to be sent, and then sent: each is seen once."""
    async with store.transaction() as session:
        due = await due_messages(session=session, keyring=store.keyring,
                                 now=NOW + timedelta(days=1))
        for pending in due:
            mark_sent(session=session, row=pending.row, now=NOW)
    return sorted(((p.row.kind, dict(p.payload)) for p in due), key=repr)


async def test_a_reply_marks_the_case_first_in_the_queue_and_pings_each_focal_point_once(
    store: Store,
) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    colega = await add_staff(store, "colega", municipalities=(TUMACO,))
    urgent, _ = await _submit(store, urgency="immediate")
    replied, code = await _submit(store, urgency="normal")
    await _pings(store)  # the new-report alerts
    assert await _queue(store, tumaco.id) == [(urgent, False), (replied, False)]

    await _reply(store, code)
    # Marked for everyone it reached, and above the more urgent case.
    assert await _queue(store, tumaco.id) == [(replied, True), (urgent, False)]
    assert await _queue(store, colega.id) == [(replied, True), (urgent, False)]
    # One ping each, naming nobody's report: not its place, not a word of the reply.
    assert await _pings(store) == sorted([("reporter_reply", {"user_id": tumaco.id}),
                                          ("reporter_reply", {"user_id": colega.id})], key=repr)
    # A second message before anyone looked: still marked, no second ping.
    await _reply(store, code, "Ya salimos.", NOW + timedelta(minutes=5))
    assert await _pings(store) == []

    # Nobody has taken it: whoever it reached opens it, and the mark is gone for all.
    await _open(store, "colega", replied)
    assert await _queue(store, tumaco.id) == [(urgent, False), (replied, False)]
    assert await _queue(store, colega.id) == [(urgent, False), (replied, False)]
    # The next message marks it and pings again.
    await _reply(store, code, "Gracias.", NOW + timedelta(hours=2))
    assert [kind for kind, _ in await _pings(store)] == ["reporter_reply"] * 2


async def test_once_taken_only_the_assignee_is_pinged_and_only_their_reading_clears_the_mark(
    store: Store,
) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    await add_staff(store, "colega", municipalities=(TUMACO,))
    report_id, code = await _submit(store)
    _, key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        opened = await open_case(session=session, user=tumaco, private_key=key,
                                 report_id=report_id)
        await claim_report(session=session, opened=opened, user_id=tumaco.id, now=NOW)
    await _pings(store)

    await _reply(store, code)
    assert await _pings(store) == [("reporter_reply", {"user_id": tumaco.id})]
    # A colleague reading the case does not answer for the one who took it.
    await _open(store, "colega", report_id)
    assert await _queue(store, tumaco.id) == [(report_id, True)]
    await _open(store, "tumaco", report_id)
    assert await _queue(store, tumaco.id) == [(report_id, False)]


async def test_added_evidence_marks_the_case_and_pings(store: Store) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id, code = await _submit(store)
    await _pings(store)
    async with store.transaction() as session:
        opened = await open_with_receipt(session=session, keyring=store.keyring, code=code)
        assert opened is not None
        await add_reporter_evidence(session=session, keyring=store.keyring, opened=opened,
                                    files=[PHOTO], now=NOW)
    assert await _queue(store, tumaco.id) == [(report_id, True)]
    assert await _pings(store) == [("reporter_reply", {"user_id": tumaco.id})]
    await _open(store, "tumaco", report_id)
    assert await _queue(store, tumaco.id) == [(report_id, False)]


async def test_a_protection_request_marks_the_case_with_its_own_ping(store: Store) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id, code = await _submit(store)
    await _pings(store)
    async with store.transaction() as session:
        opened = await open_with_receipt(session=session, keyring=store.keyring, code=code)
        assert opened is not None
        await request_protection(session=session, keyring=store.keyring, opened=opened, now=NOW,
                                 request={"needs": ["need.risk_assessment"],
                                          "contact": "contact.this_chat_only", "details": ""})
    assert await _queue(store, tumaco.id) == [(report_id, True)]
    # Its own ping says it is a protection request; no second ping for the same news.
    assert await _pings(store) == [("protection_request",
                                    {"user_id": tumaco.id, "municipality": TUMACO})]


async def test_the_queue_pages_through_marked_cases_first_without_losing_one(
    store: Store,
) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    ids = {}
    for urgency in ("immediate", "high", "normal", "normal"):
        report_id, code = await _submit(store, urgency=urgency)
        ids[report_id] = code
    marked = list(ids)[1:3]
    for report_id in marked:
        await _reply(store, ids[report_id])
    everything = await _queue(store, tumaco.id)
    assert [flag for _, flag in everything] == [True, True, False, False]
    assert {report_id for report_id, _ in everything[:2]} == set(marked)
    paged: list[str] = []
    async with store.transaction() as session:
        after = None
        while True:
            page = await list_queue(session=session, user_id=tumaco.id,
                                    filters=QueueFilter(limit=1, after=after))
            if not page:
                break
            paged.append(page[0].id)
            last = page[0]
            after = (last.new_reply, last.urgency_rank, last.created_hour.isoformat(), last.id)
    assert paged == [report_id for report_id, _ in everything]


async def test_the_thread_keeps_the_order_written_when_the_reporter_shares_the_teams_hour(
    store: Store,
) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id, code = await _submit(store)
    user_id, key = await private_key_of(store, "tumaco")

    async def team_writes(text: str, at: datetime) -> None:
        async with store.transaction() as session:
            user = await get_user_by_username(session=session, username="tumaco")
            assert user is not None
            opened = await open_case(session=session, user=user, private_key=key,
                                     report_id=report_id)
            await message_reporter(session=session, keyring=store.keyring, opened=opened,
                                   user_id=user_id, text=text, now=at)

    # 10:20 the team, 10:40 the reporter (kept as 10:00, the hour), 10:50 the team:
    # by their times the reporter's answer would come before the question.
    await team_writes("¿Están en un lugar seguro?", NOW.replace(minute=20))
    await _reply(store, code, "En la casa de una vecina.", NOW)
    await team_writes("Vamos para allá.", NOW.replace(minute=50))
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="tumaco")
        assert user is not None
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report_id)
        events = await list_events(session=session, opened=opened,
                                   kinds=("to_reporter", "from_reporter"))
        stored = (await session.exec(
            select(Report.new_reply).where(col(Report.id) == report_id))).one()
    assert [(e["kind"], e["text"]) for e in events] == [
        ("to_reporter", "¿Están en un lugar seguro?"),
        ("from_reporter", "En la casa de una vecina."),
        ("to_reporter", "Vamos para allá."),
    ]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[1]["at"] == NOW.replace(minute=0, second=0) < events[0]["at"]
    # Opening the case to work on it is not reading it: the mark stays until it is read.
    assert stored is True


async def test_a_reply_changes_nothing_of_the_report_in_clear_but_the_flag(store: Store) -> None:
    """The thief with the database compares the report's row before and after a reply."""
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id, code = await _submit(store)

    async def row() -> dict[str, object]:
        async with store.engine.connect() as connection:
            found = (await connection.execute(
                text("SELECT * FROM reports WHERE id = :id"), {"id": report_id})).mappings().one()
        return {key: value for key, value in found.items() if not key.startswith("crypto_")}

    before = await row()
    await _reply(store, code)
    after = await row()
    assert {key for key in after if after[key] != before[key]} == {"new_reply"}
    assert bool(after["new_reply"]) is True
