"""Notifications are written with their cause; overdue reports are escalated once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from api.demo import seed
from storage.aggregates import Query, Scope, count_reports
from storage.escalation import escalate_overdue
from storage.models import OutboxMessage, Report, Rollup
from storage.outbox import due_messages, mark_failed, mark_sent, pending_of_kind
from storage.recount import compare_rollups, rebuild_rollups
from storage.reports import NewReport, submit_report
from storage.retention import purge_closed_contents
from storage.store import Store
from storage.users import get_user_by_username, issue_link_code, link_chat, staff_chat_of
from tests.support.places import TUMACO
from tests.support.staff import add_staff

NOW = datetime(2026, 11, 28, 9, 15, tzinfo=UTC)


def report(urgency: str) -> NewReport:
    return NewReport(kind="threat", category="threat.attack", municipality_code=TUMACO,
                     urgency=urgency, answers={"description": "x"})


async def test_immediate_report_writes_alerts_in_its_own_transaction(store: Store) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    async with store.transaction() as session:
        await submit_report(session=session, keyring=store.keyring, report=report("immediate"),
                            now=NOW, argon2_params=store.argon2)
        alerts = await pending_of_kind(session=session, kind="immediate_alert")
        assert len(alerts) == 1
        await session.rollback()
    async with store.transaction() as session:
        assert await pending_of_kind(session=session, kind="immediate_alert") == []
        await submit_report(session=session, keyring=store.keyring, report=report("immediate"),
                            now=NOW, argon2_params=store.argon2)
    async with store.transaction() as session:
        (due,) = await due_messages(session=session, keyring=store.keyring, now=NOW)
        assert due.payload == {"user_id": tumaco.id, "municipality": TUMACO}
        assert tumaco.id.encode() not in due.row.crypto_payload
        mark_failed(session=session, row=due.row, now=NOW, error="TimedOut")
    async with store.transaction() as session:
        assert await due_messages(session=session, keyring=store.keyring, now=NOW) == []
        (retry,) = await due_messages(session=session, keyring=store.keyring,
                                      now=NOW + timedelta(seconds=31))
        mark_sent(session=session, row=retry.row, now=NOW + timedelta(seconds=31))
    async with store.transaction() as session:
        # Once sent, the row keeps only hours: exact times would date the report.
        (settled,) = (await session.exec(select(OutboxMessage))).all()
        hour = NOW.replace(minute=0)
        assert (settled.created_at, settled.sent_at, settled.next_attempt_at) == (hour,) * 3
    async with store.transaction() as session:
        assert await due_messages(session=session, keyring=store.keyring,
                                  now=NOW + timedelta(days=1)) == []


async def test_overdue_report_is_escalated_once(store: Store) -> None:
    await add_staff(store, "admin", role="admin")
    async with store.transaction() as session:
        await submit_report(session=session, keyring=store.keyring, report=report("high"),
                            now=NOW, argon2_params=store.argon2)
    async with store.transaction() as session:
        assert await escalate_overdue(session=session, keyring=store.keyring,
                                      now=NOW + timedelta(hours=2)) == 0
        assert await escalate_overdue(session=session, keyring=store.keyring,
                                      now=NOW + timedelta(hours=26)) == 1
        assert await escalate_overdue(session=session, keyring=store.keyring,
                                      now=NOW + timedelta(hours=30)) == 0
        assert len(await pending_of_kind(session=session, kind="overdue")) == 1


async def test_a_backlog_is_escalated_in_short_batches_oldest_first(store: Store) -> None:
    from api.background import escalate

    await add_staff(store, "admin", role="admin")
    async with store.transaction() as session:
        for hours in range(5):
            await submit_report(session=session, keyring=store.keyring, report=report("high"),
                                now=NOW + timedelta(hours=hours), argon2_params=store.argon2)
    later = NOW + timedelta(hours=40)
    async with store.transaction() as session:
        first = await escalate_overdue(session=session, keyring=store.keyring, now=later,
                                       limit=2)
        escalated = (await session.exec(select(Report).where(
            col(Report.escalated_at).is_not(None)))).all()
    assert first == 2
    assert sorted(r.due_at for r in escalated) == sorted(
        await _due_dates(store))[:2]
    await escalate(store, now=later)  # the background pass takes the rest, batch after batch
    async with store.transaction() as session:
        # One ping per batch for the admin, naming every escalated report's place.
        pings = [p for p in await due_messages(session=session, keyring=store.keyring,
                                               now=later) if p.row.kind == "overdue"]
        assert sorted(len(p.payload["municipalities"]) for p in pings) == [2, 3]
        assert await escalate_overdue(session=session, keyring=store.keyring,
                                      now=later) == 0


async def _due_dates(store: Store) -> list[datetime]:
    async with store.transaction() as session:
        return list((await session.exec(select(Report.due_at))).all())


async def test_a_link_code_links_one_chat_once(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="tumaco")
        assert user is not None
        code = await issue_link_code(session=session, user=user, now=NOW)
        linked = await link_chat(session=session, keyring=store.keyring, code=code.lower(),
                                 chat_id=424242, now=NOW + timedelta(minutes=1))
        assert linked is not None and staff_chat_of(keyring=store.keyring, user=linked) == 424242
        assert await link_chat(session=session, keyring=store.keyring, code=code,
                               chat_id=1, now=NOW) is None
        late = await issue_link_code(session=session, user=user, now=NOW)
        assert await link_chat(session=session, keyring=store.keyring, code=late, chat_id=1,
                               now=NOW + timedelta(minutes=16)) is None


async def test_rollups_equal_a_recount_and_survive_the_retention_purge(store: Store) -> None:
    await seed(store=store, count=60, departments=("52",), seed_value=5, now=NOW)
    async with store.transaction() as session:
        assert await compare_rollups(session=session) == []
        before = await count_reports(session=session, query=Query(group_by=("municipality",)))
        for report in (await session.exec(select(Report))).all():
            report.status = "closed"
            session.add(report)
    async with store.transaction() as session:
        purged = await purge_closed_contents(session=session, older_than=NOW + timedelta(days=1),
                                      now=NOW + timedelta(days=400))
        assert purged == 60
    async with store.transaction() as session:
        after = await count_reports(session=session, query=Query(group_by=("municipality",)))
        assert after == before and await compare_rollups(session=session) == []
        assert all(r.crypto_payload is None for r in (await session.exec(select(Report))).all())
        row = (await session.exec(select(Rollup))).first()
        assert row is not None
        row.count += 7
        session.add(row)
    async with store.transaction() as session:
        (difference,) = await rebuild_rollups(session=session)
        assert difference.stored == difference.recounted + 7
    async with store.transaction() as session:
        assert await compare_rollups(session=session) == []


async def test_counts_group_in_the_database_by_quarter_year_and_scope(store: Store) -> None:
    await seed(store=store, count=80, departments=("52", "19"), seed_value=2, now=NOW)
    async with store.transaction() as session:
        by_month = await count_reports(session=session, query=Query(group_by=("month",)))
        by_quarter = await count_reports(session=session, query=Query(group_by=("quarter",)))
        by_year = await count_reports(session=session, query=Query(group_by=("year", "kind")))
        narino = await count_reports(session=session, query=Query(
            group_by=("department",), scope=Scope(departments=frozenset({"52"}))))
    assert sum(by_month.values()) == sum(by_quarter.values()) == sum(by_year.values()) == 80
    for (month,), count in by_month.items():
        quarter = f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}"
        assert by_quarter[(quarter,)] >= count
    assert all(len(year) == 4 for year, _kind in by_year)
    assert list(narino) == [("52",)]
