"""Submitting, routing, reading and tampering with reports, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from storage.audit import append_audit, flush_pending_audit, verify_audit_chain
from storage.crypto import DEFAULT_ARGON2, Argon2Params, DecryptionError
from storage.models import AuditEntry, Report, ReportKey, Rollup
from storage.receipts import RECEIPT_ARGON2
from storage.reports import (
    NewReport,
    QueueFilter,
    find_by_receipt,
    list_queue,
    read_report,
    submit_report,
)
from storage.routing import create_rule, list_rules, recipients_for, remove_rule
from storage.store import Store
from storage.users import get_user_by_username, unlock_private_key
from tests.support.places import CACERES, TUMACO
from tests.support.staff import PASSWORD, add_staff, private_key_of

NOW = datetime(2026, 11, 28, 15, 42, 17, tzinfo=UTC)


def threat(municipality: str = TUMACO, urgency: str = "normal", text: str = "secreto") -> NewReport:
    return NewReport(
        kind="threat", category="threat.death_threat", municipality_code=municipality,
        urgency=urgency, answers={"description": text, "target": "target.self"},
    )


async def submit(store: Store, report: NewReport, now: datetime = NOW) -> str:
    async with store.transaction() as session:
        submitted = await submit_report(
            session=session, keyring=store.keyring, report=report, now=now,
            argon2_params=store.argon2,
        )
    assert len(submitted.receipt_code) == 16 and submitted.receipt_code.isdigit()
    return submitted.report_id


async def test_focal_point_of_the_municipality_reads_the_report(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await submit(store, threat(text="Llegó un panfleto a la vereda"))
    user_id, key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        found = await read_report(
            session=session, user_id=user_id, private_key=key, report_id=report_id
        )
    assert found is not None
    assert found.content["answers"]["description"] == "Llegó un panfleto a la vereda"
    assert found.report.municipality_code == TUMACO
    # Every read of decrypted content leaves its trace, at once and to the second.
    async with store.transaction() as session:
        reads = (await session.exec(select(AuditEntry).where(
            col(AuditEntry.action) == "report.read"))).all()
    assert [(e.actor, e.report_id) for e in reads] == [(user_id, report_id)]


async def test_clear_columns_are_coarse(store: Store) -> None:
    report_id = await submit(store, threat(urgency="immediate"))
    async with store.transaction() as session:
        report = await session.get(Report, report_id)
    assert report is not None
    assert report.created_hour == datetime(2026, 11, 28, 15, tzinfo=UTC)
    assert report.due_at == datetime(2026, 11, 28, 17, tzinfo=UTC)
    assert report.department_code == "52"


async def test_focal_point_of_another_municipality_gets_nothing(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    await add_staff(store, "caceres", municipalities=(CACERES,))
    report_id = await submit(store, threat())
    user_id, key = await private_key_of(store, "caceres")
    async with store.transaction() as session:
        assert await read_report(
            session=session, user_id=user_id, private_key=key, report_id=report_id
        ) is None
        assert await list_queue(session=session, user_id=user_id) == []


async def test_department_focal_point_receives_and_admin_is_the_last_fallback(
    store: Store,
) -> None:
    admin = await add_staff(store, "admin", role="admin")
    narino = await add_staff(store, "narino", departments=("52",))
    async with store.transaction() as session:
        to_narino = await recipients_for(
            session=session, municipality_code=TUMACO, kind="threat",
            category="threat.other", urgency="normal",
        )
        to_antioquia = await recipients_for(
            session=session, municipality_code=CACERES, kind="threat",
            category="threat.other", urgency="normal",
        )
    assert [u.id for u in to_narino] == [narino.id]
    assert [u.id for u in to_antioquia] == [admin.id]


async def test_flipped_byte_in_payload_fails_loudly(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await submit(store, threat())
    async with store.transaction() as session:
        report = await session.get(Report, report_id)
        assert report is not None and report.crypto_payload is not None
        tampered = bytearray(report.crypto_payload)
        tampered[len(tampered) // 2] ^= 0x01
        report.crypto_payload = bytes(tampered)
        session.add(report)
    user_id, key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        with pytest.raises(DecryptionError):
            await read_report(session=session, user_id=user_id, private_key=key,
                              report_id=report_id)


async def test_wrapped_key_moved_to_another_report_fails_loudly(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    first = await submit(store, threat(text="primero"))
    second = await submit(store, threat(text="segundo"))
    user_id, key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        keys = {
            k.report_id: k
            for k in (await session.exec(
                select(ReportKey).where(col(ReportKey.recipient_id) == user_id)
            )).all()
        }
        await session.exec(
            update(ReportKey).where(col(ReportKey.id) == keys[second].id)
            .values(crypto_key=keys[first].crypto_key)
        )
    async with store.transaction() as session:
        with pytest.raises(DecryptionError):
            await read_report(session=session, user_id=user_id, private_key=key,
                              report_id=second)


async def test_wrong_password_unlocks_nothing(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="tumaco")
    assert user is not None
    assert await unlock_private_key(user=user, password="contraseña equivocada") is None
    assert await unlock_private_key(user=user, password=PASSWORD) is not None


async def test_queue_is_most_urgent_first_and_paginates(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    await submit(store, threat(urgency="normal"), NOW - timedelta(hours=5))
    await submit(store, threat(urgency="high"), NOW - timedelta(hours=3))
    await submit(store, threat(urgency="immediate"), NOW)
    await submit(store, threat(urgency="normal"), NOW - timedelta(hours=1))
    user_id, _ = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        everything = await list_queue(session=session, user_id=user_id)
        first = await list_queue(session=session, user_id=user_id, filters=QueueFilter(limit=2))
        last = first[-1]
        rest = await list_queue(
            session=session, user_id=user_id,
            filters=QueueFilter(
                limit=2, after=(last.new_reply, last.urgency_rank, last.created_hour.isoformat(),
                                 last.id)
            ),
        )
    assert [r.urgency for r in everything] == ["immediate", "high", "normal", "normal"]
    assert everything[2].created_hour < everything[3].created_hour
    assert [r.id for r in first + rest] == [r.id for r in everything]


async def test_submission_bumps_the_rollup_and_chains_the_audit(store: Store) -> None:
    await submit(store, threat())
    await submit(store, threat())
    async with store.transaction() as session:
        await flush_pending_audit(session=session, now=NOW + timedelta(hours=1))
    async with store.transaction() as session:
        rollup = (await session.exec(select(Rollup))).one()
        check = await verify_audit_chain(session=session)
    assert (rollup.municipality_code, rollup.month, rollup.count) == (TUMACO, "2026-11", 2)
    assert check.ok and check.entries == 2


async def test_edited_audit_row_breaks_the_chain(store: Store) -> None:
    await submit(store, threat())
    await submit(store, threat())
    async with store.transaction() as session:
        await flush_pending_audit(session=session, now=NOW + timedelta(hours=1))
    async with store.transaction() as session:
        await session.exec(text("UPDATE audit_log SET action = 'report.erased' WHERE seq = 1"))
    async with store.transaction() as session:
        check = await verify_audit_chain(session=session)
    assert not check.ok and check.broken_at == 1


async def test_more_specific_rule_beats_the_area_and_catch_all_is_the_fallback(
    store: Store,
) -> None:
    area = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    stigma_desk = await add_staff(store, "estigma")
    national = await add_staff(store, "nacional")
    await add_staff(store, "admin", role="admin")
    async with store.transaction() as session:
        await create_rule(session=session, actor="operator", user_id=stigma_desk.id,
                          municipality_code=TUMACO, kind="stigma")
        await create_rule(session=session, actor="operator", user_id=national.id)

        async def route(municipality: str, kind: str) -> list[str]:
            users = await recipients_for(session=session, municipality_code=municipality,
                                         kind=kind, category=f"{kind}.x", urgency="normal")
            return [u.username for u in users]

        assert await route(TUMACO, "threat") == ["tumaco"]
        assert await route(TUMACO, "stigma") == ["estigma"]
        assert await route(CACERES, "threat") == ["nacional"]
        rules = await list_rules(session=session)
        assert [r.user_id for r in rules][0] == stigma_desk.id
        assert await remove_rule(session=session, rule_id=rules[-1].id)
        assert await route(CACERES, "threat") == ["admin"]
    assert area.id


async def test_concurrent_audit_appends_keep_one_chain(store: Store) -> None:
    async def append(n: int) -> None:
        async with store.transaction() as session:
            await append_audit(session=session, actor="system", action=f"test.{n}")

    await asyncio.gather(*(append(n) for n in range(20)))
    async with store.transaction() as session:
        check = await verify_audit_chain(session=session)
    assert check.ok and check.entries == 20, check


async def test_the_audit_chain_does_not_place_a_report_within_its_hour(store: Store) -> None:
    """The attacker reads the chain in order: entries of staff, stamped to the second,
    around an hour-stamped `report.submitted` would bracket its arrival to the minute.
    A report sent at 15:05 and one sent at 15:55 must sit in the same place."""
    hour = NOW.replace(minute=0, second=0)

    async def chain_after(arrival: datetime) -> list[tuple[str, str]]:
        async with store.transaction() as session:
            await session.exec(text("DELETE FROM audit_log"))
        staff = [hour + timedelta(minutes=minute, seconds=7) for minute in (10, 20, 50)]
        for moment in sorted([*staff, arrival]):  # as it happened, in this order
            if moment == arrival:
                await submit(store, threat(), now=arrival)
                continue
            async with store.transaction() as session:
                await append_audit(session=session, actor="staff",
                                   action=f"user.{moment.minute}", at=moment)
        async with store.transaction() as session:
            pending = await verify_audit_chain(session=session)
            assert pending.entries == 3  # the report waits for its hour to end
            assert await flush_pending_audit(session=session, now=hour + timedelta(minutes=59)) == 0
            assert await flush_pending_audit(session=session, now=hour + timedelta(hours=1)) == 1
        async with store.transaction() as session:
            rows = (await session.exec(text(
                "SELECT action, at FROM audit_log ORDER BY seq"))).all()
        return [(action, str(at)) for action, at in rows]

    early = await chain_after(hour + timedelta(minutes=5))
    late = await chain_after(hour + timedelta(minutes=55))
    assert early == late
    assert early[-1][0] == "report.submitted" and early[-1][1].startswith(
        str(hour.replace(tzinfo=None))[:13])


async def test_receipts_made_at_the_old_cost_still_open_and_new_ones_cost_less(
    store: Store,
) -> None:
    """Receipts were made at a staff password's cost before their own was sized
    (storage.receipts.RECEIPT_ARGON2): each row keeps the cost it was made with, so the
    codes people already hold keep opening their reports."""
    codes: dict[Argon2Params, str] = {}
    for params in (DEFAULT_ARGON2, RECEIPT_ARGON2):
        async with store.transaction() as session:
            submitted = await submit_report(session=session, keyring=store.keyring,
                                            report=threat(), now=NOW, argon2_params=params)
        codes[params] = submitted.receipt_code
    for params, code in codes.items():
        async with store.transaction() as session:
            found = await find_by_receipt(session=session, keyring=store.keyring, code=code)
        assert found is not None
        assert Argon2Params.from_bytes(found[0].receipt_kdf or b"") == params
    # The receipt's own cost is the smaller one, and never below OWASP's Argon2id floor.
    assert (RECEIPT_ARGON2.time_cost * RECEIPT_ARGON2.memory_cost
            <= DEFAULT_ARGON2.time_cost * DEFAULT_ARGON2.memory_cost / 4)
    assert RECEIPT_ARGON2.time_cost >= 2 and RECEIPT_ARGON2.memory_cost >= 19 * 1024
