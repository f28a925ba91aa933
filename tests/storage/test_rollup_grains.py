"""Coarser rollup tables give the same counts as the finest one, and are rebuilt with it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import column, delete, func, insert, select, table, update
from sqlalchemy.engine import Connection

from api.demo import seed
from storage.aggregates import Query, Scope, count_reports, grain_for
from storage.cellkey import perturb
from storage.migrate import alembic_config, head_revision
from storage.models import MunicipalityYearRollup, PriorityTally, Rollup
from storage.recount import compare_rollups, rebuild_rollups, recount_from_reports
from storage.rollups import GRAINS, Cell
from storage.store import Store
from tests.support.places import TUMACO

NOW = datetime(2026, 11, 28, 9, 15, tzinfo=UTC)
QUERIES = [
    Query(group_by=("municipality",)),
    Query(group_by=("department", "month")),
    Query(group_by=("municipality", "category")),
    Query(group_by=("department", "year"), kind="threat"),
    Query(group_by=("kind", "quarter")),
    Query(group_by=("category",), month_from="2025-01", month_to="2025-12"),
    # Windows that cut a year must be counted by month.
    Query(group_by=("municipality",), month_from="2025-03"),
    Query(group_by=("year",), month_to="2026-05"),
    Query(group_by=("department", "category"), month_from="2025-02", month_to="2026-11"),
    # Windows ending before a December: year tables less the months after the end, or
    # by month when the window is shorter than those months.
    Query(group_by=("municipality",), month_to="2026-05"),
    Query(group_by=("municipality", "category"), month_from="2025-01", month_to="2025-10"),
    Query(group_by=("municipality", "kind"), month_from="2026-01", month_to="2026-02"),
    Query(group_by=("municipality", "kind"), scope=Scope(municipalities=frozenset({TUMACO}))),
    Query(group_by=("category", "year"), scope=Scope(departments=frozenset({"19"}))),
    Query(group_by=("department",), scope=Scope(departments=frozenset({"19"}),
                                                municipalities=frozenset({TUMACO}))),
]


def expected_counts(cells: dict[Cell, int], query: Query) -> dict[tuple[str, ...], int]:
    """The query answered from the finest cells, in Python."""
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for cell, count in cells.items():
        if query.kind and cell.kind != query.kind:
            continue
        if (query.month_from and cell.month < query.month_from) or (
            query.month_to and cell.month > query.month_to
        ):
            continue
        scope = query.scope
        if not scope.unrestricted and not (
            cell.municipality_code in (scope.municipalities or ())
            or cell.municipality_code[:2] in (scope.departments or ())
        ):
            continue
        values = {
            "department": cell.municipality_code[:2], "municipality": cell.municipality_code,
            "kind": cell.kind, "category": cell.category, "month": cell.month,
            "year": cell.month[:4],
            "quarter": f"{cell.month[:4]}-Q{(int(cell.month[5:]) - 1) // 3 + 1}",
        }
        counts[tuple(values[d] for d in query.group_by)] += count
    return dict(counts)


async def test_every_query_counts_the_same_as_the_reports_whichever_table_answers(
    store: Store,
) -> None:
    await seed(store=store, count=400, departments=("52", "19"), seed_value=4, now=NOW)
    async with store.transaction() as session:
        cells = await recount_from_reports(session=session)
        for query in QUERIES:
            assert await count_reports(session=session, query=query) == expected_counts(
                cells, query), query


async def test_every_table_holds_the_same_perturbed_sums_as_the_finest(store: Store) -> None:
    """Published numbers do not depend on which rollup table answers: every grain adds up
    the same perturbed noise cells, and those match a recount from the record keys."""
    await seed(store=store, count=400, departments=("52", "19"), seed_value=4, now=NOW)
    finest = Rollup.__table__
    async with store.transaction() as session:
        assert await compare_rollups(session=session) == []
        noise_cells = {Cell(*row[:4]): int(row[4]) for row in (await session.exec(select(
            finest.c.municipality_code, finest.c.kind, finest.c.category, finest.c.month,
            finest.c.perturbed))).all()}
        truth = await recount_from_reports(session=session)
        for query in QUERIES:
            assert await count_reports(session=session, query=query, perturbed=True) == (
                expected_counts(noise_cells, query)), query
    assert noise_cells != truth  # the noise is there


@pytest.mark.parametrize(("query", "table"), [
    (Query(group_by=("municipality",)), "rollups_municipality_year"),
    (Query(group_by=("department", "year"), kind="threat"), "rollups_department_month"),
    (Query(group_by=("kind",), month_from="2025-03"), "rollups_department_month"),
    (Query(group_by=("department", "month")), "rollups_department_month"),
    (Query(group_by=("department", "category"), month_from="2025-03"),
     "rollups_department_category_month"),
    (Query(group_by=("category", "quarter")), "rollups_department_category_month"),
    (Query(group_by=("municipality", "category")), "rollups_municipality_category_year"),
    (Query(group_by=("municipality",), month_from="2025-03"), "rollups"),
    # Up to the last closed month (what every output asks): the year table, less a month.
    (Query(group_by=("municipality",), month_to="2026-11"), "rollups_municipality_year"),
    (Query(group_by=("municipality", "kind"), month_from="2026-01", month_to="2026-02"),
     "rollups"),
    (Query(group_by=("municipality", "quarter")), "rollups"),
    (Query(group_by=("department",), scope=Scope(municipalities=frozenset({TUMACO}))),
     "rollups_municipality_year"),
])
def test_the_smallest_table_that_answers_exactly_is_read(query: Query, table: str) -> None:
    assert grain_for(query).name == table


async def test_rebuild_compares_and_repairs_every_rollup_table(store: Store) -> None:
    await seed(store=store, count=60, departments=("52",), seed_value=5, now=NOW)
    year_table = MunicipalityYearRollup.__table__
    async with store.transaction() as session:
        first = (await session.exec(select(year_table).limit(1))).one()
        await session.exec(delete(year_table).where(
            year_table.c.municipality_code == first.municipality_code,
            year_table.c.kind == first.kind, year_table.c.year == first.year))
    async with store.transaction() as session:
        (difference,) = await compare_rollups(session=session)
        assert (difference.table, difference.cell) == (
            "rollups_municipality_year", (first.municipality_code, first.kind, first.year))
        assert (difference.stored, difference.recounted) == (0, first.count)
        assert await rebuild_rollups(session=session) == [difference]
    async with store.transaction() as session:
        assert await compare_rollups(session=session) == []
        restored = (await session.exec(select(year_table.c.count, year_table.c.department_code)
                                       .where(year_table.c.municipality_code
                                              == first.municipality_code,
                                              year_table.c.kind == first.kind,
                                              year_table.c.year == first.year))).one()
        assert tuple(restored) == (first.count, first.municipality_code[:2])


async def test_upgrading_fills_the_coarser_tables_from_existing_rollups(
    store: Store,
) -> None:
    def to_0001(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0001")

    def to_head(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), head_revision())

    async with store.engine.begin() as connection:
        await connection.run_sync(to_0001)
        # The rollups table as revision 0001 made it (the model has more columns now).
        rollups_0001 = table("rollups", *(column(name) for name in (
            "municipality_code", "department_code", "kind", "category", "month", "count")))
        await connection.execute(insert(rollups_0001), [
            {"municipality_code": TUMACO, "department_code": "52", "kind": "threat",
             "category": "threat.attack", "month": month, "count": count}
            for month, count in (("2025-03", 2), ("2025-11", 3), ("2026-01", 4))
        ])
        await connection.run_sync(to_head)
    async with store.transaction() as session:
        by_year = await count_reports(session=session, query=Query(group_by=("year",)))
        by_month = await count_reports(session=session, query=Query(group_by=("department",
                                                                               "month")))
        per_table = {
            grain.name: tuple((await session.exec(select(
                func.count(), func.sum(grain.table.c.count)))).one())
            for grain in GRAINS
        }
    assert by_year == {("2025",): 5, ("2026",): 4}
    assert by_month == {("52", "2025-03"): 2, ("52", "2025-11"): 3, ("52", "2026-01"): 4}
    assert per_table == {
        "rollups_department_month": (3, 9), "rollups_department_category_month": (3, 9),
        "rollups_municipality_year": (2, 9), "rollups_municipality_category_year": (2, 9),
        "rollups": (3, 9),
    }


async def test_rebuild_recomputes_cell_keys_and_noise_from_the_record_keys(store: Store) -> None:
    await seed(store=store, count=60, departments=("52",), seed_value=5, now=NOW)
    finest, tallies = Rollup.__table__, PriorityTally.__table__
    async with store.transaction() as session:
        first = (await session.exec(select(finest).where(finest.c.kind == "threat")
                                    .limit(1))).one()
        tally = (await session.exec(select(tallies).limit(1))).one()
        await session.exec(update(finest).where(
            finest.c.municipality_code == first.municipality_code, finest.c.kind == "threat",
            finest.c.category == first.category, finest.c.month == first.month,
        ).values(key_sum=first.key_sum + 1, perturbed=first.perturbed + 5))
        await session.exec(update(tallies).where(
            tallies.c.municipality_code == tally.municipality_code,
            tallies.c.month == tally.month, tallies.c.concern == tally.concern,
            tallies.c.rank == tally.rank).values(perturbed=tally.perturbed + 1))
    async with store.transaction() as session:
        found = {(d.table, d.cell): d for d in await compare_rollups(session=session)}
        assert set(found) == {
            ("rollups", tuple(first)[:4]),
            ("priority_tallies", (tally.municipality_code, tally.month, tally.concern,
                                  str(tally.rank))),
        }
        changed = found[("rollups", tuple(first)[:4])]
        assert (changed.stored, changed.recounted) == (first.count, first.count)
        assert (changed.stored_key_sum, changed.recounted_key_sum) == (
            first.key_sum + 1, first.key_sum)
        assert changed.recounted_perturbed == perturb(first.count, first.key_sum)
        await rebuild_rollups(session=session)
    async with store.transaction() as session:
        assert await compare_rollups(session=session) == []
