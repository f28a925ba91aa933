"""Early warnings in the database (SQLite and PostgreSQL): a rise in Tumaco raises one alert,
audited, once; its focal point's linked chat gets a ping that names nothing; the alert is
acknowledged with a sealed note by its area only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.notifier import deliver_due
from storage.alerts import AlertError, acknowledge, alerts_for, alerts_in_period, raise_alerts
from storage.early_warning import Rule
from storage.models import Alert, AuditEntry, OutboxMessage, User
from storage.outbox import due_messages
from storage.reports import NewReport, Submission, submit_reports
from storage.routing import recipients_for
from storage.store import Store
from storage.users import get_user_by_username, issue_link_code, link_chat
from tests.support.phone import Phone
from tests.support.places import CACERES, TUMACO
from tests.support.staff import add_staff

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)
WINDOW_START = datetime(2026, 6, 1, tzinfo=UTC)
BASELINE_START = WINDOW_START - timedelta(days=14 * 6)
TUMACO_CHAT = 7_300_000_001
CACERES_CHAT = 7_300_000_002
RULE = Rule()


async def reports_at(store: Store, municipality: str, times: Sequence[datetime],
                     category: str = "threat.surveillance") -> None:
    """Threat reports of `municipality` submitted at these times, as the bot would."""
    async with store.transaction() as session:
        recipients = await recipients_for(session=session, municipality_code=municipality,
                                          kind="threat", category=category, urgency="normal")
        report = NewReport(kind="threat", category=category, municipality_code=municipality,
                           urgency="normal", answers={"description": "x"})
        await submit_reports(session=session, keyring=store.keyring, argon2_params=store.argon2,
                             notify=False, submissions=[
                                 Submission(report=report, now=when, recipients=recipients)
                                 for when in times])


def spread(start: datetime, count: int, days: int) -> list[datetime]:
    return [start + timedelta(days=days * i / count, hours=3) for i in range(count)]


async def linked(store: Store, username: str, chat: int, place: str) -> User:
    await add_staff(store, username, municipalities=(place,))
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username=username)
        assert user is not None
        code = await issue_link_code(session=session, user=user, now=NOW)
        assert await link_chat(session=session, keyring=store.keyring, code=code, chat_id=chat,
                               now=NOW) is not None
    return user


@pytest.fixture
async def risen(store: Store) -> Store:
    """Tumaco: two reports a fortnight for 12 weeks, then 14 in the last two; Cáceres steady."""
    await reports_at(store, TUMACO, spread(BASELINE_START, 12, 84))
    await reports_at(store, TUMACO, spread(WINDOW_START, 14, 14))
    await reports_at(store, CACERES, spread(BASELINE_START, 12, 84))
    await reports_at(store, CACERES, spread(WINDOW_START, 2, 14))
    return store


async def run(store: Store, now: datetime = NOW) -> list[Alert]:
    async with store.transaction() as session:
        return await raise_alerts(session=session, keyring=store.keyring, now=now, rule=RULE)


async def test_a_rise_raises_one_alert_and_pings_only_its_area_without_content(
    risen: Store,
) -> None:
    store = risen
    await linked(store, "tumaco", TUMACO_CHAT, TUMACO)
    await linked(store, "caceres", CACERES_CHAT, CACERES)
    raised = await run(store)
    assert [(a.municipality_code, a.kind, a.category, a.observed, a.baseline)
            for a in raised] == [(TUMACO, "threat", None, 14, 12)]
    assert (raised[0].window_start, raised[0].window_end) == (WINDOW_START, WINDOW_START
                                                              + timedelta(days=14))
    async with store.transaction() as session:
        audited = (await session.exec(select(AuditEntry).where(
            col(AuditEntry.action) == "alert.raised"))).all()
        assert [entry.detail for entry in audited] == [f'{{"alert":"{raised[0].id}"}}']
        pending = await due_messages(session=session, keyring=store.keyring, now=NOW)
        tumaco = await get_user_by_username(session=session, username="tumaco")
        assert tumaco is not None
        # The sealed payload names the person to tell, nothing of the alert.
        assert [(p.row.kind, dict(p.payload)) for p in pending] == [
            ("early_warning", {"user_id": tumaco.id})]
    phone = Phone()
    await deliver_due(store=store, bot=phone, now=NOW)
    assert phone.sent == [
        (TUMACO_CHAT, "Hay una alerta temprana nueva en su zona. Ábrala en Somos.")]
    text = phone.sent[0][1]
    assert not any(character.isdigit() for character in text)
    assert "Tumaco" not in text and "amenaza" not in text.lower()


async def test_the_same_rise_is_not_raised_again(risen: Store) -> None:
    await add_staff(risen, "tumaco", municipalities=(TUMACO,))
    assert len(await run(risen)) == 1
    assert await run(risen) == []
    assert await run(risen, NOW + timedelta(days=1)) == []
    async with risen.transaction() as session:
        assert len((await session.exec(select(OutboxMessage))).all()) == 1


async def test_without_a_past_to_compare_nothing_is_raised(store: Store) -> None:
    """A new installation's first reports are not a rise: every place would look like one."""
    await reports_at(store, TUMACO, spread(WINDOW_START, 14, 14))
    assert await run(store) == []


async def test_an_alert_is_acknowledged_once_by_its_area_with_a_sealed_note(
    risen: Store,
) -> None:
    store = risen
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    await add_staff(store, "caceres", municipalities=(CACERES,))
    await add_staff(store, "analista", role="analyst")
    alert_id = (await run(store))[0].id
    note = "Hablamos con la Personería; reunión el martes."
    async with store.transaction() as session:
        people = {name: await get_user_by_username(session=session, username=name)
                  for name in ("tumaco", "caceres", "analista")}
        for outsider in ("caceres", "analista"):
            user = people[outsider]
            assert user is not None
            with pytest.raises(AlertError, match="not-found"):
                await acknowledge(session=session, keyring=store.keyring, user=user,
                                  alert_id=alert_id, note="no", now=NOW, k=5)
            assert all(view.exact is False for view in await alerts_for(
                session=session, keyring=store.keyring, user=user, k=5))
        tumaco = people["tumaco"]
        assert tumaco is not None
        done = await acknowledge(session=session, keyring=store.keyring, user=tumaco,
                                 alert_id=alert_id, note=note, now=NOW, k=5)
        assert (done.note, done.acknowledged_by, done.acknowledged_at) == (note, "tumaco", NOW)
        with pytest.raises(AlertError, match="acknowledged"):
            await acknowledge(session=session, keyring=store.keyring, user=tumaco,
                              alert_id=alert_id, note="otra", now=NOW, k=5)
        row = await session.get(Alert, alert_id)
        assert row is not None and row.crypto_note is not None
        assert note.encode() not in row.crypto_note
        actions = (await session.exec(select(AuditEntry.action, AuditEntry.actor))).all()
        assert ("alert.acknowledged", tumaco.id) in actions
        assert [a.id for a in await alerts_in_period(
            session=session, municipality_code=TUMACO, start=WINDOW_START - timedelta(days=30),
            end=WINDOW_START + timedelta(days=1))] == [alert_id]
        assert await alerts_in_period(session=session, municipality_code=CACERES,
                                      start=BASELINE_START, end=NOW) == []
