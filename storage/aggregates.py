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

from sqlalchemy import Integer, String, cast, func, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PriorityTally
from storage.rollups import (
    GRAINS,
    Grain,
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

    def covers(self, municipality: str) -> bool:
        """Whether a municipality's counts are the caller's to see."""
        return self.unrestricted or (municipality in (self.municipalities or ())) or (
            municipality[:2] in (self.departments or ()))


@dataclass(frozen=True)
class Query:
    group_by: tuple[str, ...]
    month_from: str | None = None   # "YYYY-MM", inclusive
    month_to: str | None = None     # "YYYY-MM", inclusive
    kind: str | None = None
    scope: Scope = Scope()


def _in_scope(scope: Scope, municipality: str) -> bool:
    return scope.covers(municipality)


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
    municipality_code: str  # a department's two digits in rankings by department
    respondents: int
    concerns: tuple[tuple[str, int], ...]   # (concern code, Borda points), best first


async def priority_rankings(
    *, session: AsyncSession, month_from: str | None = None, month_to: str | None = None,
    scope: Scope = Scope(), perturbed: bool = False, by: str = "municipality",
) -> list[Ranking]:
    """Per municipality (or, with `by="department"`, per department: its municipalities in
    the scope added up): concerns ranked by Borda count (3, 2, 1 points) and respondents.
    A department's ranking is then in `Ranking.municipality_code` (two digits).

    With `perturbed`, from the perturbed rankings (what may be published): every number
    is then a sum of the same noise cells as `count_reports(perturbed=True)` of the
    priority answers, and a place or concern whose perturbed sum is 0 is left out.
    """
    if by not in ("municipality", "department"):
        raise ValueError(f"rankings by municipality or department, not {by!r}")
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
        place = municipality if by == "municipality" else municipality[:2]
        points[place][concern] += BORDA_POINTS.get(int(rank), 0) * int(total or 0)
        if int(rank) == 1:  # every respondent ranks exactly one concern first
            respondents[place] += int(total or 0)
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
