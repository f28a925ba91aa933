"""Reassigning a taken case, on SQLite and PostgreSQL: the new assignee can read it (its key is
wrapped for them), works it, and sees who passed it in the history; the former assignee can
no longer move it; only the assignee or an admin passes it, and only to an active focal point
of its place (or one who reads it already) or an admin. Audited with ids; the new assignee
gets a ping with nothing of the case in it; the «respuesta nueva» mark waits for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from storage.followup import open_with_receipt
from storage.models import AuditEntry, Report, ReportKey
from storage.outbox import due_messages, mark_sent
from storage.reporter_side import reporter_replies
from storage.reports import Opened, read_report, submit_report
from storage.store import Store
from storage.triage import (
    TriageError,
    change_status,
    claim_report,
    list_events,
    open_case,
    reassign_candidates,
    reassign_report,
    require_assignee,
    share_report,
)
from storage.users import disable_user, get_user_by_username
from tests.support.places import CACERES, NARINO, TUMACO
from tests.support.reports import threat
from tests.support.staff import add_staff, private_key_of

NOW = datetime(2026, 12, 2, 15, tzinfo=UTC)


async def _submit(store: Store) -> tuple[str, str]:
    async with store.transaction() as session:
        submitted = await submit_report(
            session=session, keyring=store.keyring, argon2_params=store.argon2,
            now=NOW - timedelta(hours=2), report=threat(TUMACO, description="panfleto"))
    return submitted.report_id, submitted.receipt_code


async def _claim(store: Store, username: str, report_id: str) -> None:
    user_id, key = await private_key_of(store, username)
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username=username)
        assert user is not None
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report_id)
        await claim_report(session=session, opened=opened, user_id=user_id, now=NOW)


async def _reassign(store: Store, username: str, report_id: str, to: str) -> Report:
    _, key = await private_key_of(store, username)
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username=username)
        assert user is not None
        opened = await open_case(session=session, user=user, private_key=key,
                                 report_id=report_id)
        return await reassign_report(session=session, keyring=store.keyring, opened=opened,
                                     user=user, username=to, now=NOW + timedelta(minutes=5))


async def _refusal(store: Store, username: str, report_id: str, to: str) -> str:
    with pytest.raises(TriageError) as refused:
        await _reassign(store, username, report_id, to)
    return refused.value.code


async def _pings(store: Store) -> list[tuple[str, dict[str, object]]]:
    async with store.transaction() as session:
        due = await due_messages(session=session, keyring=store.keyring,
                                 now=NOW + timedelta(days=1))
        for pending in due:
            mark_sent(session=session, row=pending.row, now=NOW)
    return [(p.row.kind, dict(p.payload)) for p in due]


async def _history(store: Store, username: str, report_id: str) -> list[dict[str, object]]:
    user_id, key = await private_key_of(store, username)
    async with store.transaction() as session:
        found = await read_report(session=session, user_id=user_id, private_key=key,
                                  report_id=report_id)
        assert found is not None, f"{username} cannot read the case"
        events = await list_events(session=session, opened=Opened(found.report, found.data_key),
                                   kinds=("assignment",))
    return events


async def test_the_new_assignee_reads_and_works_the_case_and_the_former_one_cannot_move_it(
    store: Store,
) -> None:
    ana = await add_staff(store, "ana", municipalities=(TUMACO,))
    report_id, _ = await _submit(store)
    # Beto joins Tumaco after the report: he cannot read it yet.
    beto = await add_staff(store, "beto", municipalities=(TUMACO,))
    await _claim(store, "ana", report_id)
    await _pings(store)

    report = await _reassign(store, "ana", report_id, "beto")
    assert report.assigned_to == beto.id and report.status == "in_review"

    # The history, read by Beto with his own key: who took it, who passed it to whom.
    history = await _history(store, "beto", report_id)
    assert [(e["actor"], e["assignee"], e.get("previous")) for e in history] == [
        (ana.id, ana.id, None), (ana.id, beto.id, ana.id)]
    # Who from and who to are under the report's key, not in the clear row.
    async with store.transaction() as session:
        keys = (await session.exec(select(ReportKey.recipient_id).where(
            col(ReportKey.report_id) == report_id))).all()
        audit = (await session.exec(select(AuditEntry).where(
            col(AuditEntry.action) == "report.reassigned"))).all()
    assert beto.id in keys
    assert [(a.actor, a.report_id, json.loads(a.detail)) for a in audit] == [
        (ana.id, report_id, {"from": ana.id, "to": beto.id, "key_wrapped": True})]

    # One ping to Beto, with his id and nothing else: no place, no category, no text.
    assert await _pings(store) == [("case_assigned", {"user_id": beto.id})]

    # Beto moves it; Ana no longer can.
    _, beto_key = await private_key_of(store, "beto")
    _, ana_key = await private_key_of(store, "ana")
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="beto")
        assert user is not None
        opened = await open_case(session=session, user=user, private_key=beto_key,
                                 report_id=report_id)
        require_assignee(user=user, opened=opened)
        await change_status(session=session, opened=opened, user_id=user.id,
                            status="follow_up", now=NOW + timedelta(minutes=10))
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="ana")
        assert user is not None
        opened = await open_case(session=session, user=user, private_key=ana_key,
                                 report_id=report_id)
        with pytest.raises(TriageError) as refused:
            require_assignee(user=user, opened=opened)
    assert refused.value.code == "assigned-to-other"
    # Nor pass it on again.
    assert await _refusal(store, "ana", report_id, "ana") == "assigned-to-other"


async def test_only_the_assignee_or_an_admin_passes_a_case_and_only_to_who_may_work_it(
    store: Store,
) -> None:
    await add_staff(store, "ana", municipalities=(TUMACO,))
    await add_staff(store, "dora", municipalities=(TUMACO,))
    await add_staff(store, "narino", departments=(NARINO,))
    await add_staff(store, "caceres", municipalities=(CACERES,))
    await add_staff(store, "analista", role="analyst")
    await add_staff(store, "ida", municipalities=(TUMACO,))
    await add_staff(store, "jefa", role="admin")
    report_id, _ = await _submit(store)
    async with store.transaction() as session:
        ida = await get_user_by_username(session=session, username="ida")
        assert ida is not None
        await disable_user(session=session, user=ida)

    # Nobody took it yet: there is nothing to pass.
    assert await _refusal(store, "dora", report_id, "ana") == "not-claimed"
    await _claim(store, "ana", report_id)
    # The admin reads what reached her (here, shared by Ana).
    _, ana_key = await private_key_of(store, "ana")
    async with store.transaction() as session:
        ana = await get_user_by_username(session=session, username="ana")
        assert ana is not None
        opened = await open_case(session=session, user=ana, private_key=ana_key,
                                 report_id=report_id)
        await share_report(session=session, keyring=store.keyring, opened=opened,
                           user_id=ana.id, username="jefa", now=NOW)

    async with store.transaction() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        names = [u.username for u in await reassign_candidates(session=session, report=report)]
    # Focal points of Tumaco and of Nariño, and admins; never Ana herself, the other area,
    # the analyst or the disabled account.
    assert "dora" in names and "narino" in names and "jefa" in names
    assert not {"ana", "caceres", "analista", "ida"} & set(names)

    # A colleague who does not hold the case cannot pass it, not even to herself.
    assert await _refusal(store, "dora", report_id, "dora") == "assigned-to-other"
    for outsider in ("caceres", "analista", "ida", "nadie"):
        assert await _refusal(store, "ana", report_id, outsider) == "bad-assignee"
    assert await _refusal(store, "ana", report_id, "  ") == "bad-assignee"
    assert await _refusal(store, "ana", report_id, "ana") == "same-assignee"
    async with store.transaction() as session:
        report = await session.get(Report, report_id)
        assert report is not None and report.assigned_to is not None
        audit = (await session.exec(select(AuditEntry).where(
            col(AuditEntry.action) == "report.reassigned"))).all()
    assert audit == []

    # An admin passes a case someone else holds; the admin may also take it over.
    await _reassign(store, "jefa", report_id, "narino")
    await _reassign(store, "jefa", report_id, "jefa")
    history = await _history(store, "jefa", report_id)
    users = {}
    async with store.transaction() as session:
        for name in ("ana", "narino", "jefa"):
            found = await get_user_by_username(session=session, username=name)
            assert found is not None
            users[name] = found.id
    assert [(e["actor"], e.get("previous"), e["assignee"]) for e in history][1:] == [
        (users["jefa"], users["ana"], users["narino"]),
        (users["jefa"], users["narino"], users["jefa"])]
    # Taking it over pings nobody: the admin is the one who did it.
    assert [(kind, payload) for kind, payload in await _pings(store)
            if kind == "case_assigned"] == [("case_assigned", {"user_id": users["narino"]})]


async def test_the_new_reply_mark_waits_for_the_new_assignee(store: Store) -> None:
    await add_staff(store, "ana", municipalities=(TUMACO,))
    report_id, code = await _submit(store)
    await add_staff(store, "beto", municipalities=(TUMACO,))
    await _claim(store, "ana", report_id)
    async with store.transaction() as session:
        opened = await open_with_receipt(session=session, keyring=store.keyring, code=code)
        assert opened is not None
        await reporter_replies(session=session, keyring=store.keyring, opened=opened,
                               text="Necesitamos salir esta noche.", now=NOW)
    await _reassign(store, "ana", report_id, "beto")

    async def marked() -> bool:
        async with store.transaction() as session:
            report = await session.get(Report, report_id)
            assert report is not None
            return report.new_reply

    # Ana reading it no longer answers for the case; Beto opening it does.
    await _history(store, "ana", report_id)
    assert await marked()
    await _history(store, "beto", report_id)
    assert not await marked()


async def test_once_the_assignee_left_a_colleague_who_reads_the_case_takes_it_over(
    store: Store,
) -> None:
    await add_staff(store, "ana", municipalities=(TUMACO,))
    dora = await add_staff(store, "dora", municipalities=(TUMACO,))
    report_id, _ = await _submit(store)
    await _claim(store, "ana", report_id)
    assert await _refusal(store, "dora", report_id, "dora") == "assigned-to-other"
    async with store.transaction() as session:
        ana = await get_user_by_username(session=session, username="ana")
        assert ana is not None
        await disable_user(session=session, user=ana)
    await _pings(store)

    report = await _reassign(store, "dora", report_id, "dora")
    assert report.assigned_to == dora.id
    (_, taken_over) = await _history(store, "dora", report_id)
    assert (taken_over["actor"], taken_over["previous"], taken_over["assignee"]) == (
        dora.id, ana.id, dora.id)
    # Nobody to tell: Dora did it herself.
    assert await _pings(store) == []
