"""Reports stored in batches (demo seeding) are stored exactly like one at a time."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from api.demo import BATCH, seed
from storage import envelope
from storage.aggregates import priority_rankings
from storage.attachments import File
from storage.audit import append_audit, flush_pending_audit, verify_audit_chain
from storage.models import Report, ReportKey, Rollup
from storage.outbox import pending_of_kind
from storage.recount import compare_rollups
from storage.reports import NewReport, Submission, read_report, submit_reports
from storage.routing import load_routing
from storage.store import Store
from tests.support.places import TUMACO
from tests.support.staff import add_staff, private_key_of

NOW = datetime(2026, 11, 28, 15, 42, 17, tzinfo=UTC)


async def test_seeding_counts_each_report_once_chains_it_and_seals_it_for_its_recipients(
    store: Store, recovery_keys: tuple[bytes, bytes]
) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    admin = await add_staff(store, "admin", role="admin")
    count = BATCH + 50  # more than one batch
    assert await seed(store=store, count=count, departments=("52",), seed_value=7, now=NOW) == count

    async with store.transaction() as session:  # the reporters' entries, once their hours end
        assert await flush_pending_audit(session=session, now=NOW + timedelta(days=400)) == count
    async with store.transaction() as session:
        assert await compare_rollups(session=session) == []
        rolled = (await session.exec(select(func.sum(col(Rollup.count))))).one()
        check = await verify_audit_chain(session=session)
        reports = (await session.exec(select(Report))).all()
        keys = (await session.exec(select(ReportKey))).all()
        rankings = await priority_rankings(session=session)
    assert rolled == count == len(reports)
    assert check.ok and check.entries == count

    recipients: dict[str, set[str]] = {}
    for key in keys:
        recipients.setdefault(key.report_id, set()).add(key.recipient_id)
    recovery_private = recovery_keys[0]
    for report in reports:
        focal = tumaco.id if report.municipality_code == TUMACO else admin.id
        receipt = set() if report.kind == "priority" else {"receipt"}
        assert recipients[report.id] == {focal, "recovery"} | receipt
        assert (report.receipt_lookup is None) == (report.kind == "priority")
        recovery_key = next(k for k in keys
                            if k.report_id == report.id and k.recipient_id == "recovery")
        data_key = envelope.unwrap_data_key(
            report_id=report.id, recipient_id="recovery", crypto_key=recovery_key.crypto_key,
            private_key=recovery_private,
        )
        assert report.crypto_payload is not None
        content = json.loads(envelope.open_report(
            report_id=report.id, crypto_payload=report.crypto_payload, data_key=data_key))
        assert (content["kind"], content["municipality_code"]) == (
            report.kind, report.municipality_code)
    assert sum(r.respondents for r in rankings) == sum(r.kind == "priority" for r in reports)

    in_tumaco = next(r for r in reports if r.municipality_code == TUMACO)
    user_id, private_key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        detail = await read_report(session=session, user_id=user_id, private_key=private_key,
                                   report_id=in_tumaco.id)
    assert detail is not None and detail.content["kind"] == in_tumaco.kind


async def test_a_batch_sums_cells_chains_after_the_log_and_keeps_evidence_and_pings(
    store: Store,
) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    threat = NewReport(kind="threat", category="threat.death_threat", municipality_code=TUMACO,
                       urgency="immediate", answers={"description": "panfleto"})
    priority = NewReport(kind="priority", category="priority.water", municipality_code=TUMACO,
                         urgency="normal",
                         answers={"concerns": ["priority.water", "priority.roads"]})
    evidence = File({"name": "foto.jpg"}, b"\xff\xd8 imagen")
    async with store.transaction() as session:
        await append_audit(session=session, actor="operator", action="user.disabled")
        routing = await load_routing(session=session)
        to_tumaco = routing.recipients(municipality_code=TUMACO, kind="threat",
                                       category=threat.category, urgency="immediate")
        submitted = await submit_reports(
            session=session, keyring=store.keyring, argon2_params=store.argon2,
            submissions=[
                Submission(report=threat, now=NOW, recipients=to_tumaco, files=[evidence]),
                Submission(report=threat, now=NOW, recipients=to_tumaco),
                Submission(report=priority, now=NOW, recipients=to_tumaco, with_receipt=False),
            ],
        )
    assert [s.receipt_code is None for s in submitted] == [False, False, True]
    async with store.transaction() as session:
        assert await flush_pending_audit(session=session, now=NOW + timedelta(hours=1)) == 3
    async with store.transaction() as session:
        cells = Counter({(r.kind, r.month): r.count
                         for r in (await session.exec(select(Rollup))).all()})
        check = await verify_audit_chain(session=session)
        alerts = await pending_of_kind(session=session, kind="immediate_alert")
        pings = await pending_of_kind(session=session, kind="new_report")
        (ranking,) = await priority_rankings(session=session)
    assert cells == Counter({("threat", "2026-11"): 2, ("priority", "2026-11"): 1})
    assert check.ok and check.entries == 4
    assert (len(alerts), len(pings)) == (2, 1)
    assert ranking.respondents == 1
    assert ranking.concerns == (("priority.water", 3), ("priority.roads", 2))

    user_id, private_key = await private_key_of(store, "tumaco")
    async with store.transaction() as session:
        first = await read_report(session=session, user_id=user_id, private_key=private_key,
                                  report_id=submitted[0].report_id)
        second = await read_report(session=session, user_id=user_id, private_key=private_key,
                                   report_id=submitted[1].report_id)
    assert first is not None and second is not None
    assert [a["name"] for a in first.attachments] == ["foto.jpg"]
    assert second.attachments == [] and second.content["answers"] == {"description": "panfleto"}
