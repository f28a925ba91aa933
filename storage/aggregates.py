"""Counts from the rollups (never from reports), so cost does not grow with the number of reports.

The finest rollups hold municipality × kind × category × month; coarser tables
(`storage.rollups.GRAINS`) hold their sums, so a query reads about as many rows
as it returns. Quarters and years are derived from the month where needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Integer, String, cast, delete, func, insert, literal, or_, update
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
    Grain,
    add,
    ranking_of,
)

DIMENSIONS = ("department", "municipality", "kind", "category", "month", "quarter", "year")
BORDA_POINTS = {1: 3, 2: 2, 3: 1}


@dataclass(frozen=True)
class Scope:
    """What the caller may count: everything (None) or some departments/municipalities."""

    departments: frozenset[str] | None = None
    municipalities: frozenset[str] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.departments is None and self.municipalities is None


@dataclass(frozen=True)
class Query:
    group_by: tuple[str, ...]
    month_from: str | None = None   # "YYYY-MM", inclusive
    month_to: str | None = None     # "YYYY-MM", inclusive
    kind: str | None = None
    scope: Scope = Scope()


def _in_scope(scope: Scope, municipality: str) -> bool:
    if scope.unrestricted:
        return True
    return (municipality in (scope.municipalities or ())) or (
        municipality[:2] in (scope.departments or ())
    )


def _year_aligned(query: Query) -> bool:
    """Whether the month window is whole calendar years, so year rollups count it exactly."""
    return (query.month_from is None or query.month_from.endswith("-01")) and (
        query.month_to is None or query.month_to.endswith("-12")
    )


def _tail(query: Query) -> tuple[str, str] | None:
    """The months after the window's end in its last year, when a year table can count the
    window by leaving them out: it starts on a January (or at the first report), ends
    before a December, and is longer than those months. So "everything up to the last
    closed month" (api.aggregates) reads the year tables and one month of a month table.
    """
    if not query.month_to or query.month_to.endswith("-12"):
        return None
    if query.month_from and not query.month_from.endswith("-01"):
        return None
    year, month = query.month_to[:4], int(query.month_to[5:])
    if query.month_from and len(months_between(query.month_from, query.month_to)) <= 12 - month:
        return None
    return f"{year}-{month + 1:02d}", f"{year}-12"


def grain_for(query: Query) -> Grain:
    """The smallest rollup table that answers the query exactly (the finest always can),
    leaving out the window's `_tail` where that is cheaper."""
    dimensions = set(query.group_by)
    by_municipality = "municipality" in dimensions or bool(query.scope.municipalities)
    by_month = bool(dimensions & {"month", "quarter"}) or not (
        _year_aligned(query) or _tail(query))
    for grain in GRAINS:
        if by_municipality and grain.place != "municipality":
            continue
        if "category" in dimensions and not grain.by_category:
            continue
        if by_month and grain.period != "month":
            continue
        return grain
    raise AssertionError("the finest rollup answers every query")


def _column(grain: Grain, dimension: str) -> Any:
    """The SQL expression of a dimension; quarters and years come from the month text."""
    table = grain.table
    if dimension == "department":
        return table.c.department_code
    if dimension == "municipality":
        return table.c.municipality_code
    if dimension in ("kind", "category"):
        return table.c[dimension]
    if grain.period == "year":
        return table.c.year  # grain_for picks a month grain for months and quarters
    month = table.c.month
    if dimension == "year":
        return func.substr(month, 1, 4)
    if dimension == "quarter":
        number = (cast(func.substr(month, 6, 2), Integer) - 1) // 3 + 1
        return func.substr(month, 1, 4) + literal("-Q") + cast(number, String)
    return month


async def count_reports(
    *, session: AsyncSession, query: Query, perturbed: bool = False
) -> dict[tuple[str, ...], int]:
    """Counts by the requested dimensions: true ones, or with `perturbed` the sums of the
    perturbed noise cells (`storage.cellkey`), which are what may be published (after
    suppression of small values).

    The database groups, one row per output cell, reading the smallest rollup
    table that answers the query exactly (`grain_for`), so the rows read stay
    close to the rows returned as reports accumulate. Every grain holds the same
    sums, so the answer does not depend on which one is read.
    """
    unknown = [d for d in query.group_by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions: {unknown}")
    if not 1 <= len(query.group_by) <= 2:
        raise ValueError("count by one or two dimensions")
    grain = grain_for(query)
    sums = await _sums(session, grain, query)
    tail = _tail(query) if grain.period == "year" else None
    if tail:  # the year table counted months after the window: take them out again
        cut = replace(query, month_from=tail[0], month_to=tail[1])
        for key, (count, noise) in (await _sums(session, grain_for(cut), cut)).items():
            total, total_noise = sums[key]
            sums[key] = (total - count, total_noise - noise)
    measure = 1 if perturbed else 0
    return {key: values[measure] for key, values in sums.items() if values[0]}


async def _sums(session: AsyncSession, grain: Grain, query: Query,
                ) -> dict[tuple[str, ...], tuple[int, int]]:
    """True and perturbed sums by the query's dimensions, from one rollup table."""
    table = grain.table
    columns = [_column(grain, d).label(f"d{i}") for i, d in enumerate(query.group_by)]
    statement = sa_select(*columns, func.sum(table.c.count),
                          func.sum(table.c.perturbed)).group_by(*columns)
    if query.kind:
        statement = statement.where(table.c.kind == query.kind)
    if grain.period == "year":
        if query.month_from:
            statement = statement.where(table.c.year >= query.month_from[:4])
        if query.month_to:
            statement = statement.where(table.c.year <= query.month_to[:4])
    else:
        if query.month_from:
            statement = statement.where(table.c.month >= query.month_from)
        if query.month_to:
            statement = statement.where(table.c.month <= query.month_to)
    if query.scope.municipalities:
        statement = statement.where(or_(
            table.c.municipality_code.in_(sorted(query.scope.municipalities)),
            table.c.department_code.in_(sorted(query.scope.departments or ())),
        ))
    elif not query.scope.unrestricted:
        statement = statement.where(
            table.c.department_code.in_(sorted(query.scope.departments or ())))
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    # One row per output cell: keep the per-row work small (it is most of an export's cost).
    if len(columns) == 1:
        return {(str(row[0]),): (int(row[1] or 0), int(row[2] or 0)) for row in rows}
    return {(str(row[0]), str(row[1])): (int(row[2] or 0), int(row[3] or 0)) for row in rows}


@dataclass(frozen=True)
class Ranking:
    municipality_code: str
    respondents: int
    concerns: tuple[tuple[str, int], ...]   # (concern code, Borda points), best first


async def priority_rankings(
    *, session: AsyncSession, month_from: str | None = None, month_to: str | None = None,
    scope: Scope = Scope(), perturbed: bool = False,
) -> list[Ranking]:
    """Per municipality: concerns ranked by Borda count (3, 2, 1 points) and respondents.

    With `perturbed`, from the perturbed rankings (what may be published): every number
    is then a sum of the same noise cells as `count_reports(perturbed=True)` of the
    priority answers, and a municipality or concern whose perturbed sum is 0 is left out.
    """
    measure = col(PriorityTally.perturbed) if perturbed else col(PriorityTally.count)
    statement = sa_select(col(PriorityTally.municipality_code), col(PriorityTally.concern),
                          col(PriorityTally.rank), func.sum(measure)).group_by(
        col(PriorityTally.municipality_code), col(PriorityTally.concern),
        col(PriorityTally.rank))
    if month_from:
        statement = statement.where(col(PriorityTally.month) >= month_from)
    if month_to:
        statement = statement.where(col(PriorityTally.month) <= month_to)
    points: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    respondents: dict[str, int] = defaultdict(int)
    for municipality, concern, rank, total in (await session.exec(statement)).all():  # type: ignore[call-overload]
        if not _in_scope(scope, municipality):
            continue
        points[municipality][concern] += BORDA_POINTS.get(int(rank), 0) * int(total or 0)
        if int(rank) == 1:  # every respondent ranks exactly one concern first
            respondents[municipality] += int(total or 0)
    return [
        Ranking(
            municipality_code=municipality,
            respondents=respondents[municipality],
            concerns=tuple(sorted(
                ((concern, total) for concern, total in points[municipality].items()
                 if total or not perturbed),  # a listed concern must not tell "someone chose it"
                key=lambda kv: (-kv[1], kv[0]))),
        )
        for municipality in sorted(points)
        if respondents[municipality] or not perturbed
    ]


def months_between(first: str, last: str) -> Sequence[str]:
    """Every "YYYY-MM" from first to last, inclusive."""
    year, month = (int(part) for part in first.split("-"))
    end = tuple(int(part) for part in last.split("-"))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


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
