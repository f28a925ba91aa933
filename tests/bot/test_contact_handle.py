"""The thief with the database and the key file looks for a consenting reporter's chat.

A reporter who says yes to "may we tell you here when there is news" leaves their chat
id with the report. It is encrypted for the report's recipients (inside the envelope),
so the key file alone opens none: only a focal point's unlocked session does, when
they write to the reporter, and the id rides in the outbox only until the ping is sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.conversations import Conversations
from bot.i18n import translations
from bot.notifier import MESSAGES, deliver_due
from flows.conversation import build_flow
from flows.municipalities import Catalog
from storage.crypto import DecryptionError
from storage.models import OutboxMessage, Report, User
from storage.rotation import SEALED_COLUMNS
from storage.store import Store
from storage.triage import change_status, claim_report, message_reporter, open_case
from storage.users import unlock_private_key
from tests.support.people import THREAT, Person
from tests.support.phone import Phone
from tests.support.places import TUMACO
from tests.support.staff import add_staff

CHAT = 7_200_000_417


async def _everything_the_key_file_opens(store: Store) -> list[bytes]:
    opened = []
    async with store.transaction() as session:
        for sealed in SEALED_COLUMNS:
            for row in (await session.exec(select(sealed.model))).all():
                blob = getattr(row, sealed.column)
                if blob is not None:
                    opened.append(store.keyring.open(blob, sealed.aad(row)))
    return opened


async def test_the_key_file_alone_opens_no_reporter_chat(store: Store) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    reporter = Person(Conversations(store=store, flow=build_flow(Catalog.load())), CHAT)
    await reporter.do(THREAT)  # says yes to news

    async with store.transaction() as session:
        report = (await session.exec(select(Report))).one()
        assert report.crypto_contact is not None
        with pytest.raises(DecryptionError):  # not one of the server key's blobs
            store.keyring.open(report.crypto_contact, b"somos/contact\x00" + report.id.encode())
    assert not any(str(CHAT).encode() in plain
                   for plain in await _everything_the_key_file_opens(store))

    now = datetime.now(UTC)
    async with store.transaction() as session:
        user = await session.get(User, staff.id)
        assert user is not None
        private_key = await unlock_private_key(user=user, password=staff.password)
        assert private_key is not None
        opened = await open_case(session=session, user=user, private_key=private_key,
                                 report_id=report.id)
        await claim_report(session=session, opened=opened, user_id=user.id, now=now)
        await message_reporter(session=session, keyring=store.keyring, opened=opened,
                               user_id=user.id, text="¿Podemos hablar mañana?", now=now)

    phone = Phone()
    assert await deliver_due(store=store, bot=phone, now=now) >= 1
    news = translations("es").gettext(MESSAGES["reporter_news"])
    assert (CHAT, news) in phone.sent

    # Sent: the outbox forgot it; the key file opens nothing that names the chat.
    async with store.transaction() as session:
        settled = (await session.exec(select(OutboxMessage).where(
            col(OutboxMessage.kind) == "reporter_news"))).one()
        assert settled.sent_at is not None and settled.crypto_payload is None
    assert not any(str(CHAT).encode() in plain
                   for plain in await _everything_the_key_file_opens(store))

    async with store.transaction() as session:
        user = await session.get(User, staff.id)
        assert user is not None
        opened = await open_case(session=session, user=user, private_key=private_key,
                                 report_id=report.id)
        for status in ("in_review", "closed"):
            if opened.report.status != status:
                await change_status(session=session, opened=opened, user_id=user.id,
                                    status=status, entity=None, reference=None,
                                    reason="attended" if status == "closed" else None, now=now)
    async with store.transaction() as session:
        closed = await session.get(Report, report.id)
        assert closed is not None and closed.crypto_contact is None
