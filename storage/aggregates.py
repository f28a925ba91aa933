"""Counts from the rollups (never from reports), so cost does not grow with the number of reports.

Rollups hold municipality × kind × category × month; quarters and years are
derived from the month, departments from the municipality code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, cast, func, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PriorityTally, Report, Rollup

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


def _column(dimension: str) -> Any:
    """The SQL expression of a dimension; quarters and years come from the month text."""
    month = col(Rollup.month)
    if dimension == "department":
        return col(Rollup.department_code)
    if dimension == "municipality":
        return col(Rollup.municipality_code)
    if dimension == "kind":
        return col(Rollup.kind)
    if dimension == "category":
        return col(Rollup.category)
    if dimension == "year":
        return func.substr(month, 1, 4)
    if dimension == "quarter":
        number = (cast(func.substr(month, 6, 2), Integer) - 1) // 3 + 1
        return func.substr(month, 1, 4) + literal("-Q") + cast(number, String)
    return month


async def count_reports(
    *, session: AsyncSession, query: Query
) -> dict[tuple[str, ...], int]:
    """True counts by the requested dimensions (callers must protect them before publishing).

    The database groups: one row comes back per output cell, whatever the number of
    reports or rollup rows behind it.
    """
    unknown = [d for d in query.group_by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions: {unknown}")
    columns = [_column(d).label(f"d{i}") for i, d in enumerate(query.group_by)]
    statement = sa_select(*columns, func.sum(col(Rollup.count))).group_by(*columns)
    if query.kind:
        statement = statement.where(col(Rollup.kind) == query.kind)
    if query.month_from:
        statement = statement.where(col(Rollup.month) >= query.month_from)
    if query.month_to:
        statement = statement.where(col(Rollup.month) <= query.month_to)
    if not query.scope.unrestricted:
        statement = statement.where(or_(
            col(Rollup.municipality_code).in_(sorted(query.scope.municipalities or ())),
            col(Rollup.department_code).in_(sorted(query.scope.departments or ())),
        ))
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    return {tuple(str(v) for v in row[:-1]): int(row[-1] or 0) for row in rows}


@dataclass(frozen=True)
class Ranking:
    municipality_code: str
    respondents: int
    concerns: tuple[tuple[str, int], ...]   # (concern code, Borda points), best first


async def priority_rankings(
    *, session: AsyncSession, month_from: str | None = None, month_to: str | None = None,
    scope: Scope = Scope(),
) -> list[Ranking]:
    """Per municipality: concerns ranked by Borda count (3, 2, 1 points) and respondents."""
    statement = sa_select(col(PriorityTally.municipality_code), col(PriorityTally.concern),
                          col(PriorityTally.rank), func.sum(col(PriorityTally.count))).group_by(
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
            concerns=tuple(sorted(points[municipality].items(), key=lambda kv: (-kv[1], kv[0]))),
        )
        for municipality in sorted(points)
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
    municipality_code: str
    kind: str
    category: str
    month: str
    stored: int
    recounted: int


async def recount_from_reports(*, session: AsyncSession) -> dict[tuple[str, str, str, str], int]:
    """Counts straight from the reports' clear columns (what rollups should say)."""
    statement = sa_select(col(Report.municipality_code), col(Report.kind), col(Report.category),
                          col(Report.created_hour))
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for municipality, kind, category, hour in (await session.exec(statement)).all():  # type: ignore[call-overload]
        counts[(municipality, kind, category, hour.strftime("%Y-%m"))] += 1
    return dict(counts)


async def compare_rollups(*, session: AsyncSession) -> list[RollupDifference]:
    """Where stored rollups and a recount of the stored reports disagree.

    After a retention purge, report rows stay (only their contents go), so a
    difference always means something to investigate.
    """
    recounted = await recount_from_reports(session=session)
    stored = {
        (r.municipality_code, r.kind, r.category, r.month): r.count
        for r in (await session.exec(select(Rollup))).all()
    }
    return [
        RollupDifference(*key, stored=stored.get(key, 0), recounted=recounted.get(key, 0))
        for key in sorted(set(stored) | set(recounted))
        if stored.get(key, 0) != recounted.get(key, 0)
    ]


async def rebuild_rollups(*, session: AsyncSession) -> list[RollupDifference]:
    """Replaces the rollups with a recount and returns what was different."""
    differences = await compare_rollups(session=session)
    for difference in differences:
        key = (difference.municipality_code, difference.kind, difference.category,
               difference.month)
        row = await session.get(Rollup, key)
        if difference.recounted == 0 and row is not None:
            await session.delete(row)
        elif row is None:
            session.add(Rollup(municipality_code=key[0], kind=key[1], category=key[2],
                               month=key[3], department_code=key[0][:2],
                               count=difference.recounted))
        else:
            row.count = difference.recounted
            session.add(row)
    await session.flush()
    return differences
