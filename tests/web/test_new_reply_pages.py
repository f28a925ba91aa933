"""«Respuesta nueva» on the queue's card and in the API, and the thread on the case page,
on both databases: the mark is there until the case is opened; the messages read in the
order they were written, each with its day, the reporter's as the hour it fell in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import FastAPI

from storage.followup import open_with_receipt
from storage.reporter_side import reporter_replies
from storage.reports import submit_report
from storage.store import Store
from storage.triage import message_reporter, open_case
from storage.users import get_user_by_username
from tests.support.api import client_for, login
from tests.support.places import TUMACO
from tests.support.reports import threat
from tests.support.staff import add_staff, private_key_of
from tests.support.web_client import Browser, queue_card

# 2 December, 10:05 in Tumaco (UTC-5).
ARRIVED = datetime(2026, 12, 2, 15, 5, tzinfo=UTC)
REPLY = "Estamos escondidos en la casa de una vecina."
BADGE = "Respuesta nueva"


async def _report(store: Store, urgency: str) -> tuple[str, str]:
    async with store.transaction() as session:
        submitted = await submit_report(
            session=session, keyring=store.keyring, argon2_params=store.argon2, now=ARRIVED,
            report=threat(TUMACO, urgency=urgency, description="Llegó un panfleto"),
        )
    return submitted.report_id, submitted.receipt_code


async def _team_writes(store: Store, report_id: str, text: str, at: datetime) -> None:
    user_id, key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="tumaco")
        assert user is not None
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report_id)
        await message_reporter(session=session, keyring=store.keyring, opened=opened,
                               user_id=user_id, text=text, now=at)


async def _reporter_writes(store: Store, code: str, text: str, at: datetime) -> None:
    async with store.transaction() as session:
        opened = await open_with_receipt(session=session, keyring=store.keyring, code=code)
        assert opened is not None
        await reporter_replies(session=session, keyring=store.keyring, opened=opened,
                               text=text, now=at)


async def test_the_card_and_the_api_carry_the_mark_until_the_case_page_is_opened(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    urgent, _ = await _report(store, "immediate")
    replied, code = await _report(store, "normal")
    await _team_writes(store, replied, "¿Están en un lugar seguro?",
                       datetime(2026, 12, 2, 15, 20, tzinfo=UTC))
    await _reporter_writes(store, code, REPLY, datetime(2026, 12, 2, 15, 40, tzinfo=UTC))
    await _team_writes(store, replied, "Vamos para allá.",
                       datetime(2026, 12, 2, 15, 50, tzinfo=UTC))

    assert (await browser.sign_in(staff.username, staff.password, staff.otp())).status_code \
        == 303
    queue = (await browser.get("/bandeja")).text
    assert BADGE in queue_card(queue, replied) and BADGE not in queue_card(queue, urgent)
    # Above the more urgent case, and never a word of the reply on the card.
    assert queue.index(f'data-report="{replied}"') < queue.index(f'data-report="{urgent}"')
    assert "escondidos" not in queue
    async with client_for(app) as api:
        headers = await login(api, staff)
        items = (await api.get("/api/v1/reports", headers=headers)).json()["items"]
        assert [(i["id"], i["new_reply"]) for i in items] == [(replied, True), (urgent, False)]
        schema = (await api.get("/openapi.json")).json()["components"]["schemas"]
        assert "«Respuesta nueva»" in schema["ReportItem"]["properties"]["new_reply"]["description"]

    page = (await browser.get(f"/reportes/{replied}")).text
    thread = page[page.index("<h2>Mensajes</h2>"):]
    thread = thread[:thread.index("</section>")]
    shown = re.findall(r'<p class="muted">([^<]*)</p>\s*<p>([^<]*)</p>', thread)
    assert [(when.split("·")[-1].strip(), text) for when, text in shown] == [
        ("2 dic 2026, 10:20", "¿Están en un lugar seguro?"),
        # Kept to its hour: shown as that hour, in its place among the team's messages.
        ("2 dic 2026, 10:00–11:00", REPLY),
        ("2 dic 2026, 10:50", "Vamos para allá."),
    ], thread

    queue = (await browser.get("/bandeja")).text
    assert BADGE not in queue
    assert queue.index(f'data-report="{urgent}"') < queue.index(f'data-report="{replied}"')
    async with client_for(app) as api:
        items = (await api.get("/api/v1/reports", headers=headers)).json()["items"]
        assert [(i["id"], i["new_reply"]) for i in items] == [(urgent, False), (replied, False)]


async def test_reading_the_case_over_the_api_clears_the_mark_too(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id, code = await _report(store, "normal")
    await _reporter_writes(store, code, REPLY, datetime(2026, 12, 2, 15, 40, tzinfo=UTC))
    async with client_for(app) as api:
        headers = await login(api, staff)
        (item,) = (await api.get("/api/v1/reports", headers=headers)).json()["items"]
        assert item["new_reply"] is True
        detail = (await api.get(f"/api/v1/reports/{report_id}", headers=headers)).json()
        assert [m["text"] for m in detail["messages"]] == [REPLY]
        (item,) = (await api.get("/api/v1/reports", headers=headers)).json()["items"]
        assert item["new_reply"] is False
    assert (await browser.sign_in(staff.username, staff.password, staff.otp())).status_code \
        == 303
    assert BADGE not in (await browser.get("/bandeja")).text
