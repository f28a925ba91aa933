"""Aggregate counts kept in the report's own transaction, so they outlive report contents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgresql
from storage.models import PriorityTally, Rollup


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


async def bump_rollup(
    *, session: AsyncSession, municipality_code: str, kind: str, category: str, month: str,
    by: int = 1,
) -> None:
    """Adds `by` to one rollup cell, creating it if needed (an upsert on both databases)."""
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    table = Rollup.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(
        municipality_code=municipality_code,
        department_code=municipality_code[:2],
        kind=kind,
        category=category,
        month=month,
        count=by,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["municipality_code", "kind", "category", "month"],
        set_={"count": table.c.count + by},
    )
    await session.exec(statement)


async def bump_priority_tallies(
    *, session: AsyncSession, municipality_code: str, concerns: list[str], month: str
) -> None:
    """Counts each ranked concern at its rank (1 = most important), for Borda counts later."""
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    table = PriorityTally.__table__  # type: ignore[attr-defined]
    for rank, concern in enumerate(concerns[:3], start=1):
        statement = insert(table).values(
            municipality_code=municipality_code, department_code=municipality_code[:2],
            month=month, concern=concern, rank=rank, count=1,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["municipality_code", "month", "concern", "rank"],
            set_={"count": table.c.count + 1},
        )
        await session.exec(statement)
