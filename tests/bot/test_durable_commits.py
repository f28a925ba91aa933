"""Which of a report's commits wait for the disk, as the database saw them.

A receipt is shown only once its report is flushed, and once a report is in, the chat's
draft that replaces the sent one (the receipt's buttons) is flushed too: after a power cut
the person must not find the report they already sent waiting to be sent again. So with a
reply to the team. The steps
before (the draft, the dedupe and rate-limit rows) may be lost in one (the person answers
a question again): they do not wait."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.conversations import Conversations
from flows.conversation import build_flow
from flows.engine import Command, Text
from flows.municipalities import Catalog
from storage.db import NOT_DURABLE
from storage.store import Store
from tests.support.people import THREAT, Person
from tests.support.places import TUMACO
from tests.support.staff import add_staff

WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)
Commit = tuple[frozenset[str], bool]  # ("DELETE FROM drafts", …), flushed


@pytest.fixture
def commits(store: Store) -> Iterator[list[Commit]]:
    seen: list[Commit] = []
    open_: dict[int, set[str]] = {}
    engine = store.engine.sync_engine

    def on_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = WRITE.match(statement)
        if found:
            verb = " ".join(found[1].upper().split())
            open_.setdefault(id(conn.connection.dbapi_connection), set()).add(
                f"{verb} {found[2]}")

    def on_commit(conn: Any) -> None:
        writes = open_.pop(id(conn.connection.dbapi_connection), set())
        if writes:
            flushed = not conn.get_execution_options().get(NOT_DURABLE, False)
            seen.append((frozenset(writes), flushed))

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "before_cursor_execute", on_execute)
    event.remove(engine, "commit", on_commit)


async def test_the_report_and_the_draft_after_it_are_flushed_the_steps_are_not(
    store: Store, commits: list[Commit]
) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    person = Person(Conversations(store=store, flow=build_flow(Catalog.load())), 7_200_000_001)
    await person.do(THREAT)
    assert person.receipt()
    sent = [i for i, (writes, _) in enumerate(commits) if "INSERT INTO reports" in writes]
    assert len(sent) == 1 and commits[sent[0]][1], "the report waits for the disk"
    drafts = [(i, flushed) for i, (writes, flushed) in enumerate(commits)
              if "INSERT INTO drafts" in writes]
    before = [flushed for i, flushed in drafts if i < sent[0]]
    after = [flushed for i, flushed in drafts if i > sent[0]]
    assert after[:1] == [True], "the draft that replaces the sent one waits for the disk"
    assert len(before) >= len(THREAT) - 3 and not any(before), "the steps do not wait"


def _draft_after(commits: list[Commit], written: str) -> list[bool]:
    """Whether each commit writing a draft after the one that wrote `written` waited."""
    sent = [i for i, (writes, _) in enumerate(commits) if written in writes]
    assert sent, f"nothing wrote {written}"
    return [flushed for i, (writes, flushed) in enumerate(commits)
            if i > sent[-1] and "INSERT INTO drafts" in writes]


async def test_the_draft_after_a_reply_to_the_team_is_flushed(
    store: Store, commits: list[Commit]
) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    person = Person(Conversations(store=store, flow=build_flow(Catalog.load())), 7_200_000_002)
    await person.do(THREAT)
    code = person.receipt()
    await person.do([Command("start"), "followup", Text(code), "reply",
                     Text("Volvieron anoche.")])
    reply = [flushed for writes, flushed in commits if "INSERT INTO report_events" in writes]
    assert reply and all(reply)
    assert _draft_after(commits, "INSERT INTO report_events")[:1] == [True]
