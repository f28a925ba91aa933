"""Which commits wait for the disk, on SQLite and PostgreSQL.

A receipt code is shown only after its report's commit, and that commit must survive a
power cut. A chat's draft, its message ids and a dedupe row may be lost in one (the person
answers a question again): those commits do not wait (`storage.db.NOT_DURABLE`)."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgresql
from storage.store import Store


async def flushed(session: AsyncSession) -> bool:
    if is_postgresql(session):
        setting = (await session.exec(text("SHOW synchronous_commit"))).scalar()
        return setting != "off"
    level = (await session.exec(text("PRAGMA synchronous"))).scalar()
    return level == 2  # FULL; NORMAL is 1


async def test_only_units_of_work_marked_not_durable_skip_the_flush(store: Store) -> None:
    for _ in range(3):  # the same pooled connection serves them in turn
        async with store.transaction() as session:
            assert await flushed(session)
        async with store.transaction(durable=False) as session:
            assert not await flushed(session)
    async with store.transaction() as session:
        assert await flushed(session)
