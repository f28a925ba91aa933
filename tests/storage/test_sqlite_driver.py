"""SQLite's driver (storage/sqlite_driver.py) answers as a DBAPI cursor does, in one trip to
the connection's thread per statement, and in none for a brief unit of work that holds the
write lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import exc, text

from storage.db import (
    SessionFactory,
    create_engine,
    create_session_factory,
    heavy_ahead,
    transaction,
)


@pytest.fixture
async def factory(tmp_path: Path) -> AsyncIterator[SessionFactory]:
    engine = create_engine(f"sqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
    yield create_session_factory(engine)
    await engine.dispose()


async def test_rows_counts_and_errors_are_those_of_the_statement(factory: SessionFactory) -> None:
    async with transaction(factory) as session:
        connection = await session.connection()
        inserted = await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"),
            [{"body": "uno"}, {"body": "dos"}, {"body": "tres"}])
        assert inserted.rowcount == 3
        returned = await connection.execute(
            text("UPDATE notes SET body = body || '!' WHERE body != 'dos' RETURNING body"))
        assert sorted(returned.scalars()) == ["tres!", "uno!"]
        changed = await connection.execute(text("DELETE FROM notes WHERE body = 'dos'"))
        assert changed.rowcount == 1
        last = await connection.execute(text("INSERT INTO notes (body) VALUES ('cuatro')"))
        assert last.lastrowid == 4

    with pytest.raises(exc.IntegrityError):
        async with transaction(factory) as session:
            await (await session.connection()).execute(
                text("INSERT INTO notes (body) VALUES ('uno!')"))
    # The failed unit of work left nothing behind, and the connection serves the next one.
    async with transaction(factory) as session:
        connection = await session.connection()
        bodies = (await connection.execute(text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert list(bodies) == ["uno!", "tres!", "cuatro"]


async def test_a_unit_of_work_is_one_trip_per_statement_begin_and_commit(
    factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with transaction(factory) as session:  # the pooled connection is set up
        await (await session.connection()).execute(text("SELECT 1"))
    trips = 0
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal trips
        trips += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with transaction(factory) as session:
        connection = await session.connection()
        for _ in range(5):
            rows = (await connection.execute(text("SELECT body FROM notes"))).all()
            assert rows == []
    # BEGIN IMMEDIATE, five statements, COMMIT; no rollback when the pool takes it back.
    assert trips == 7


async def test_a_transaction_left_open_is_rolled_back_when_the_pool_takes_it_back(
    factory: SessionFactory,
) -> None:
    engine = factory.kw["bind"]
    async with engine.connect() as connection:  # straight to the driver: SQLAlchemy
        driver: Any = (await connection.get_raw_connection()).driver_connection  # sees no
        await driver.execute("BEGIN")  # transaction of its own to end
        await driver.execute("INSERT INTO notes (body) VALUES ('a medias')")
    async with transaction(factory) as session:  # BEGIN IMMEDIATE fails inside one
        bodies = (await (await session.connection()).execute(text("SELECT body FROM notes")))
        assert bodies.all() == []


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a connection's thread."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        inner = args[1] if getattr(fn, "__name__", "") == "_finishing" else fn
        sent.append(getattr(inner, "__name__", None) or inner.func.__name__)
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_brief_unit_of_work_runs_on_the_loop_and_flushes_on_the_thread(
    factory: SessionFactory, trips: list[str]
) -> None:
    async with transaction(factory, durable=False, brief=True) as session:
        connection = await session.connection()
        for body in ("uno", "dos", "tres"):
            await connection.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})
        assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar() == 3
    # BEGIN, the statements and a COMMIT that waits for no disk: not one trip.
    assert trips == []
    async with transaction(factory, brief=True) as session:
        await (await session.connection()).execute(text("DELETE FROM notes WHERE body = 'dos'"))
    assert trips == ["commit"]  # synchronous=FULL: the commit waits for the disk, there
    with pytest.raises(exc.IntegrityError):  # an error keeps its type, and undoes the work
        async with transaction(factory, durable=False, brief=True) as session:
            connection = await session.connection()
            await connection.execute(text("INSERT INTO notes (body) VALUES ('cuatro')"))
            await connection.execute(text("INSERT INTO notes (body) VALUES ('uno')"))
    async with transaction(factory, brief=True) as session:
        bodies = (await (await session.connection()).execute(
            text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert list(bodies) == ["uno", "tres"]


async def test_a_brief_unit_of_work_waits_for_the_lock_without_stopping_the_loop(
    factory: SessionFactory, tmp_path: Path, trips: list[str]
) -> None:
    """Another process holds the write lock for a while (a backup, a command): the brief
    unit of work waits for it on its thread, and the loop serves everyone else meanwhile."""
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('del otro')")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def release() -> None:
        await asyncio.sleep(0.4)
        other.execute("COMMIT")

    ticker, releaser = asyncio.create_task(tick()), asyncio.create_task(release())
    started = time.monotonic()
    async with transaction(factory, durable=False, brief=True) as session:
        waited = time.monotonic() - started
        connection = await session.connection()
        await connection.execute(text("INSERT INTO notes (body) VALUES ('mío')"))
    ticker.cancel()
    await releaser
    assert waited >= 0.35 and ticks >= 20  # it waited, and the loop ran all along
    assert trips[:1] == ["_begin"]  # the BEGIN went to the thread; the rest did not
    async with transaction(factory) as session:
        bodies = (await (await session.connection()).execute(
            text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert list(bodies) == ["del otro", "mío"]
    other.close()


async def test_what_follows_heavy_ahead_goes_to_the_thread(
    factory: SessionFactory, trips: list[str]
) -> None:
    async with transaction(factory, durable=False, brief=True) as session:
        connection = await session.connection()
        await connection.execute(text("INSERT INTO notes (body) VALUES ('liviano')"))
        await heavy_ahead(session)
        await connection.execute(text("INSERT INTO notes (body) VALUES ('pesado')"))
    assert trips == ["_run", "commit"]


async def test_a_trip_a_cancelled_caller_left_running_keeps_the_loop_off_the_connection(
    factory: SessionFactory,
) -> None:
    """A caller cancelled while its statement ran on the thread leaves it running there: the
    next unit of work on that connection must queue behind it, not run beside it."""
    engine = factory.kw["bind"]
    order: list[str] = []
    release = threading.Event()

    def slow() -> None:
        release.wait(5)
        order.append("the old statement ended")

    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).dbapi_connection
        left = asyncio.create_task(driver.trip(slow))
        await asyncio.sleep(0.05)
        left.cancel()
        asyncio.get_running_loop().call_later(0.2, release.set)
        await connection.run_sync(lambda _: driver.begin_immediate("NORMAL", brief=True))
        order.append("the next one began")
        await connection.run_sync(lambda _: driver.rollback())
    assert order == ["the old statement ended", "the next one began"]
