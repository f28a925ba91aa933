"""Statistical disclosure control (design §7): small cells and what can be derived from totals."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.disclosure import Published, Table, protect, protect_public, protect_series
from tests.support.fuzzing import examples

PROPERTY = settings(max_examples=examples(300), deadline=None, database=None)


def grid(values: Sequence[Sequence[int]]) -> Table:
    rows = tuple(f"r{i}" for i in range(len(values)))
    columns = tuple(f"c{j}" for j in range(len(values[0]) if values else 0))
    counts = {
        (r, c): v
        for r, line in zip(rows, values, strict=True)
        for c, v in zip(columns, line, strict=True)
    }
    return Table(rows, columns, counts)


def true_row_total(table: Table, row: str) -> int:
    return sum(table.count(row, c) for c in table.columns)


def true_column_total(table: Table, column: str) -> int:
    return sum(table.count(r, column) for r in table.rows)


def true_total(table: Table) -> int:
    return sum(table.count(r, c) for r in table.rows for c in table.columns)


# --------------------------------------------------------------------------- exact derivability


def _reduce(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """Reduced row echelon form, as (pivot column, row) pairs; exact arithmetic."""
    basis: list[tuple[int, list[Fraction]]] = []
    for original in rows:
        row = _reduce_against(list(original), basis)
        pivot = next((j for j, a in enumerate(row) if a != 0), None)
        if pivot is None:
            continue
        row = [a / row[pivot] for a in row]
        basis = [(p, [a - b[pivot] * x for a, x in zip(b, row, strict=True)]) for p, b in basis]
        basis.append((pivot, row))
    return basis


def _reduce_against(
    vector: list[Fraction], basis: list[tuple[int, list[Fraction]]]
) -> list[Fraction]:
    for pivot, row in basis:
        factor = vector[pivot]
        if factor != 0:
            vector = [a - factor * b for a, b in zip(vector, row, strict=True)]
    return vector


def exposed(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Mapping[tuple[str, str], int | None],
    row_totals: Mapping[str, int | None],
    column_totals: Mapping[str, int | None],
    total: int | None,
) -> set[object]:
    """Suppressed cells (and totals) whose exact value follows from what is published.

    Unknowns: the suppressed cells x.  Every published total is an equation "sum of the
    unknowns of its line = total - published cells of its line".  A suppressed cell is
    exactly derivable iff its unit vector lies in the row space of that system (the
    equations' right-hand sides do not matter); a suppressed total likewise iff the
    indicator of its line's unknowns does.
    """
    unknown = [(r, c) for r in rows for c in columns if cells[(r, c)] is None]

    def indicator(member: set[tuple[str, str]]) -> list[Fraction]:
        return [Fraction(int(cell in member)) for cell in unknown]

    lines: dict[object, set[tuple[str, str]]] = {
        ("row", r): {(r, c) for c in columns} for r in rows
    }
    lines.update({("column", c): {(r, c) for r in rows} for c in columns})
    lines["total"] = {(r, c) for r in rows for c in columns}
    published: dict[object, int | None] = {("row", r): v for r, v in row_totals.items()}
    published.update({("column", c): v for c, v in column_totals.items()})
    published["total"] = total

    basis = _reduce([indicator(lines[name]) for name, v in published.items() if v is not None])

    def determined(vector: list[Fraction]) -> bool:
        return all(a == 0 for a in _reduce_against(vector, basis))

    found: set[object] = {cell for cell in unknown if determined(indicator({cell}))}
    found |= {
        name
        for name, v in published.items()
        if v is None and determined(indicator(lines[name]))
    }
    return found


def exposed_in(published: Published) -> set[object]:
    return exposed(
        published.rows,
        published.columns,
        published.cells,
        published.row_totals,
        published.column_totals,
        published.total,
    )


def primary_only(table: Table, k: int) -> dict[tuple[str, str], int | None]:
    return {
        (r, c): None if 1 <= table.count(r, c) < k else table.count(r, c)
        for r in table.rows
        for c in table.columns
    }


def true_margins(table: Table) -> tuple[dict[str, int | None], dict[str, int | None], int]:
    return (
        {r: true_row_total(table, r) for r in table.rows},
        {c: true_column_total(table, c) for c in table.columns},
        true_total(table),
    )


def test_the_derivability_check_catches_a_lone_suppression() -> None:
    table = grid([[3, 20], [15, 30]])
    row_totals, column_totals, total = true_margins(table)
    found = exposed(
        table.rows, table.columns, primary_only(table, 5), row_totals, column_totals, total
    )
    assert found == {("r0", "c0")}


def test_the_derivability_check_sees_past_two_suppressions_per_line() -> None:
    # Two 2x2 blocks of suppressions joined by one suppressed cell: every line has at
    # least two suppressions, yet the joining cell is the difference of two sums.
    table = bridged_blocks()
    row_totals, column_totals, total = true_margins(table)
    found = exposed(
        table.rows, table.columns, primary_only(table, 5), row_totals, column_totals, total
    )
    assert found == {("a", "3")}


def test_the_derivability_check_accepts_a_cycle_and_flags_a_bare_total() -> None:
    cells: dict[tuple[str, str], int | None] = {("a", "x"): None, ("a", "y"): None}
    cells |= {("b", "x"): None, ("b", "y"): None}
    assert exposed("ab", "xy", cells, {"a": 9, "b": 9}, {"x": 9, "y": 9}, 18) == set()
    published = {("a", "x"): 5, ("a", "y"): 6, ("b", "x"): 7, ("b", "y"): 8}
    assert exposed("ab", "xy", published, {"a": None, "b": 15}, {"x": 12, "y": 14}, 26) == {
        ("row", "a")
    }


# --------------------------------------------------------------------------- examples


def bridged_blocks() -> Table:
    rows, columns = ("a", "b", "c", "d"), ("1", "2", "3", "4", "5")
    counts = {(r, c): 20 for r in rows for c in columns}
    counts |= {(r, c): 2 for r in "ab" for c in "12"}
    counts |= {(r, c): 2 for r in "cd" for c in "34"}
    counts[("a", "3")] = 3
    return Table(rows, columns, counts)


def test_a_2x2_with_one_small_cell_suppresses_all_four_cells_and_keeps_the_margins() -> None:
    published = protect(grid([[3, 20], [15, 30]]), k=5)
    assert set(published.cells.values()) == {None}
    assert dict(published.row_totals) == {"r0": 23, "r1": 45}
    assert dict(published.column_totals) == {"c0": 18, "c1": 50}
    assert published.total == 68
    assert (published.suppressed_primary, published.suppressed_complementary) == (1, 3)
    assert published.suppressed_margins == 0
    assert exposed_in(published) == set()


def test_a_small_cell_alone_in_its_row_hides_the_row_total_not_the_zero() -> None:
    table = grid([[3, 0], [15, 30]])
    published = protect(table, k=5)
    assert published.cells[("r0", "c0")] is None
    assert published.cells[("r0", "c1")] == 0
    assert published.row_totals["r0"] is None
    assert exposed_in(published) == set()


def test_blocks_joined_by_one_cell_get_a_cycle_through_that_cell() -> None:
    table = bridged_blocks()
    published = protect(table, k=5)
    assert published.suppressed_primary == 9
    assert published.suppressed_complementary >= 1
    assert exposed_in(published) == set()


def test_zeros_are_published_and_never_suppressed_for_analysts() -> None:
    table = grid([[0, 0, 2], [0, 7, 0], [0, 0, 0]])
    published = protect(table, k=5)
    zeros = [cell for cell in published.cells if table.count(*cell) == 0]
    assert zeros and all(published.cells[cell] == 0 for cell in zeros)
    assert published.cells[("r0", "c2")] is None
    assert protect(grid([[0, 0], [0, 0]])).cells == dict.fromkeys(grid([[0, 0], [0, 0]]).counts, 0)


def test_the_public_profile_shows_a_zero_like_a_small_count() -> None:
    # Design §7: the public profile does not tell a true zero from a protected small count.
    table = grid([[0, 3, 4], [20, 30, 40]])
    assert protect(table, k=5).cells[("r0", "c0")] == 0
    published = protect_public(table, k=5)
    assert published.cells[("r0", "c0")] is None and published.cells[("r0", "c1")] is None
    assert published.cells[("r1", "c0")] == 20
    assert published.row_totals["r0"] is None and published.total == 20


def test_k_1_publishes_everything() -> None:
    table = grid([[1, 2], [3, 0]])
    published = protect(table, k=1)
    assert dict(published.cells) == dict(table.counts)
    assert dict(published.row_totals) == {"r0": 3, "r1": 3}
    assert dict(published.column_totals) == {"c0": 4, "c1": 2}
    assert published.total == 6
    assert published.suppressed_primary == published.suppressed_complementary == 0
    # k=1 hides nothing but the public profile's zero.
    assert protect_public(table, k=1).cells == dict(published.cells) | {("r1", "c1"): None}


@pytest.mark.parametrize("profile", [protect, protect_public])
def test_empty_tables(profile: Callable[[Table], Published]) -> None:
    empty = profile(Table((), (), {}))
    assert (dict(empty.cells), dict(empty.row_totals), dict(empty.column_totals)) == ({}, {}, {})
    nothing = None if profile is protect_public else 0  # the public profile shows no zero
    assert empty.total == nothing
    no_columns = profile(Table(("a", "b"), (), {}))
    assert dict(no_columns.row_totals) == {"a": nothing, "b": nothing}
    assert no_columns.total == nothing


def test_small_totals_are_suppressed_in_the_analyst_profile() -> None:
    published = protect(grid([[2, 0, 0], [1, 0, 0], [40, 50, 60]]), k=5)
    assert published.row_totals["r0"] is None and published.row_totals["r1"] is None
    assert published.column_totals["c1"] == 50
    assert exposed_in(published) == set()


def test_the_public_profile_publishes_sums_of_published_cells_only() -> None:
    table = grid([[3, 20, 40], [15, 30, 50], [12, 11, 60]])
    published = protect_public(table)
    assert published.k == 10 and published.margins_from_published_only
    assert published.cells[("r0", "c0")] is None
    for r in table.rows:
        assert published.row_totals[r] == sum(published.cells[(r, c)] or 0 for c in table.columns)
    assert published.total == sum(v or 0 for v in published.cells.values())
    assert published.total != true_total(table)
    assert not protect(table).margins_from_published_only


def test_the_same_table_gives_the_same_output_whatever_the_dict_order() -> None:
    table = bridged_blocks()
    reordered = Table(table.rows, table.columns, dict(reversed(list(table.counts.items()))))
    assert protect(table) == protect(reordered) == protect(table)
    assert protect_public(table) == protect_public(reordered)


def test_the_table_keeps_its_own_copy_of_the_counts() -> None:
    counts = {("a", "x"): 3}
    table = Table(("a",), ("x",), counts)
    counts[("a", "x")] = 30
    assert table.count("a", "x") == 3


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: Table(("a", "a"), ("x",), {}), ValueError),
        (lambda: Table(("a",), ("x", "x"), {}), ValueError),
        (lambda: Table(("a",), ("x",), {("a", "y"): 1}), ValueError),
        (lambda: Table(("a",), ("x",), {("a", "x"): -1}), ValueError),
        (lambda: Table(("a",), ("x",), {("a", "x"): True}), TypeError),
        (lambda: Table(("a",), ("x",), {("a", "x"): 1.0}), TypeError),  # type: ignore[dict-item]
        (lambda: protect(grid([[1]]), k=0), ValueError),
        (lambda: protect_public(grid([[1]]), k=0), ValueError),
        (lambda: protect_series({"a": 1}, k=0), ValueError),
        (lambda: protect_series({"a": -1}), ValueError),
    ],
)
def test_invalid_input_is_refused(build: Callable[[], object], error: type[Exception]) -> None:
    with pytest.raises(error):
        build()


@pytest.mark.parametrize(
    ("counts", "k", "cells", "total"),
    [
        ({}, 5, {}, 0),
        ({"jan": 0, "feb": 0}, 5, {"jan": 0, "feb": 0}, 0),
        ({"jan": 3, "feb": 20}, 5, {"jan": None, "feb": None}, 23),
        ({"jan": 3, "feb": 0}, 5, {"jan": None, "feb": 0}, None),
        ({"jan": 3, "feb": 0, "mar": 7}, 5, {"jan": None, "feb": 0, "mar": None}, 10),
        (
            {"jan": 30, "feb": 3, "mar": 9, "apr": 9},
            5,
            {"jan": 30, "feb": None, "mar": None, "apr": 9},
            51,
        ),
        ({"jan": 3, "feb": 4, "mar": 30}, 5, {"jan": None, "feb": None, "mar": 30}, 37),
        ({"jan": 3, "feb": 4}, 10, {"jan": None, "feb": None}, None),
        ({"jan": 3, "feb": 4}, 1, {"jan": 3, "feb": 4}, 7),
    ],
)
def test_series_examples(
    counts: dict[str, int], k: int, cells: dict[str, int | None], total: int | None
) -> None:
    assert protect_series(counts, k=k) == (cells, total)


# --------------------------------------------------------------------------- properties


@st.composite
def tables(draw: st.DrawFn) -> tuple[Table, int]:
    k = draw(st.integers(2, 12))
    rows = tuple(f"r{i}" for i in range(draw(st.integers(1, 8))))
    columns = tuple(f"c{j}" for j in range(draw(st.integers(1, 8))))
    value = st.one_of(st.just(0), st.integers(1, k - 1), st.integers(k, 4 * k + 20))
    counts = {(r, c): draw(value) for r in rows for c in columns}
    return Table(rows, columns, counts), k


def check_common(table: Table, k: int, published: Published) -> None:
    assert published.rows == table.rows and published.columns == table.columns
    assert published.k == k
    # (1) nothing published is in 1..k-1
    published_values = [v for v in published.cells.values() if v is not None]
    published_values += [v for v in published.row_totals.values() if v is not None]
    published_values += [v for v in published.column_totals.values() if v is not None]
    published_values += [published.total] if published.total is not None else []
    assert not [v for v in published_values if 1 <= v < k]
    # (3) published cells are the table's counts; zeros are always published to analysts,
    # never to the public (a zero looks like a small count there)
    public = published.margins_from_published_only
    for (r, c), v in published.cells.items():
        true = table.count(r, c)
        assert v == true or (v is None and (true > 0 or public))
    hidden = [cell for cell, v in published.cells.items() if v is None]
    small = [cell for cell in hidden if table.count(*cell) < k]
    assert published.suppressed_primary == len(small)
    assert published.suppressed_complementary == len(hidden) - len(small)
    margins = [*published.row_totals.values(), *published.column_totals.values(), published.total]
    assert published.suppressed_margins == margins.count(None)


@PROPERTY
@given(tables())
def test_analyst_profile_properties(case: tuple[Table, int]) -> None:
    table, k = case
    published = protect(table, k=k)
    check_common(table, k, published)
    assert not published.margins_from_published_only
    # (2) no suppressed cell (nor suppressed total) is exactly derivable
    assert exposed_in(published) == set()
    # published totals are the true totals
    for r, v in published.row_totals.items():
        assert v is None or v == true_row_total(table, r)
    for c, v in published.column_totals.items():
        assert v is None or v == true_column_total(table, c)
    assert published.total is None or published.total == true_total(table)


@PROPERTY
@given(tables())
def test_public_profile_properties(case: tuple[Table, int]) -> None:
    table, k = case
    published = protect_public(table, k=k)
    check_common(table, k, published)
    assert published.margins_from_published_only
    # (4) every total is the sum of the published cells of its line (None when nothing
    # is shown: 0 would be a zero) ...
    cells = published.cells

    def shown(values: list[int | None]) -> int | None:
        return sum(v or 0 for v in values) or None

    for r in table.rows:
        assert published.row_totals[r] == shown([cells[(r, c)] for c in table.columns])
    for c in table.columns:
        assert published.column_totals[c] == shown([cells[(r, c)] for r in table.rows])
    assert published.total == shown(list(cells.values()))
    assert not [v for v in cells.values() if v is not None and v < k]
    # (2) ... so the published totals say nothing about suppressed cells; and even someone
    # who knows the true totals an analyst release at the same k would publish cannot
    # recover a suppressed non-zero cell exactly (that release publishes the zeros the
    # public one hides, so those it may "recover").
    analyst = protect(table, k=k)
    found = exposed(
        table.rows, table.columns, cells, analyst.row_totals, analyst.column_totals, analyst.total
    )
    assert not [name for name in found if name in cells and table.count(*name)]


@PROPERTY
@given(st.data())
def test_series_properties(data: st.DataObject) -> None:
    k = data.draw(st.integers(2, 12))
    value = st.one_of(st.just(0), st.integers(1, k - 1), st.integers(k, 4 * k + 20))
    values = data.draw(st.lists(value, max_size=12))
    counts = {f"m{i:02d}": v for i, v in enumerate(values)}
    cells, total = protect_series(counts, k=k)
    assert list(cells) == list(counts)
    for key, v in cells.items():
        assert v == counts[key] or (v is None and counts[key] > 0)
        assert v is None or not 1 <= v < k
    assert total is None or (total == sum(values) and not 1 <= total < k)
    # The only equation is "cells sum to the total": exactly derivable iff one unknown.
    if total is not None:
        assert list(cells.values()).count(None) != 1
