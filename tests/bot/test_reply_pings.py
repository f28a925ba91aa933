"""What the reporter sends from the follow-up menu reaches the focal point's own chat, in
process and on SQLite and PostgreSQL: a photo added to the case and a message each mark
it «respuesta nueva»; the linked focal point gets one content-free ping until they open
the case, then one again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.conversations import Conversations, Upload
from bot.i18n import translations
from bot.notifier import MESSAGES, deliver_due
from flows.conversation import build_flow
from flows.engine import Command, Text
from flows.municipalities import Catalog
from storage.reports import list_queue, read_report
from storage.store import Store
from storage.users import get_user_by_username, issue_link_code, link_chat
from tests.support.people import PHOTO, THREAT, Person
from tests.support.phone import Phone
from tests.support.places import TUMACO
from tests.support.staff import add_staff, private_key_of

REPORTER_CHAT = 7_200_000_731
STAFF_CHAT = 7_200_000_732
NOW = datetime(2026, 12, 2, 15, 40, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _marked(store: Store, user_id: str) -> list[bool]:
    async with store.transaction() as session:
        return [r.new_reply for r in await list_queue(session=session, user_id=user_id)]


async def test_a_photo_and_a_message_from_the_follow_up_ping_the_linked_focal_point_once(
    store: Store,
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="tumaco")
        assert user is not None
        code = await issue_link_code(session=session, user=user, now=NOW)
        assert await link_chat(session=session, keyring=store.keyring, code=code,
                               chat_id=STAFF_CHAT, now=NOW) is not None
    clock = Clock(NOW)
    reporter = Person(Conversations(store=store, flow=build_flow(Catalog.load()), clock=clock),
                      REPORTER_CHAT)
    await reporter.do(THREAT)
    receipt = reporter.receipt()
    phone = Phone()
    await deliver_due(store=store, bot=phone, now=clock.now)  # the new report's ping
    phone.sent.clear()
    ping = translations("es").gettext(MESSAGES["reporter_reply"])

    clock.now += timedelta(minutes=10)
    await reporter.do([Command("start"), "followup", Text(receipt), "reply", Upload(PHOTO)])
    assert any("el archivo se agregó a su caso" in str(r.text.msgid) for r in reporter.shown)
    await deliver_due(store=store, bot=phone, now=clock.now)
    assert phone.sent == [(STAFF_CHAT, ping)]
    assert ping == "Hay una respuesta nueva en un caso suyo. Ábralo en Somos."
    assert await _marked(store, staff.id) == [True]

    # A message on top of the photo, before anyone looked: no second ping.
    await reporter.do([Text("Y otra cosa: volvieron anoche.")])
    await deliver_due(store=store, bot=phone, now=clock.now)
    assert phone.sent == [(STAFF_CHAT, ping)]

    user_id, key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        (report,) = await list_queue(session=session, user_id=user_id)
        assert await read_report(session=session, user_id=user_id, private_key=key,
                                 report_id=report.id) is not None
    assert await _marked(store, staff.id) == [False]
    await reporter.do([Command("start"), "followup", Text(receipt), "reply",
                       Text("¿Recibieron la foto?")])
    await deliver_due(store=store, bot=phone, now=clock.now)
    assert phone.sent == [(STAFF_CHAT, ping)] * 2
    assert await _marked(store, staff.id) == [True]
