"""Chat bookkeeping, evidence files and receipt lookup, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.attachments import (
    File,
    discard_draft_attachments,
    put_draft_attachment,
    read_attachment,
    read_draft_attachments,
)
from storage.chats import (
    DELETE_WINDOW,
    claim_update,
    count_attempt,
    get_locale,
    record_messages,
    set_locale,
    take_messages,
)
from storage.drafts import load_draft, save_draft
from storage.models import (
    Attachment,
    ChatTrace,
    Draft,
    DraftAttachment,
    PriorityTally,
    ProcessedUpdate,
    RateLimit,
    Report,
)
from storage.reports import NewReport, find_by_receipt, list_queue, submit_report
from storage.store import Store
from tests.support.places import TUMACO
from tests.support.staff import add_staff

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CHAT = "a" * 64


async def test_message_ids_are_kept_for_48_hours_then_dropped(store: Store) -> None:
    async with store.transaction() as session:
        await record_messages(session=session, keyring=store.keyring, pseudonym=CHAT,
                              message_ids=[1, 2], now=NOW - DELETE_WINDOW - timedelta(minutes=1))
        await record_messages(session=session, keyring=store.keyring, pseudonym=CHAT,
                              message_ids=[3, 4], now=NOW)
    async with store.transaction() as session:
        taken = await take_messages(session=session, keyring=store.keyring, pseudonym=CHAT,
                                    now=NOW)
        again = await take_messages(session=session, keyring=store.keyring, pseudonym=CHAT,
                                    now=NOW)
    assert taken == [4, 3] and again == []


async def test_an_update_is_claimed_once(store: Store) -> None:
    async with store.transaction() as session:
        assert await claim_update(session=session, update_id=987654321012, now=NOW)
        assert not await claim_update(session=session, update_id=987654321012, now=NOW)
    async with store.transaction() as session:
        assert not await claim_update(session=session, update_id=987654321012, now=NOW)


async def test_rate_limit_window_resets(store: Store) -> None:
    async with store.transaction() as session:
        counts = [await count_attempt(session=session, key="k", window=timedelta(minutes=15),
                                      now=NOW + timedelta(minutes=i)) for i in range(3)]
        later = await count_attempt(session=session, key="k", window=timedelta(minutes=15),
                                    now=NOW + timedelta(minutes=16))
    assert counts == [1, 2, 3] and later == 1


async def test_simultaneous_attempts_each_count(store: Store) -> None:
    """Guessing in parallel does not slip past the limit, and first attempts do not collide."""
    async def attempt() -> int:
        async with store.transaction() as session:
            return await count_attempt(session=session, key="login:x",
                                       window=timedelta(minutes=15), now=NOW)

    counts = await asyncio.gather(*(attempt() for _ in range(12)))
    assert sorted(counts) == list(range(1, 13))


async def test_language_is_remembered_by_pseudonym(store: Store) -> None:
    async with store.transaction() as session:
        assert await get_locale(session=session, pseudonym=CHAT) is None
        await set_locale(session=session, pseudonym=CHAT, locale="en")
        await set_locale(session=session, pseudonym=CHAT, locale="es")
        assert await get_locale(session=session, pseudonym=CHAT) == "es"


async def test_evidence_moves_from_the_draft_to_the_report(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    photo = File({"kind": "photo", "mime": "image/jpeg", "size": 5}, b"\xff\xd8abc")
    async with store.transaction() as session:
        ref = await put_draft_attachment(session=session, keyring=store.keyring, pseudonym=CHAT,
                                         file=photo, now=NOW, ttl=timedelta(minutes=30))
        files = await read_draft_attachments(session=session, keyring=store.keyring,
                                             pseudonym=CHAT, refs=[ref, "not-mine"])
        assert files == [photo]
        submitted = await submit_report(
            session=session, keyring=store.keyring, argon2_params=store.argon2, now=NOW,
            files=files,
            report=NewReport(kind="threat", category="threat.other", municipality_code=TUMACO,
                             urgency="normal", answers={"evidence": [{"ref": ref}]}),
        )
    async with store.transaction() as session:
        await discard_draft_attachments(session=session, pseudonym=CHAT)
    async with store.transaction() as session:
        stored = (await session.exec(select(Attachment))).one()
        assert photo.data not in stored.crypto_blob
        assert await read_draft_attachments(session=session, keyring=store.keyring,
                                            pseudonym=CHAT, refs=[ref]) == []
    assert submitted.receipt_code is not None


async def test_receipt_code_finds_its_report_and_nothing_else(store: Store) -> None:
    async with store.transaction() as session:
        submitted = await submit_report(
            session=session, keyring=store.keyring, argon2_params=store.argon2, now=NOW,
            report=NewReport(kind="threat", category="threat.other", municipality_code=TUMACO,
                             urgency="normal", answers={}),
        )
    code = submitted.receipt_code
    assert code is not None
    spaced = " ".join(code[i:i + 4] for i in range(0, 16, 4))
    wrong = ("1" if code[0] != "1" else "2") + code[1:]
    async with store.transaction() as session:
        found = await find_by_receipt(session=session, keyring=store.keyring, code=spaced)
        assert found is not None and found[0].id == submitted.report_id
        assert await find_by_receipt(session=session, keyring=store.keyring, code=wrong) is None
        assert await find_by_receipt(session=session, keyring=store.keyring, code="12") is None


async def test_priorities_have_no_receipt_stay_out_of_the_queue_and_are_tallied(
    store: Store,
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    concerns = ["priority.extortion", "priority.drug_dealing", "priority.theft"]
    async with store.transaction() as session:
        for _ in range(2):
            submitted = await submit_report(
                session=session, keyring=store.keyring, argon2_params=store.argon2, now=NOW,
                with_receipt=False,
                report=NewReport(kind="priority", category=concerns[0],
                                 municipality_code=TUMACO, urgency="normal",
                                 answers={"concerns": concerns, "comment": "faltan luces"}),
            )
            assert submitted.receipt_code is None
    async with store.transaction() as session:
        assert await list_queue(session=session, user_id=staff.id) == []
        report = (await session.exec(select(Report))).first()
        assert report is not None and report.receipt_lookup is None
        tallies = {(t.concern, t.rank): t.count
                   for t in (await session.exec(select(PriorityTally))).all()}
    assert tallies == {(concerns[0], 1): 2, (concerns[1], 2): 2, (concerns[2], 3): 2}


async def test_attachment_of_another_report_is_not_readable(store: Store) -> None:
    async with store.transaction() as session:
        assert await read_attachment(session=session, report_id="x", attachment_id="y",
                                     data_key=b"k" * 32) is None


async def test_an_expired_draft_is_gone_and_a_new_one_can_start(store: Store) -> None:
    async with store.transaction() as session:
        await save_draft(session=session, keyring=store.keyring, pseudonym=CHAT,
                         state_json='{"step": "old"}', now=NOW, ttl=timedelta(minutes=30))
    later = NOW + timedelta(minutes=31)
    async with store.transaction() as session:
        assert await load_draft(session=session, keyring=store.keyring, pseudonym=CHAT,
                                now=later) is None
        await save_draft(session=session, keyring=store.keyring, pseudonym=CHAT,
                         state_json='{"step": "new"}', now=later, ttl=timedelta(minutes=30))
    async with store.transaction() as session:
        assert await load_draft(session=session, keyring=store.keyring, pseudonym=CHAT,
                                now=later) == '{"step": "new"}'


async def test_times_kept_beside_a_chat_pseudonym_hold_no_seconds(store: Store) -> None:
    """Someone with the database and the pepper can find a known chat's rows; what they
    read there must not say the second the chat was active."""
    moment = datetime(2026, 11, 28, 10, 41, 37, 512000, tzinfo=UTC)
    async with store.transaction() as session:
        await save_draft(session=session, keyring=store.keyring, pseudonym=CHAT,
                         state_json="{}", now=moment, ttl=timedelta(minutes=30))
        await put_draft_attachment(session=session, keyring=store.keyring, pseudonym=CHAT,
                                   file=File({"mime": "image/png"}, b"png"), now=moment,
                                   ttl=timedelta(minutes=30))
        await record_messages(session=session, keyring=store.keyring, pseudonym=CHAT,
                              message_ids=[7], now=moment)
        await count_attempt(session=session, key=f"receipt:{CHAT}",
                            window=timedelta(minutes=15), now=moment)
        assert await claim_update(session=session, update_id=5551234, now=moment)
    async with store.transaction() as session:
        draft = await session.get(Draft, CHAT)
        (attachment,) = (await session.exec(select(DraftAttachment))).all()
        trace = await session.get(ChatTrace, CHAT)
        limit = await session.get(RateLimit, f"receipt:{CHAT}")
        update = await session.get(ProcessedUpdate, 5551234)
    assert draft is not None and trace is not None and limit is not None and update is not None
    minute = moment.replace(second=0, microsecond=0)
    assert draft.expires_at == attachment.expires_at == minute + timedelta(minutes=30)
    assert limit.window_start == minute
    assert update.seen_at == moment.replace(minute=0, second=0, microsecond=0)
    assert trace.expires_at == update.seen_at + DELETE_WINDOW + timedelta(hours=1)
