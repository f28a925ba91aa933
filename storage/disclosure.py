"""Statistical disclosure control for published counts (design §7).

Pure functions, standard library only: the caller builds a :class:`Table` of true
counts (for example municipality × category), and gets back a :class:`Published`
table in which

* every cell with a count in ``1..k-1`` is suppressed (``None``: *primary*
  suppression); zeros are published (except in the public profile, below), and a
  zero is never needed as a complement;
* no published cell, row total, column total or grand total lies in ``1..k-1``;
* no suppressed value can be recovered *exactly* from what is published
  (*complementary* suppression), even by an attacker who knows that counts are
  non-negative.

The model
---------
Add the margins to the table as an extra row (column totals, then the grand
total in the corner) and an extra column (row totals).  Every line of this
``(m+1) × (n+1)`` *augmented* table is a linear constraint: its cells sum to its
total.  Draw a bipartite graph whose nodes are the augmented lines (rows on one
side, columns on the other) and whose edges are the suppressed entries.  The
solutions of the published constraints are the published values plus any
*circulation* on that graph, so a suppressed entry is exactly derivable if and
only if its edge is a **bridge** (lies on no cycle).  Since only non-zero
entries are ever suppressed, moving one unit around a cycle keeps every count
non-negative: a suppressed entry on a cycle has at least three feasible values.

The algorithm
-------------
1. Primary: suppress every entry (cells and true margins) in ``1..k-1``.
2. Lines (design §7): while some augmented line has exactly one suppressed
   entry, suppress the smallest non-zero published entry of that line other
   than its total (ties: first in display order); if there is none, its total.
3. Cycles: step 2 leaves no line with a single suppression, which is necessary
   but not sufficient (two blocks of suppressions joined by one cell still leak
   that cell).  For every remaining bridge, suppress the cheapest path that
   closes a cycle through it (Dijkstra; cost = the count, and any margin costs
   more than all cells together, so margins are suppressed only when no cell
   path exists).  Such a path always exists (cell, its row total, the grand
   total, its column total), each one closes at least that bridge and adding
   edges never creates one, so this ends; bridges are recomputed after each.

Everything is deterministic: the same table gives the same output whatever the
iteration order of ``Table.counts``.

Profiles
--------
:func:`protect` (analysts): the table's own margins are published when safe,
and suppressed (``None``) when they are small or needed as complements.

:func:`protect_public` (k=10 by default): the same cell pattern at its ``k``
(so it stays safe even against the margins an analyst release at that ``k``
would publish), then every value below ``k`` — a zero too — is ``None``, so a
zero and a small count look the same; every published margin is the sum of the
*published cells only* (``margins_from_published_only=True``; ``None`` below
``k``), so no margin carries any information about a suppressed cell.

What this does not cover
------------------------
* Interval disclosure: a suppressed cell can still be bounded (say "between 1
  and 3") by linear programming over the published values.
* Presence, in the analyst profile: since zeros are published, ``None`` means
  "at least one".
* Differencing across tables: overlapping tables (other groupings, other time
  windows) are protected one by one, not jointly. That is why the outputs
  protect *perturbed* counts (`storage.cellkey`): what differencing can reach
  is then a perturbed count, never a true one.
* ``suppressed_primary`` / ``suppressed_complementary`` are audit numbers;
  publishing them tells how many of the suppressed cells are small.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["Published", "Table", "protect", "protect_public", "protect_series"]

Cell = tuple[str, str]


def _check_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"counts must be int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"counts must be >= 0, got {value}")
    return value


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    return k


def _check_labels(kind: str, labels: tuple[str, ...]) -> None:
    if len(set(labels)) != len(labels):
        raise ValueError(f"duplicate {kind} labels")


@dataclass(frozen=True)
class Table:
    """A 2-D table of true counts; a missing ``(row, column)`` key counts 0."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: Mapping[tuple[str, str], int]

    def __post_init__(self) -> None:
        rows, columns = tuple(self.rows), tuple(self.columns)
        _check_labels("row", rows)
        _check_labels("column", columns)
        row_set, column_set = set(rows), set(columns)
        counts: dict[Cell, int] = {}
        for key, value in self.counts.items():
            if (
                not isinstance(key, tuple)
                or len(key) != 2
                or key[0] not in row_set
                or key[1] not in column_set
            ):
                raise ValueError(f"count for unknown cell {key!r}")
            counts[key] = _check_count(value)
        # Frozen: copy, so later changes to the caller's dict cannot leak in.
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "counts", MappingProxyType(counts))

    def count(self, row: str, column: str) -> int:
        return self.counts.get((row, column), 0)


@dataclass(frozen=True)
class Published:
    """A protected table. ``None`` means suppressed.

    ``suppressed_primary`` and ``suppressed_complementary`` count cells;
    ``suppressed_margins`` counts row, column and grand totals published as
    ``None``.  These counters are for audit, not for publication.
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[str, str], int | None]
    row_totals: Mapping[str, int | None]
    column_totals: Mapping[str, int | None]
    total: int | None
    k: int
    margins_from_published_only: bool
    suppressed_primary: int
    suppressed_complementary: int
    suppressed_margins: int


# --------------------------------------------------------------------------- core


class _Suppressor:
    """Suppression on the augmented table.

    Entry ``(r, c)`` with ``r == m`` is a column total, ``c == n`` a row total,
    ``(m, n)`` the grand total.  Graph nodes: row ``r`` is node ``r``, column
    ``c`` is node ``m + 1 + c``.
    """

    def __init__(self, table: Table, k: int) -> None:
        m, n = len(table.rows), len(table.columns)
        self.m, self.n, self.k = m, n, k
        get = table.counts.get
        values = [[get((r, c), 0) for c in table.columns] + [0] for r in table.rows]
        values.append([0] * (n + 1))
        for i in range(m):
            values[i][n] = sum(values[i][:n])
        for j in range(n):
            values[m][j] = sum(values[i][j] for i in range(m))
        values[m][n] = sum(values[m][:n])
        self.values = values
        self.suppressed = [[1 <= v < k for v in line] for line in values]
        self.entries = [  # suppressed entries, in the order they were suppressed
            (r, c) for r, line in enumerate(self.suppressed) for c, s in enumerate(line) if s
        ]
        self.row_count = [sum(line) for line in self.suppressed]
        self.column_count = [sum(self.suppressed[i][j] for i in range(m + 1)) for j in range(n + 1)]
        # Any margin costs more than every cell together (a path never repeats a cell).
        self.margin_cost = values[m][n] + 1

    def run(self) -> None:
        self._close_lines()
        self._close_cycles()

    # -- bookkeeping

    def _suppress(self, r: int, c: int, worklist: deque[tuple[bool, int]] | None) -> None:
        if self.suppressed[r][c]:
            return
        self.suppressed[r][c] = True
        self.entries.append((r, c))
        self.row_count[r] += 1
        self.column_count[c] += 1
        if worklist is not None:
            if self.row_count[r] == 1:
                worklist.append((True, r))
            if self.column_count[c] == 1:
                worklist.append((False, c))

    # -- step 2: no line with exactly one suppressed entry

    def _candidates(self, is_row: bool, index: int) -> list[int]:
        """Positions of the line's non-zero entries: others by (count, position), total last."""
        if is_row:
            line = self.values[index]
        else:
            line = [self.values[i][index] for i in range(self.m + 1)]
        last = len(line) - 1
        order = sorted((v, p) for p, v in enumerate(line[:last]) if v > 0)
        positions = [p for _, p in order]
        if line[last] > 0:
            positions.append(last)
        return positions

    def _close_lines(self) -> None:
        worklist: deque[tuple[bool, int]] = deque()
        worklist.extend((True, r) for r in range(self.m + 1) if self.row_count[r] == 1)
        worklist.extend((False, c) for c in range(self.n + 1) if self.column_count[c] == 1)
        cursors: dict[tuple[bool, int], tuple[list[int], int]] = {}
        while worklist:
            is_row, index = line = worklist.popleft()
            count = self.row_count[index] if is_row else self.column_count[index]
            if count != 1:
                continue
            positions, at = cursors.get(line) or (self._candidates(is_row, index), 0)
            while at < len(positions):
                p = positions[at]
                r, c = (index, p) if is_row else (p, index)
                if not self.suppressed[r][c]:
                    break
                at += 1
            else:  # pragma: no cover - the suppressed entry is non-zero, so its line has another
                raise AssertionError("a line with one suppressed entry has no complement")
            cursors[line] = (positions, at + 1)
            self._suppress(r, c, worklist)

    # -- step 3: no suppressed entry on a bridge

    def _bridges(self) -> list[tuple[int, int]]:
        """Suppressed entries lying on no cycle (iterative Tarjan)."""
        m = self.m
        edges = self.entries
        size = self.m + self.n + 2
        adjacency: list[list[tuple[int, int]]] = [[] for _ in range(size)]
        for e, (r, c) in enumerate(edges):
            adjacency[r].append((m + 1 + c, e))
            adjacency[m + 1 + c].append((r, e))
        discovered = [-1] * size
        low = [0] * size
        clock = 0
        bridges: list[tuple[int, int]] = []
        for root in range(size):
            if discovered[root] != -1 or not adjacency[root]:
                continue
            discovered[root] = low[root] = clock
            clock += 1
            stack = [(root, -1, iter(adjacency[root]))]
            while stack:
                node, via, neighbours = stack[-1]
                for nxt, e in neighbours:
                    if e == via:
                        continue
                    if discovered[nxt] == -1:
                        discovered[nxt] = low[nxt] = clock
                        clock += 1
                        stack.append((nxt, e, iter(adjacency[nxt])))
                        break
                    low[node] = min(low[node], discovered[nxt])
                else:
                    stack.pop()
                    if stack:
                        parent = stack[-1][0]
                        low[parent] = min(low[parent], low[node])
                        if low[node] > discovered[parent]:
                            bridges.append(edges[via])
        bridges.sort()
        return bridges

    def _close_cycles(self) -> None:
        bridges = self._bridges()
        if not bridges:
            return
        m, n = self.m, self.n
        width, size = n + 1, m + n + 2
        values = self.values
        hidden = [s for line in self.suppressed for s in line]  # flat copy, entry r * width + c
        # Suppressed entries are free edges; every other non-zero entry costs its count
        # (margins more than all cells together).  Entry e joins nodes e // width and
        # m + 1 + e % width.
        free: list[list[tuple[int, int]]] = [[] for _ in range(size)]
        priced: list[list[tuple[int, int, int]]] = [[] for _ in range(size)]
        for r in range(m + 1):
            for c in range(width):
                value, entry = values[r][c], r * width + c
                if value == 0:
                    continue
                if hidden[entry]:
                    free[r].append((m + 1 + c, entry))
                    free[m + 1 + c].append((r, entry))
                else:
                    cost = value if r < m and c < n else value + self.margin_cost
                    priced[r].append((cost, m + 1 + c, entry))
                    priced[m + 1 + c].append((cost, r, entry))
        for line in priced:
            line.sort()
        unreached = 2 * self.margin_cost * size  # more than any path costs
        # Closing a cycle through one bridge may close others too: recompute each time.
        while bridges:
            bridge_r, bridge_c = bridges[0]
            bridge = bridge_r * width + bridge_c
            source, target = bridge_r, m + 1 + bridge_c
            distance = [unreached] * size
            distance[source] = 0
            previous = [(-1, -1)] * size
            # Dijkstra with lazy edge scans: (key, node, -1) settles node at distance key;
            # (key, node, i) offers node's i-th cheapest priced edge, at key = the
            # resulting distance, so costly edges of the 1,000-row columns are never read.
            heap = [(0, source, -1)]
            while heap:
                key, node, i = heapq.heappop(heap)
                if i < 0:
                    if key != distance[node]:
                        continue
                    if node == target:
                        break
                    for nxt, entry in free[node]:
                        if key < distance[nxt] and entry != bridge:
                            distance[nxt] = key
                            previous[nxt] = (node, entry)
                            heapq.heappush(heap, (key, nxt, -1))
                    i = 0
                else:
                    _, nxt, entry = priced[node][i]
                    if key < distance[nxt] and not hidden[entry]:
                        distance[nxt] = key
                        previous[nxt] = (node, entry)
                        heapq.heappush(heap, (key, nxt, -1))
                    i += 1
                if i < len(priced[node]):
                    heapq.heappush(heap, (distance[node] + priced[node][i][0], node, i))
            else:  # pragma: no cover - cell, row total, grand total, column total is a cycle
                raise AssertionError("no cycle through a suppressed entry")
            node = target
            while node != source:
                prior, entry = previous[node]
                if not hidden[entry]:
                    hidden[entry] = True
                    free[node].append((prior, entry))
                    free[prior].append((node, entry))
                    self._suppress(*divmod(entry, width), None)
                node = prior
            bridges = self._bridges()


def _small(value: int, k: int) -> bool:
    return 1 <= value < k


def _freeze(mapping: dict[str, int | None]) -> Mapping[str, int | None]:
    return MappingProxyType(mapping)


def _publish(table: Table, k: int, *, public: bool) -> Published:
    k = _check_k(k)
    core = _Suppressor(table, k)
    core.run()
    m, n = core.m, core.n
    values, suppressed = core.values, core.suppressed
    cells: dict[Cell, int | None] = {}
    primary = complementary = 0
    for i, r in enumerate(table.rows):
        for j, c in enumerate(table.columns):
            value = values[i][j]
            if suppressed[i][j] or (public and value < k):
                cells[(r, c)] = None
                if value < k:
                    primary += 1
                else:
                    complementary += 1
            else:
                cells[(r, c)] = value

    def margin(line: Iterable[int | None], true_value: int, hidden: bool) -> int | None:
        if public:  # each term is None or >= k: the sum is 0 only when nothing is shown
            value = sum(v for v in line if v is not None)
            return None if value < k else value
        return None if hidden else true_value

    row_totals = {
        r: margin((cells[(r, c)] for c in table.columns), values[i][n], suppressed[i][n])
        for i, r in enumerate(table.rows)
    }
    column_totals = {
        c: margin((cells[(r, c)] for r in table.rows), values[m][j], suppressed[m][j])
        for j, c in enumerate(table.columns)
    }
    total = margin(cells.values(), values[m][n], suppressed[m][n])
    hidden_margins = sum(v is None for v in row_totals.values())
    hidden_margins += sum(v is None for v in column_totals.values()) + (total is None)
    return Published(
        rows=table.rows,
        columns=table.columns,
        cells=MappingProxyType(cells),
        row_totals=_freeze(row_totals),
        column_totals=_freeze(column_totals),
        total=total,
        k=k,
        margins_from_published_only=public,
        suppressed_primary=primary,
        suppressed_complementary=complementary,
        suppressed_margins=hidden_margins,
    )


# --------------------------------------------------------------------------- API


def protect(table: Table, *, k: int = 5) -> Published:
    """Analyst profile: true margins, suppressed only when small or needed as complements."""
    return _publish(table, k, public=False)


def protect_public(table: Table, *, k: int = 10) -> Published:
    """Public profile: the cell pattern of :func:`protect` at ``k``, and every value below
    ``k`` hidden, zeros too (a zero looks like a small count); every margin is the sum of
    the published cells only, so it says nothing about a suppressed cell."""
    return _publish(table, k, public=True)


def protect_series(
    counts: Mapping[str, int], *, k: int = 5
) -> tuple[dict[str, int | None], int | None]:
    """A 1-D list (e.g. one municipality by month) and its total, protected like a table line.

    The only constraint is "cells sum to the total", so a suppressed cell is derivable
    exactly when it is the only unknown: a lone suppressed cell next to a published total
    gets a second suppression (the smallest non-zero published cell, first in the
    mapping's order on ties) or, failing one, the total is suppressed.  A total in
    ``1..k-1`` is suppressed too.
    """
    k = _check_k(k)
    keys = list(counts)
    values = [_check_count(counts[key]) for key in keys]
    total = sum(values)
    hidden = [_small(v, k) for v in values]
    total_hidden = _small(total, k)
    if not total_hidden and sum(hidden) == 1:
        spare = [(v, p) for p, v in enumerate(values) if v > 0 and not hidden[p]]
        if spare:
            hidden[min(spare)[1]] = True
        else:
            total_hidden = True
    published = {key: None if h else v for key, v, h in zip(keys, values, hidden, strict=True)}
    return published, None if total_hidden else total
