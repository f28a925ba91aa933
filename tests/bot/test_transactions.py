"""The attacker who links a report to its chat through the transaction that wrote both.

On PostgreSQL every row keeps the id of the transaction that wrote it (`xmin`): a
report written in the same transaction as its chat's draft, rate-limit counter or
language preference is tied to that chat's pseudonym by one join. On SQLite the same
link is one commit in the write-ahead log. Reports made through the bot (threat,
stigmatization, a follow-up reply, added evidence, a protection request) must commit
alone: no transaction writes a row keyed by a chat and a row that belongs to a report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.conversations import Conversations, Upload
from flows.conversation import build_flow
from flows.engine import Command, Text
from flows.municipalities import Catalog
from storage.store import Store
from tests.support.people import PHOTO, STIGMA, THREAT, Person
from tests.support.places import TUMACO
from tests.support.staff import add_staff

# Rows about a chat (keyed by its pseudonym) and rows Telegram could tie to it.
CHAT_TABLES = frozenset({"drafts", "draft_attachments", "chat_traces", "chat_preferences",
                         "rate_limits", "processed_updates"})
# Rows of a report, and the bookkeeping a report moves.
REPORT_TABLES = frozenset({
    "reports", "report_keys", "report_events", "attachments", "outbox", "audit_log",
    "rollups", "rollups_department_month", "rollups_department_category_month",
    "rollups_municipality_year", "rollups_municipality_category_year", "priority_tallies",
})
WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)


@dataclass
class WriteLog:
    """The tables each committed transaction wrote, as the database saw the statements."""

    open: dict[int, set[str]] = field(default_factory=dict)
    committed: list[frozenset[str]] = field(default_factory=list)

    def mixed(self) -> list[frozenset[str]]:
        return [tables for tables in self.committed
                if tables & CHAT_TABLES and tables & REPORT_TABLES]


@pytest.fixture
def writes(store: Store) -> Iterator[WriteLog]:
    log = WriteLog()
    engine = store.engine.sync_engine

    def on_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = WRITE.match(statement)
        if found:
            log.open.setdefault(id(conn.connection.dbapi_connection), set()).add(found[1])

    def on_commit(conn: Any) -> None:
        tables = log.open.pop(id(conn.connection.dbapi_connection), set())
        if tables:
            log.committed.append(frozenset(tables))

    def on_rollback(conn: Any) -> None:
        log.open.pop(id(conn.connection.dbapi_connection), None)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    yield log
    event.remove(engine, "before_cursor_execute", on_execute)
    event.remove(engine, "commit", on_commit)
    event.remove(engine, "rollback", on_rollback)


async def _report_and_follow_up(store: Store) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    conversations = Conversations(store=store, flow=build_flow(Catalog.load()))
    leader = Person(conversations, 7_100_000_001)
    await leader.do(THREAT)
    code = leader.receipt()
    await leader.do([Command("start"), "stigma"])  # a draft of the same chat in between
    other = Person(conversations, 7_100_000_002)
    await other.do(STIGMA)
    await leader.do([Command("start"), "followup", Text(code), "reply",
                     Text("Volvieron anoche.")])
    await leader.do(["reply", Upload(PHOTO)])
    await leader.do(["nav:back", "protection", "need.risk_assessment", "done",
                     "contact.through_organization", "skip", "send"])


async def test_no_transaction_writes_a_chat_row_and_a_report_row(
    store: Store, writes: WriteLog
) -> None:
    await _report_and_follow_up(store)
    report_writes = [t for t in writes.committed if t & {"reports", "report_events"}]
    assert len(report_writes) >= 4, "the journey wrote two reports and their follow-up"
    assert any("drafts" in t for t in writes.committed)
    async with store.transaction() as session:
        kinds = (await session.exec(text(  # type: ignore[call-overload]
            "select kind from report_events"))).scalars().all()
        files = (await session.exec(text(  # type: ignore[call-overload]
            "select count(*) from attachments"))).scalar_one()
    assert {"from_reporter", "protection"} <= set(kinds) and files == 2
    assert writes.mixed() == []


async def test_postgresql_finds_no_shared_xmin(store: Store) -> None:
    """The attacker's query itself: the transaction id a chat row and a report row share."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("xmin is PostgreSQL's; the write log above covers SQLite")
    await _report_and_follow_up(store)
    chat = " union all ".join(f"select xmin::text as x from {t}" for t in sorted(CHAT_TABLES))
    report = " union all ".join(f"select xmin::text as x from {t}"
                                for t in sorted(REPORT_TABLES))
    async with store.transaction() as session:
        counts = (await session.exec(text(  # type: ignore[call-overload]
            f"select (select count(*) from ({chat}) c), (select count(*) from ({report}) r)"
        ))).one()
        shared = (await session.exec(text(  # type: ignore[call-overload]
            f"select c.x from ({chat}) c join ({report}) r on r.x = c.x"
        ))).all()
    assert counts[0] > 0 and counts[1] > 0
    assert shared == []


def test_the_write_log_sees_a_mixed_transaction() -> None:
    """The check can fail: one transaction writing a draft and a report is caught."""
    log = WriteLog(committed=[frozenset({"drafts", "reports"}), frozenset({"rate_limits"})])
    assert log.mixed() == [frozenset({"drafts", "reports"})]
