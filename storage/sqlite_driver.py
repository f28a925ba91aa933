"""SQLAlchemy's aiosqlite adapter, with one trip to the connection's thread per statement,
and none at all for a brief unit of work.

aiosqlite runs each sqlite3 call on a thread of its own, and SQLAlchemy's adapter makes four
calls per statement (open a cursor, execute, fetch the rows, close): four trips through the
event loop, about 100 µs of CPU each on a small virtual machine (two wake-ups of a thread),
several times the cost of the statement itself (bench/RESULTS.md). This cursor does all four
in one function on that thread and keeps the rows, the description, the row count and the
last row id it read.

A brief unit of work (`storage.db.BRIEF`: a chat's step, a report's rows) goes further: once
it holds SQLite's write lock, nothing can make its statements wait, and each takes a few
microseconds, so they run right on the event loop's thread, without a trip. Its BEGIN
IMMEDIATE is tried there too, without waiting; if another connection holds the lock, the
BEGIN goes to the thread, which waits for it (busy_timeout) while the loop serves others.
Its COMMIT runs there when it waits for no disk (synchronous=NORMAL, no checkpoint); at
synchronous=FULL it goes to the thread.

Everything else (the connection, errors, streaming cursors) is SQLAlchemy's aiosqlite dialect
as it is: `create_engine` passes this module as the dialect's DBAPI.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, int, int | None, list[Any] | None]
# How long a statement waits for another connection's write lock (PRAGMA busy_timeout).
BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT = 1000  # pages: SQLite's default


def _run(connection: sqlite3.Connection, operation: str, parameters: Any,
         many: bool) -> _Outcome:
    """On the connection's thread: the statement, its rows and what the cursor tells."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one trip to the thread (no sqlite3 cursor is
    held between trips)."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1
        super().__init__(adapt_connection)

    def _make_new_cursor(self, connection: Any) -> Any:
        return None

    def _aenter_cursor(self, cursor: Any) -> Any:
        return None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def _keep(self, outcome: _Outcome) -> None:
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows or ())

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: _Connection = self._adapt_connection  # type: ignore[assignment]
        async with connection._execute_mutex:
            if connection.brief and connection.sent == connection.finished:
                self._keep(_run(connection.sqlite, operation, parameters, many))  # on the loop
            else:
                self._keep(await connection.trip(_run, connection.sqlite, operation,
                                                 parameters, many))

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._trip(operation, seq_of_parameters, many=True)

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


def _finishing(connection: _Connection, function: Callable[..., Any], *args: Any) -> Any:
    """On the connection's thread: `function`, counted as finished however it ends."""
    try:
        return function(*args)
    finally:
        connection.finished += 1


def _begin(sqlite: sqlite3.Connection, pragmas: list[str], *, wait: bool) -> None:
    """BEGIN IMMEDIATE after `pragmas` (which must come outside a transaction); with `wait`
    False it fails at once (SQLITE_BUSY) if another connection holds the write lock."""
    for pragma in pragmas:
        sqlite.execute(pragma)
    if wait:
        sqlite.execute("BEGIN IMMEDIATE")
        return
    sqlite.execute("PRAGMA busy_timeout=0")
    try:
        sqlite.execute("BEGIN IMMEDIATE")
    finally:
        sqlite.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _commit_at_once(sqlite: sqlite3.Connection) -> None:
    """COMMIT at synchronous=NORMAL, which waits for no disk, and without the checkpoint it
    may start once the log passes a thousand pages (that one syncs the disk): the next
    commit made on the thread, a report's or the background's, moves the log instead."""
    sqlite.execute("PRAGMA wal_autocheckpoint=0")
    try:
        sqlite.commit()
    finally:
        sqlite.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")


class _Connection(AsyncAdapt_aiosqlite_connection):
    # brief: a brief unit of work holds the write lock (its statements run on the loop).
    # sent, finished: trips sent to the connection's thread, and finished there (each
    # counter written by one thread only). synchronous: the level set on the connection.
    __slots__ = ("brief", "finished", "sent", "synchronous")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.brief = False
        self.sent = self.finished = 0
        self.synchronous: str | None = None

    @property
    def sqlite(self) -> sqlite3.Connection:
        sqlite: sqlite3.Connection = self._connection._conn
        return sqlite

    async def trip(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` on the connection's thread."""
        self.sent += 1
        return await self._connection._execute(_finishing, self, function, *args)

    def _idle(self) -> bool:
        """Nothing runs on the connection's thread, nor waits to (a cancelled caller may
        leave a statement running there)."""
        return self.sent == self.finished and not self._execute_mutex.locked()

    def begin_immediate(self, synchronous: str, *, brief: bool) -> None:
        """Sets the safety level if it changed, then takes the write lock: on the loop for a
        brief unit of work if no one holds it, else on the thread, waiting for it."""
        pragmas = [] if synchronous == self.synchronous else [f"PRAGMA synchronous={synchronous}"]
        try:
            if brief and self._idle():
                try:
                    _begin(self.sqlite, pragmas, wait=False)
                except sqlite3.OperationalError as error:
                    if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                        raise
                else:
                    self.synchronous, self.brief = synchronous, True
                    return
            await_(self.trip(partial(_begin, wait=True), self.sqlite, pragmas))
        except Exception as error:
            self._handle_exception(error)
        self.synchronous, self.brief = synchronous, brief

    def commit(self) -> None:
        brief, self.brief = self.brief, False
        if not self._connection._connection:
            return
        try:
            if brief and self.synchronous == "NORMAL" and self._idle():
                _commit_at_once(self.sqlite)
            else:
                await_(self.trip(self.sqlite.commit))
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        self.brief = False
        if self._connection._connection:
            try:
                await_(self.trip(self.sqlite.rollback))
            except Exception as error:
                self._handle_exception(error)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI SQLAlchemy's aiosqlite dialect is given (`module=`)."""

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        connection: Any = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's own adapter does
        return _Connection(self, await_(connection))


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
