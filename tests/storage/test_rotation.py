"""Server-key rotation moves every server-sealed blob, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from storage.attachments import File, put_draft_attachment, read_draft_attachments
from storage.chats import record_messages, take_messages
from storage.crypto import DecryptionError
from storage.drafts import load_draft, save_draft
from storage.epochs import PEPPER_BYTES, epoch_id, epoch_start, find_epoch, open_epoch
from storage.keyfile import Keyring, sealed_key_id
from storage.models import DraftAttachment, Report, User
from storage.outbox import due_messages, enqueue
from storage.reports import NewReport, submit_report
from storage.rotation import census, count_sealed, reseal_all
from storage.store import Store
from storage.users import issue_link_code, link_chat, staff_chat_of, totp_secret_of
from tests.support.places import TUMACO
from tests.support.staff import add_staff

NOW = datetime(2026, 11, 28, 15, 42, 17, tzinfo=UTC)
CHAT = "c" * 64
TTL = timedelta(minutes=30)


async def fill(store: Store) -> tuple[str, str, str]:
    """One of everything sealed with the server key; returns (user id, secret, report id)."""
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    keyring = store.keyring
    async with store.transaction() as session:
        user = await session.get(User, staff.id)
        assert user is not None
        code = await issue_link_code(session=session, user=user, now=NOW)
        assert await link_chat(session=session, keyring=keyring, code=code, chat_id=5550001,
                               now=NOW)
        await save_draft(session=session, keyring=keyring, pseudonym=CHAT,
                         state_json='{"step": "threat.what"}', now=NOW, ttl=TTL)
        await put_draft_attachment(session=session, keyring=keyring, pseudonym=CHAT,
                                   file=File({"mime": "image/jpeg"}, b"\xff\xd8foto"),
                                   now=NOW, ttl=TTL)
        await record_messages(session=session, keyring=keyring, pseudonym=CHAT,
                              message_ids=[11, 12], now=NOW)
        await open_epoch(session=session, keyring=keyring, now=NOW)
        await enqueue(session=session, keyring=keyring, kind="reporter_news",
                      payload={"chat": 5550002}, now=NOW)
        submitted = await submit_report(
            session=session, keyring=keyring, argon2_params=store.argon2, now=NOW,
            report=NewReport(kind="threat", category="threat.death_threat",
                             municipality_code=TUMACO, urgency="normal",
                             answers={"description": "secreto"}),
            contact_chat_id=5550003,
        )
    return staff.id, staff.totp_secret, submitted.report_id


async def test_after_rotation_everything_opens_with_the_new_key_alone(store: Store) -> None:
    user_id, secret, report_id = await fill(store)
    old_id = store.keyring.current_server_key_id
    rotated = store.keyring.rotate_server_key()
    new_only = rotated.retire_server_keys(keep=set())
    assert set(new_only.server_keys) == {rotated.current_server_key_id}

    async with store.transaction() as session:
        before = await census(session=session)
        total = await count_sealed(session=session)
    assert before.key_ids() == {old_id} and before.total() == total >= 8
    # Without rotating, the new key alone opens nothing.
    async with store.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        with pytest.raises(DecryptionError):
            totp_secret_of(keyring=new_only, user=user)

    seen: list[int] = []
    async with store.transaction() as session:
        moved = await reseal_all(session=session, keyring=rotated, progress=seen.append)
    assert moved == total and sum(seen) == total
    async with store.transaction() as session:
        after = await census(session=session)
        # A second pass finds nothing left to move.
        assert await reseal_all(session=session, keyring=rotated) == 0
    assert after.key_ids() == {rotated.current_server_key_id} and after.total() == total

    await assert_everything_opens(store, new_only, user_id, secret, report_id)


async def assert_everything_opens(store: Store, keyring: Keyring, user_id: str, secret: str,
                                  report_id: str) -> None:
    async with store.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        assert totp_secret_of(keyring=keyring, user=user) == secret
        assert staff_chat_of(keyring=keyring, user=user) == 5550001
        assert await load_draft(session=session, keyring=keyring, pseudonym=CHAT,
                                now=NOW) == '{"step": "threat.what"}'
        report = (await session.exec(select(Report).where(col(Report.id) == report_id))).one()
        assert report.crypto_contact is not None  # sealed for the recipients: not moved
        pending = await due_messages(session=session, keyring=keyring, now=NOW)
        assert {"chat": 5550002} in [p.payload for p in pending]
        refs = [row.id for row in (await session.exec(select(DraftAttachment))).all()]
        files = await read_draft_attachments(session=session, keyring=keyring, pseudonym=CHAT,
                                             refs=refs)
        assert [f.data for f in files] == [b"\xff\xd8foto"]
        assert await take_messages(session=session, keyring=keyring, pseudonym=CHAT,
                                   now=NOW) == [12, 11]
        epoch = await find_epoch(session=session, keyring=keyring,
                                 epoch_id=epoch_id(epoch_start(NOW)))
        assert epoch is not None and len(epoch.pepper) == PEPPER_BYTES


async def test_a_tampered_blob_stops_the_rotation_and_changes_nothing(store: Store) -> None:
    user_id, _secret, _report_id = await fill(store)
    old_id = store.keyring.current_server_key_id
    async with store.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None and user.crypto_totp_secret is not None
        blob = bytearray(user.crypto_totp_secret)
        blob[-1] ^= 1
        user.crypto_totp_secret = bytes(blob)
        session.add(user)
    rotated = store.keyring.rotate_server_key()
    with pytest.raises(DecryptionError):
        async with store.transaction() as session:
            await reseal_all(session=session, keyring=rotated)
    async with store.transaction() as session:
        assert (await census(session=session)).key_ids() == {old_id}


def test_the_key_id_is_read_from_the_header_without_the_key() -> None:
    keyring = Keyring.generate()
    assert sealed_key_id(keyring.seal(b"x", b"aad")) == keyring.current_server_key_id
    with pytest.raises(DecryptionError):
        sealed_key_id(b"\x09garbage")
