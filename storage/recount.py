"""Recounting the rollups from the stored reports: `somos rollups rebuild [--check]`.

Every rollup table, its key sums and perturbed sums, and the priority tallies and
rankings are recounted from the report rows and compared with what is stored; a
rebuild writes the recount back. Priority rankings stored before migration 0008 cannot
be repaired (their concerns are sealed in the reports).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cellkey import KEY_SPACE, perturb
from storage.models import PriorityAnswer, PriorityTally, Report
from storage.rollups import (
    ANSWER_KEY,
    FINEST,
    GRAINS,
    PRIORITY,
    TALLY_KEY,
    Added,
    AnswerCell,
    Cell,
    add,
    ranking_of,
)


@dataclass(frozen=True)
class RollupDifference:
    """A rollup cell whose stored values differ from a recount (count, and the noise)."""

    table: str
    cell: tuple[str, ...]   # the table's key columns, in order
    stored: int             # count
    recounted: int
    stored_perturbed: int = 0
    recounted_perturbed: int = 0
    stored_key_sum: int = 0        # the cell key, where the table keeps one
    recounted_key_sum: int = 0


Values = dict[str, int]


async def recount_noise_cells(*, session: AsyncSession) -> dict[Cell, Added]:
    """Count and cell key of every finest cell, straight from the reports' clear columns."""
    statement = sa_select(col(Report.municipality_code), col(Report.kind), col(Report.category),
                          col(Report.created_hour), col(Report.record_key))
    counts: dict[Cell, int] = defaultdict(int)
    keys: dict[Cell, int] = defaultdict(int)
    for municipality, kind, category, hour, key in (await session.exec(statement)).all():  # type: ignore[call-overload]
        cell = Cell(municipality, kind, category, hour.strftime("%Y-%m"))
        counts[cell] += 1
        keys[cell] += int(key)
    return {cell: Added(count, keys[cell] % KEY_SPACE) for cell, count in counts.items()}


async def recount_from_reports(*, session: AsyncSession) -> dict[Cell, int]:
    """Counts straight from the reports' clear columns (what the finest rollups should say)."""
    return {cell: added.count
            for cell, added in (await recount_noise_cells(session=session)).items()}


@dataclass(frozen=True)
class _Expected:
    """What one rollup table should hold, in the columns a recount can check."""

    table: Any
    key_columns: tuple[str, ...]
    columns: tuple[str, ...]
    cells: dict[tuple[str, ...], Values]

    @property
    def name(self) -> str:
        return str(self.table.name)

    def where(self, key: tuple[str, ...]) -> list[Any]:
        return [self.table.c[name] == (int(value) if name == "rank" else value)
                for name, value in zip(self.key_columns, key, strict=True)]


async def _stored(session: AsyncSession, expected: _Expected) -> dict[tuple[str, ...], Values]:
    table, width = expected.table, len(expected.key_columns)
    statement = sa_select(*(table.c[name] for name in (*expected.key_columns,
                                                        *expected.columns)))
    return {
        tuple(str(v) for v in row[:width]): dict(zip(expected.columns,
                                                     (int(v) for v in row[width:]), strict=True))
        for row in (await session.exec(statement)).all()  # type: ignore[call-overload]
    }


def _add_to(cells: dict[tuple[str, ...], Values], key: tuple[str, ...], values: Values) -> None:
    cell = cells.setdefault(key, dict.fromkeys(values, 0))
    for name, value in values.items():
        cell[name] += value


async def _recount(session: AsyncSession) -> tuple[list[_Expected], list[RollupDifference]]:
    """What every rollup table should hold, and the priority cells whose stored rankings
    disagree with their reports.

    Threat and stigma cells are recounted from the reports. A priority cell's count and
    cell key are too, but its perturbed value is the sum over its stored rankings (their
    concerns beyond the first are sealed in the reports), so the rankings are checked to
    add up to the reports' count and key, and the tallies to the rankings.
    """
    recounted = await recount_noise_cells(session=session)
    answers = _Expected(PriorityAnswer.__table__, ANSWER_KEY,  # type: ignore[attr-defined]
                        ("count", "key_sum", "perturbed"), {})
    tallies = _Expected(PriorityTally.__table__, TALLY_KEY,  # type: ignore[attr-defined]
                        ("perturbed",), {})
    ranked: dict[Cell, Added] = {}
    ranked_noise: dict[Cell, int] = defaultdict(int)
    for (municipality, month, text), values in (await _stored(session, answers)).items():
        ranking = ranking_of(text)
        cell = AnswerCell(municipality, month, ranking).cell
        stored = Added(values["count"], values["key_sum"])
        ranked[cell] = add(ranked.get(cell, Added(0, 0)), stored)
        noise = perturb(stored.count, stored.key_sum)
        ranked_noise[cell] += noise
        answers.cells[(municipality, month, text)] = values | {"perturbed": noise}
        for rank, concern in enumerate(ranking, 1):
            _add_to(tallies.cells, (municipality, month, concern, str(rank)),
                    {"perturbed": noise})
    mismatched = [
        RollupDifference(answers.name, (cell.municipality_code, cell.month, cell.category),
                         stored=ranked.get(cell, Added(0, 0)).count,
                         recounted=recounted.get(cell, Added(0, 0)).count,
                         stored_key_sum=ranked.get(cell, Added(0, 0)).key_sum,
                         recounted_key_sum=recounted.get(cell, Added(0, 0)).key_sum)
        for cell in sorted(set(ranked) | {c for c in recounted if c.kind == PRIORITY})
        if ranked.get(cell) != recounted.get(cell)
    ]
    finest = _Expected(FINEST.table, FINEST.key_columns, ("count", "key_sum", "perturbed"), {})
    for cell, added in recounted.items():
        noise = (ranked_noise[cell] if cell.kind == PRIORITY
                 else perturb(added.count, added.key_sum))
        finest.cells[tuple(cell)] = {"count": added.count, "key_sum": added.key_sum,
                                     "perturbed": noise}
    for cell, noise in ranked_noise.items():  # rankings without reports: reported above
        finest.cells.setdefault(tuple(cell), {"count": 0, "key_sum": 0, "perturbed": noise})
    expected = [finest, answers, tallies]
    for grain in GRAINS[:-1]:
        sums = _Expected(grain.table, grain.key_columns, ("count", "perturbed"), {})
        for key, values in finest.cells.items():
            _add_to(sums.cells, grain.key(Cell(*key)),
                    {"count": values["count"], "perturbed": values["perturbed"]})
        expected.append(sums)
    return expected, mismatched


def _difference(expected: _Expected, key: tuple[str, ...], stored: Values | None,
                ) -> RollupDifference | None:
    was = stored or dict.fromkeys(expected.columns, 0)
    should = expected.cells.get(key) or dict.fromkeys(expected.columns, 0)
    if all(was[c] == should[c] for c in expected.columns):
        return None
    return RollupDifference(
        expected.name, key, stored=was.get("count", 0), recounted=should.get("count", 0),
        stored_perturbed=was["perturbed"], recounted_perturbed=should["perturbed"],
        stored_key_sum=was.get("key_sum", 0), recounted_key_sum=should.get("key_sum", 0))


async def _compare(session: AsyncSession) -> tuple[list[_Expected], list[RollupDifference]]:
    expected, differences = await _recount(session)
    for table in expected:
        stored = await _stored(session, table)
        for key in sorted(set(stored) | set(table.cells)):
            found = _difference(table, key, stored.get(key))
            if found is not None:
                differences.append(found)
    return expected, differences


async def compare_rollups(*, session: AsyncSession) -> list[RollupDifference]:
    """Where any rollup table and a recount of the stored reports disagree.

    After a retention purge, report rows stay (only their contents go), so a
    difference always means something to investigate. Tallies are compared by their
    perturbed values only: their true counts of second and third concerns come from
    sealed answers (and, for answers stored before the rankings table, from nowhere else).
    """
    return (await _compare(session))[1]


async def rebuild_rollups(*, session: AsyncSession) -> list[RollupDifference]:
    """Sets every rollup table to a recount and returns what was different.

    Rankings of priority answers that disagree with their reports are reported, not
    changed: their concerns are sealed in the reports.
    """
    expected, differences = await _compare(session)
    tables = {table.name: table for table in expected}
    grains = {grain.name: grain for grain in GRAINS}
    for difference in differences:
        table = tables[difference.table]
        values = table.cells.get(difference.cell)
        if table.name == PriorityAnswer.__tablename__:
            if values:  # a stored ranking: only its perturbed value can be recomputed
                await session.exec(update(table.table).where(
                    *table.where(difference.cell)).values(perturbed=values["perturbed"]))
            continue
        if table.name == PriorityTally.__tablename__:
            noise = (values or {}).get("perturbed", 0)
            changed = await session.exec(update(table.table).where(
                *table.where(difference.cell)).values(perturbed=noise))
            if not changed.rowcount:
                municipality, month, concern, rank = difference.cell
                await session.exec(insert(table.table).values(
                    municipality_code=municipality, month=month, concern=concern,
                    rank=int(rank), department_code=municipality[:2], count=0,
                    perturbed=noise))
            continue
        await session.exec(delete(table.table).where(*table.where(difference.cell)))
        if values and (values["count"] or values["perturbed"]):
            await session.exec(insert(table.table).values(
                dict(grains[table.name].row(difference.cell)) | values))
    return differences
