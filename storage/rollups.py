"""Aggregate counts kept in the report's own transaction, so they outlive report contents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgresql
from storage.models import PriorityTally, Rollup


class Cell(NamedTuple):
    """The finest rollup cell a report counts in."""

    municipality_code: str
    kind: str
    category: str
    month: str


class TallyCell(NamedTuple):
    """A community-priority concern at its rank (1 = most important)."""

    municipality_code: str
    month: str
    concern: str
    rank: int


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


async def _add_counts(
    session: AsyncSession, table: Any, key_columns: tuple[str, ...],
    rows: Mapping[tuple[tuple[str, Any], ...], int],
) -> None:
    """One upsert statement adding each row's count to its cell (created if missing)."""
    if not rows:
        return
    insert = pg_insert if is_postgresql(session) else sqlite_insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={"count": table.c.count + statement.excluded.count},
    )
    # Sorted, so concurrent writers lock PostgreSQL rows in the same order.
    params = [dict(columns) | {"count": count} for columns, count in sorted(rows.items())]
    await session.exec(statement, params=params)


async def bump_rollups(*, session: AsyncSession, cells: Mapping[Cell, int]) -> None:
    """Adds counts per cell to the rollups, one statement whatever the number of cells."""
    rows: Counter[tuple[tuple[str, Any], ...]] = Counter()
    for cell, count in cells.items():
        rows[(("municipality_code", cell.municipality_code), ("kind", cell.kind),
              ("category", cell.category), ("month", cell.month),
              ("department_code", cell.municipality_code[:2]))] += count
    await _add_counts(session, Rollup.__table__,  # type: ignore[attr-defined]
                      ("municipality_code", "kind", "category", "month"), rows)


async def bump_priority_tallies(*, session: AsyncSession, tallies: Mapping[TallyCell, int]) -> None:
    """Counts concerns at their rank, for Borda counts later."""
    rows: Counter[tuple[tuple[str, Any], ...]] = Counter()
    for tally, count in tallies.items():
        rows[(("municipality_code", tally.municipality_code), ("month", tally.month),
              ("concern", tally.concern), ("rank", tally.rank),
              ("department_code", tally.municipality_code[:2]))] += count
    await _add_counts(session, PriorityTally.__table__,  # type: ignore[attr-defined]
                      ("municipality_code", "month", "concern", "rank"), rows)
