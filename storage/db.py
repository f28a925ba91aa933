"""The async engine and sessions, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from sqlalchemy import CursorResult, Executable, bindparam, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_driver

SessionFactory = async_sessionmaker[AsyncSession]


def async_url(url: str) -> str:
    """Picks the project's async driver for a plain `sqlite:` or `postgresql:` URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"Base de datos no soportada: {backend} (use sqlite:// o postgresql://)")


def sync_url(url: str) -> str:
    """The same database through a synchronous driver name, for display and checks."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


# Execution option of a unit of work whose loss in a power cut harms no one (a chat's draft,
# its message ids, a dedupe row): its commit does not wait for the disk. SQLite runs it at
# synchronous=NORMAL (in WAL mode: safe from a crash of the process, not of the machine),
# PostgreSQL with synchronous_commit off. Every other commit is flushed (FULL / on).
NOT_DURABLE = "somos_not_durable"


# Execution option of a brief unit of work: a few statements on a few rows found by key (a
# chat's step, a report's rows), never a scan or a file. On SQLite its statements run on the
# event loop's thread once it holds the write lock (storage/sqlite_driver.py); on PostgreSQL
# it changes nothing.
BRIEF = "somos_brief"


def _sqlite_begin_immediate(connection: Any) -> None:
    # Each unit of work takes SQLite's single write lock up front. Without it, two
    # transactions can read the same "last" row (the audit chain's tail, a draft)
    # before either writes, and one of them forks the chain or loses an update.
    # The safety level can only be set outside a transaction, so here, just before it.
    options = connection.get_execution_options()
    level = "NORMAL" if options.get(NOT_DURABLE, False) else "FULL"
    connection.connection.dbapi_connection.begin_immediate(level,
                                                          brief=options.get(BRIEF, False))


def _sqlite_reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
    # A connection back in the pool is rolled back only if a transaction is still open
    # (SQLAlchemy's default rolls back every time: a trip to the driver's thread after each
    # commit, for nothing). Read on sqlite3's connection, idle while it is checked in.
    try:
        still_open = dbapi_connection.driver_connection._conn.in_transaction
    except ValueError:  # closed already: nothing to roll back
        return
    if still_open and state.asyncio_safe:
        dbapi_connection.rollback()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL keeps readers unblocked; synchronous=FULL because a receipt code is shown
    # only after commit, and a commit must survive a power cut.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={sqlite_driver.BUSY_TIMEOUT_MS}")
    # Deleted drafts are overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of the driver's BEGIN.
    dbapi_connection.isolation_level = None


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Builds the async engine for `url` (`sqlite:///path` or `postgresql://…`)."""
    target = async_url(url)
    if target.startswith("sqlite"):
        # check_same_thread: a brief unit of work runs statements on the loop's thread, one
        # at a time with the driver's thread (storage/sqlite_driver.py).
        engine = create_async_engine(
            target, echo=echo, connect_args={"timeout": 30, "check_same_thread": False},
            module=sqlite_driver.dbapi(), pool_reset_on_return=None)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        event.listen(engine.sync_engine.pool, "reset", _sqlite_reset)
        return engine
    return create_async_engine(target, echo=echo, pool_pre_ping=True, pool_size=10)


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    factory: SessionFactory, *, durable: bool = True, brief: bool = False
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any error. `durable=False` for
    rows whose loss in a power cut harms no one (`NOT_DURABLE`): its commit does not wait
    for the disk. `brief=True` for a few statements on a few rows found by key (`BRIEF`)."""
    async with factory() as session:
        try:
            if not durable or brief:
                options = {NOT_DURABLE: not durable, BRIEF: brief}
                connection = await session.connection(execution_options=options)
                if not durable and connection.dialect.name == "postgresql":
                    await connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def heavy_ahead(session: AsyncSession) -> None:
    """What follows in this unit of work may read or write megabytes (a chat's files): on
    SQLite its statements go to the driver's thread again, even in a brief unit of work,
    so the event loop serves others meanwhile."""
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        driver: Any = (await connection.get_raw_connection()).dbapi_connection
        driver.brief = False


async def checkpoint_wal(engine: AsyncEngine) -> None:
    """On SQLite, moves the write-ahead log into the database and empties it: rows deleted
    for good (zeroed in the database by secure_delete) must not live on in old log frames.
    Nothing to do on PostgreSQL. Best effort: a reader holding an old snapshot leaves the
    log as it is until the next call."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        # Straight to the driver: SQLAlchemy would open a transaction, and SQLite refuses
        # to checkpoint inside one.
        driver: Any = (await connection.get_raw_connection()).driver_connection
        cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await cursor.close()


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT with ON CONFLICT of a dialect (by name), for upserts built once."""
    return pg_insert if dialect == "postgresql" else sqlite_insert


@cache
def upsert(dialect: str, table: Any, key: str, columns: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE of `columns`, built once per dialect and table;
    each value is a bound parameter named after its column."""
    values = {name: bindparam(name, type_=table.c[name].type) for name in (key, *columns)}
    return (dialect_insert(dialect)(table).values(**values)
            .on_conflict_do_update(index_elements=[table.c[key]],
                                   set_={name: values[name] for name in columns}))


async def run(
    session: AsyncSession, statement: Executable,
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> CursorResult[*tuple[Any, ...]]:
    """A Core statement built once with bound parameters, run in the session's transaction
    on its connection: the hot path of every update (storage/chats.py, storage/drafts.py).
    Building a statement, or going through the ORM's execute, costs several times what
    running it does (bench/RESULTS.md)."""
    connection = await session.connection()
    return await connection.execute(statement, parameters)


def dialect_of(session: AsyncSession) -> str:
    """"sqlite" or "postgresql": which of the statements built once per dialect to run."""
    return str(session.get_bind().dialect.name)


def is_postgresql(session: AsyncSession) -> bool:
    return dialect_of(session) == "postgresql"


def forget_loaded(session: AsyncSession, model: type[Any], key: str) -> None:
    """After a Core statement wrote `model`'s row `key`: a copy the session loaded earlier in
    the transaction is read again if asked for."""
    loaded = session.sync_session.identity_map.get(session.identity_key(model, key))
    if loaded is not None:
        session.expire(loaded)
