"""The ping of a reassigned case reaches the new assignee's linked chat, on SQLite and
PostgreSQL, and says nothing of the case: not its place, not its category."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import translations
from bot.notifier import MESSAGES, deliver_due
from storage.store import Store
from storage.triage import claim_report, open_case, reassign_report
from storage.users import get_user_by_username, issue_link_code, link_chat
from tests.support.phone import Phone
from tests.support.places import TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import add_staff, private_key_of

BETO_CHAT = 7_200_000_741
NOW = datetime(2026, 12, 2, 15, 40, tzinfo=UTC)


async def test_the_new_assignee_gets_a_ping_with_nothing_of_the_case(store: Store) -> None:
    await add_staff(store, "ana", municipalities=(TUMACO,))
    report_id = await submit(store, threat(TUMACO, category="threat.extortion",
                                           description="nos cobran vacuna"), now=NOW)
    await add_staff(store, "beto", municipalities=(TUMACO,))
    async with store.transaction() as session:
        beto = await get_user_by_username(session=session, username="beto")
        assert beto is not None
        code = await issue_link_code(session=session, user=beto, now=NOW)
        assert await link_chat(session=session, keyring=store.keyring, code=code,
                               chat_id=BETO_CHAT, now=NOW) is not None
    phone = Phone()
    await deliver_due(store=store, bot=phone, now=NOW)  # the new report's ping, to Ana
    assert phone.sent == []  # Ana has no linked chat; Beto did not receive the report

    user_id, key = await private_key_of(store, "ana")
    async with store.transaction() as session:
        ana = await get_user_by_username(session=session, username="ana")
        assert ana is not None
        opened = await open_case(session=session, user=ana, private_key=key,
                                 report_id=report_id)
        await claim_report(session=session, opened=opened, user_id=user_id, now=NOW)
        await reassign_report(session=session, keyring=store.keyring, opened=opened, user=ana,
                              username="beto", now=NOW)
    await deliver_due(store=store, bot=phone, now=NOW)
    assert phone.sent == [(BETO_CHAT, "Le asignaron un caso. Ábralo en Somos.")]
    assert translations("en").gettext(MESSAGES["case_assigned"]) == (
        "A case was assigned to you. Open it in Somos.")
