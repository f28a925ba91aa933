"""Aggregate counts kept in the report's own transaction, so they outlive report contents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgresql
from storage.models import (
    DepartmentCategoryMonthRollup,
    DepartmentMonthRollup,
    MunicipalityCategoryYearRollup,
    MunicipalityYearRollup,
    PriorityTally,
    Rollup,
)


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


@dataclass(frozen=True)
class Grain:
    """One rollup table: which place, whether by category, and which period it counts by.

    Every grain has the kind. Municipality grains also keep the department code,
    so they answer department groupings and department scopes too.
    """

    model: type[SQLModel]
    place: str          # "municipality" or "department"
    by_category: bool
    period: str         # "month" or "year"

    @property
    def table(self) -> Any:
        return self.model.__table__  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        return str(self.table.name)

    @property
    def key_columns(self) -> tuple[str, ...]:
        category = ("category",) if self.by_category else ()
        return (f"{self.place}_code", "kind", *category, self.period)

    def key(self, cell: Cell) -> tuple[str, ...]:
        """The cell of this grain that a finest-grain cell adds to."""
        place = cell.municipality_code
        if self.place == "department":
            place = place[:2]
        category = (cell.category,) if self.by_category else ()
        period = cell.month if self.period == "month" else cell.month[:4]
        return (place, cell.kind, *category, period)

    def row(self, key: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
        """A cell's column values, with the department code of municipality grains."""
        columns = tuple(zip(self.key_columns, key, strict=True))
        if self.place == "municipality":
            columns += (("department_code", key[0][:2]),)
        return columns


# Smallest first: aggregates read the first grain that can answer a query exactly.
# At most (7 departments, 3 kinds, ~32 categories, 24 months, ~370 municipalities):
# ~500, ~3,400, ~5,400, ~36,000 and ~290,000 cells; the last is also the most sparse.
GRAINS: tuple[Grain, ...] = (
    Grain(DepartmentMonthRollup, "department", by_category=False, period="month"),
    Grain(MunicipalityYearRollup, "municipality", by_category=False, period="year"),
    Grain(DepartmentCategoryMonthRollup, "department", by_category=True, period="month"),
    Grain(MunicipalityCategoryYearRollup, "municipality", by_category=True, period="year"),
    Grain(Rollup, "municipality", by_category=True, period="month"),
)


async def bump_rollups(*, session: AsyncSession, cells: Mapping[Cell, int]) -> None:
    """Adds counts per cell to every rollup table: one statement per table, whatever the cells."""
    for grain in GRAINS:
        rows: Counter[tuple[tuple[str, Any], ...]] = Counter()
        for cell, count in cells.items():
            rows[grain.row(grain.key(cell))] += count
        await _add_counts(session, grain.table, grain.key_columns, rows)


async def bump_priority_tallies(*, session: AsyncSession, tallies: Mapping[TallyCell, int]) -> None:
    """Counts concerns at their rank, for Borda counts later."""
    rows: Counter[tuple[tuple[str, Any], ...]] = Counter()
    for tally, count in tallies.items():
        rows[(("municipality_code", tally.municipality_code), ("month", tally.month),
              ("concern", tally.concern), ("rank", tally.rank),
              ("department_code", tally.municipality_code[:2]))] += count
    await _add_counts(session, PriorityTally.__table__,  # type: ignore[attr-defined]
                      ("municipality_code", "month", "concern", "rank"), rows)
