"""Aggregate counts kept in the report's own transaction, so they outlive report contents.

Each rollup cell keeps its true count and the sum of the perturbed noise cells it covers
(`storage.cellkey`); the finest cells and the priority rankings keep their cell key too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, update
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cellkey import KEY_SPACE, perturb
from storage.db import dialect_insert, dialect_of, run
from storage.models import (
    DepartmentCategoryMonthRollup,
    DepartmentMonthRollup,
    MunicipalityCategoryYearRollup,
    MunicipalityYearRollup,
    PriorityAnswer,
    PriorityTally,
    Rollup,
)

PRIORITY = "priority"
RANKING_SEPARATOR = ","


class Cell(NamedTuple):
    """The finest rollup cell a report counts in."""

    municipality_code: str
    kind: str
    category: str
    month: str


class AnswerCell(NamedTuple):
    """A community-priority answer's noise cell: its concerns, most important first."""

    municipality_code: str
    month: str
    ranking: tuple[str, ...]

    @property
    def cell(self) -> Cell:
        """The finest rollup cell of these answers (their category is the first concern)."""
        return Cell(self.municipality_code, PRIORITY, self.ranking[0], self.month)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.municipality_code, self.month, RANKING_SEPARATOR.join(self.ranking))


@dataclass(frozen=True)
class Added:
    """What a batch adds to one noise cell: reports and their record keys' sum."""

    count: int
    key_sum: int


def add(first: Added, second: Added) -> Added:
    return Added(first.count + second.count, (first.key_sum + second.key_sum) % KEY_SPACE)


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def ranking_of(text: str) -> tuple[str, ...]:
    return tuple(text.split(RANKING_SEPARATOR))


Row = tuple[tuple[str, Any], ...]


@cache
def _upsert(dialect: str, table: Any, key_columns: tuple[str, ...],
            added: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT adding the `added` columns (the cell key modulo 2^32); built
    once per dialect and table, as every report's are the same."""
    statement = dialect_insert(dialect)(table)
    sums = {name: table.c[name] + statement.excluded[name] for name in added}
    if "key_sum" in sums:
        sums["key_sum"] = sums["key_sum"] % KEY_SPACE
    return statement.on_conflict_do_update(index_elements=list(key_columns), set_=sums)


@cache
def _upsert_returning(dialect: str, table: Any, key_columns: tuple[str, ...]) -> Any:
    return _upsert(dialect, table, key_columns, ("count", "key_sum")).returning(
        *(table.c[name] for name in key_columns), table.c.count, table.c.key_sum)


@cache
def _perturb(table: Any, key_columns: tuple[str, ...]) -> Any:
    return update(table).where(
        *(table.c[name] == bindparam(f"_{name}") for name in key_columns)
    ).values(perturbed=table.c.perturbed + bindparam("_change"))


async def _add(session: AsyncSession, table: Any, key_columns: tuple[str, ...],
               rows: Mapping[Row, Mapping[str, int]]) -> None:
    """One upsert statement adding each row's values to its cell (created if missing)."""
    if not rows:
        return
    added = tuple(next(iter(rows.values())))
    # Sorted, so concurrent writers lock PostgreSQL rows in the same order.
    params = [dict(columns) | dict(values) for columns, values in sorted(rows.items())]
    await run(session, _upsert(dialect_of(session), table, key_columns, added), params)


# Rows per statement when the new counts are read back: far below SQLite's 32,766
# parameters, and a batch of submissions (api.demo.BATCH) fits in one.
RETURNING_CHUNK = 1000


async def _add_and_read(session: AsyncSession, table: Any, key_columns: tuple[str, ...],
                        rows: Mapping[Row, Added]) -> dict[tuple[Any, ...], Added]:
    """Adds count and cell key to each noise cell; returns each cell's new count and key.

    Read back from the upsert itself: under PostgreSQL's row lock the new values include
    whatever a concurrent writer committed first, so the change computed from them is
    exactly this transaction's.
    """
    statement = _upsert_returning(dialect_of(session), table, key_columns)
    ordered = sorted(rows.items())
    found: dict[tuple[Any, ...], Added] = {}
    for start in range(0, len(ordered), RETURNING_CHUNK):
        values = [dict(columns) | {"count": added.count, "key_sum": added.key_sum,
                                   "perturbed": 0}
                  for columns, added in ordered[start:start + RETURNING_CHUNK]]
        result = await run(session, statement.values(values), {})
        for row in result.all():
            found[tuple(row[:-2])] = Added(int(row[-2]), int(row[-1]))
    return found


def perturbed_change(after: Added, added: Added) -> int:
    """How much a noise cell's perturbed value moved when `added` made it `after`."""
    before = Added(after.count - added.count, (after.key_sum - added.key_sum) % KEY_SPACE)
    return perturb(after.count, after.key_sum) - perturb(before.count, before.key_sum)


async def _add_perturbed(session: AsyncSession, table: Any, key_columns: tuple[str, ...],
                         changes: Mapping[tuple[Any, ...], int]) -> None:
    """Adds each change to its row's perturbed value (the rows exist: just upserted)."""
    params = [{f"_{name}": value for name, value in zip(key_columns, key, strict=True)}
              | {"_change": change} for key, change in sorted(changes.items()) if change]
    if not params:
        return
    await run(session, _perturb(table, key_columns), params)


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


FINEST = GRAINS[-1]
ANSWER_KEY = ("municipality_code", "month", "ranking")
TALLY_KEY = ("municipality_code", "month", "concern", "rank")


async def bump_rollups(
    *, session: AsyncSession, cells: Mapping[Cell, Added],
    answers: Mapping[AnswerCell, Added] | None = None,
) -> None:
    """Adds a batch of reports to every rollup table and priority tally, noise included.

    `cells` holds every report, `answers` the rankings of the community-priority ones
    (each ranking's first concern is its report's category). A threat or stigma cell's
    perturbed value is perturb(count, cell key); a priority cell's is the sum of its
    rankings' perturbed values, and so are the tallies'. A few statements per table,
    whatever the number of reports.
    """
    table = FINEST.table
    finest = await _add_and_read(session, table, FINEST.key_columns, {
        FINEST.row(FINEST.key(cell)): added for cell, added in cells.items()})
    changes: Counter[Cell] = Counter({
        cell: perturbed_change(finest[tuple(cell)], added)
        for cell, added in cells.items() if cell.kind != PRIORITY
    })
    tallies: dict[Row, dict[str, int]] = defaultdict(lambda: {"count": 0, "perturbed": 0})
    if answers:
        ranked = await _add_and_read(session, PriorityAnswer.__table__,  # type: ignore[attr-defined]
                                     ANSWER_KEY, {
            (*zip(ANSWER_KEY, answer.key, strict=True),
             ("department_code", answer.municipality_code[:2])): added
            for answer, added in answers.items()})
        ranking_changes = {}
        for answer, added in answers.items():
            change = perturbed_change(ranked[answer.key], added)
            ranking_changes[answer.key] = change
            changes[answer.cell] += change
            for rank, concern in enumerate(answer.ranking, 1):
                tally = tallies[(("municipality_code", answer.municipality_code),
                                 ("month", answer.month), ("concern", concern), ("rank", rank),
                                 ("department_code", answer.municipality_code[:2]))]
                tally["count"] += added.count
                tally["perturbed"] += change
        await _add_perturbed(session, PriorityAnswer.__table__,  # type: ignore[attr-defined]
                             ANSWER_KEY, ranking_changes)
    await _add_perturbed(session, table, FINEST.key_columns,
                         {tuple(cell): change for cell, change in changes.items()})
    for grain in GRAINS[:-1]:
        rows: dict[Row, dict[str, int]] = defaultdict(lambda: {"count": 0, "perturbed": 0})
        for cell, added in cells.items():
            row = rows[grain.row(grain.key(cell))]
            row["count"] += added.count
            row["perturbed"] += changes[cell]
        await _add(session, grain.table, grain.key_columns, rows)
    await _add(session, PriorityTally.__table__, TALLY_KEY, tallies)  # type: ignore[attr-defined]
