"""A differencing adversary: what can be known for sure about true counts from published ones.

The adversary knows the universe of noise cells (every municipality, kind, category,
month and ranking: public facts), the publication rules and the mechanism's noise
support, but no record key. Each noise cell c has a true count x_c and a published
fine value y_c, both unknown integers >= 0. With perturbation, y_c can be any value of
the p-table's support for x_c (storage.cellkey: 0 when x_c = 0, else max(0, x_c − D)
.. x_c + D); without it, y_c = x_c (D = 0, what the outputs published before).

Every output becomes a constraint on sums of y: a published value an equality, a
suppressed one its range, a missing row or column a zero. The adversary then

1. solves the equalities exactly (Gaussian elimination over the rationals): every sum
   of y they determine — the classic subtraction, "October–November minus October" —
   becomes a known value;
2. closes the constraints under set difference (a constraint on A and one on B ⊂ A
   give one on A − B: interval arithmetic over nested windows, groupings and scopes);
3. propagates integer bounds through all of it, the noise relation between y and x
   and the targets (sums of x it wants to learn), to a fixpoint.

Every step is sound: nothing true is ever excluded (`Knowledge` raises if the true
world becomes infeasible). A target is *pinned* when its bounds meet at one value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

Vector = tuple[tuple[int, int], ...]   # sorted (noise cell, coefficient), coefficients > 0
INFINITY = 10**9
MAX_DIFFERENCES = 4000


def vector(coefficients: Mapping[int, int] | Iterable[int]) -> Vector:
    if not isinstance(coefficients, Mapping):
        counted: dict[int, int] = {}
        for cell in coefficients:
            counted[cell] = counted.get(cell, 0) + 1
        coefficients = counted
    return tuple(sorted((cell, a) for cell, a in coefficients.items() if a))


@dataclass
class Adversary:
    cells: int                 # number of noise cells
    max_noise: int             # D: 0 for plain tables
    observed: dict[Vector, tuple[int, int]] = field(default_factory=dict)
    targets: dict[Vector, str] = field(default_factory=dict)

    def observe(self, sums: Mapping[int, int] | Iterable[int], low: int,
                high: int = INFINITY) -> None:
        """What an output says about a weighted sum of published fine values y."""
        key = vector(sums)
        if not key:
            return
        old_low, old_high = self.observed.get(key, (0, INFINITY))
        self.observed[key] = (max(old_low, low), min(old_high, high))

    def target(self, cells: Iterable[int], name: str) -> None:
        """A true count (a sum of x) to try to pin."""
        key = vector(cells)
        if key:
            self.targets.setdefault(key, name)

    def knowledge(self) -> dict[str, tuple[int, int]]:
        """The bounds the adversary can prove on each target's true count."""
        return Knowledge(self).run()

    def pinned(self, k: int) -> dict[str, int]:
        """Targets whose true count is known exactly and lies in 1..k−1."""
        return {name: low for name, (low, high) in self.knowledge().items()
                if low == high and 1 <= low < k}


class Infeasible(AssertionError):
    """The true world was excluded: the adversary's model of the outputs is wrong."""


class Knowledge:
    def __init__(self, adversary: Adversary) -> None:
        self.adversary = adversary
        self.n = adversary.cells
        self.constraints: dict[Vector, tuple[int, int]] = dict(adversary.observed)

    # -- 1. exact linear algebra on the equalities

    def _solve_equalities(self) -> None:
        # Reduced row echelon form, sparse: pivot -> (row without other pivots, value).
        basis: dict[int, tuple[dict[int, Fraction], Fraction]] = {}
        for key, (low, high) in list(self.constraints.items()):
            if low != high:
                continue
            row, rhs = self._reduce({cell: Fraction(a) for cell, a in key}, Fraction(low),
                                    basis)
            if not row:
                if rhs:
                    raise Infeasible("published equalities contradict each other")
                continue
            pivot = min(row)
            scale = row[pivot]
            row = {cell: a / scale for cell, a in row.items()}
            rhs /= scale
            for other, (base, value) in list(basis.items()):
                factor = base.get(pivot)
                if factor:
                    merged = dict(base)
                    for cell, a in row.items():
                        merged[cell] = merged.get(cell, Fraction(0)) - factor * a
                    basis[other] = ({c: a for c, a in merged.items() if a},
                                    value - factor * rhs)
            basis[pivot] = (row, rhs)
        candidates = list(self.adversary.targets)
        candidates += [((cell, 1),) for cell in range(self.n)]
        for key in candidates:
            residual, value = self._reduce({cell: Fraction(a) for cell, a in key}, Fraction(0),
                                           basis)
            if not residual:
                known = -value
                if known.denominator != 1 or known < 0:
                    raise Infeasible(f"a determined sum is {known}")
                self._tighten(key, int(known), int(known))

    @staticmethod
    def _reduce(row: dict[int, Fraction], rhs: Fraction,
                basis: dict[int, tuple[dict[int, Fraction], Fraction]],
                ) -> tuple[dict[int, Fraction], Fraction]:
        """The row less its pivots' multiples; the value moves with it (basis rows hold
        no other pivot, so one pass clears every pivot)."""
        row = dict(row)
        for pivot in [cell for cell in row if cell in basis]:
            factor = row.get(pivot)
            if not factor:
                continue
            base, value = basis[pivot]
            for cell, a in base.items():
                row[cell] = row.get(cell, Fraction(0)) - factor * a
            rhs -= factor * value
        return {cell: a for cell, a in row.items() if a}, rhs

    def _tighten(self, key: Vector, low: int, high: int) -> None:
        old_low, old_high = self.constraints.get(key, (0, INFINITY))
        self.constraints[key] = (max(old_low, low), min(old_high, high))

    # -- 2. differences of nested constraints

    def _differences(self) -> None:
        keys = sorted(self.constraints, key=len)
        added = 0
        for small in keys:
            small_map = dict(small)
            for large in keys:
                if len(large) <= len(small) or added >= MAX_DIFFERENCES:
                    continue
                large_map = dict(large)
                if any(large_map.get(cell, 0) < a for cell, a in small_map.items()):
                    continue
                rest = vector({cell: a - small_map.get(cell, 0) for cell, a in large_map.items()})
                low_s, high_s = self.constraints[small]
                low_l, high_l = self.constraints[large]
                high = INFINITY if high_l >= INFINITY else high_l - low_s
                low = 0 if high_s >= INFINITY else max(0, low_l - high_s)
                self._tighten(rest, low, high)
                added += 1

    # -- 3. bounds propagation

    def run(self) -> dict[str, tuple[int, int]]:
        self._solve_equalities()
        self._differences()
        n, d = self.n, self.adversary.max_noise
        # Variables: x_0..x_{n-1}, y_0..y_{n-1}, then one per target (a sum of x).
        targets = list(self.adversary.targets.items())
        low = [0] * (2 * n + len(targets))
        high = [INFINITY] * len(low)
        rows: list[tuple[list[tuple[int, int]], int, int]] = []
        for key, (lo, hi) in self.constraints.items():
            rows.append(([(n + cell, a) for cell, a in key], lo, hi))
        for cell in range(n):
            x, y = cell, n + cell
            rows.append(([(y, 1), (x, -1)], -d, d))           # |y − x| <= D
            rows.append(([(y, 1), (x, -(1 + d))], -INFINITY, 0))  # x = 0 forces y = 0
        for index, (key, _name) in enumerate(targets):
            t = 2 * n + index
            rows.append(([(t, 1), *((cell, -a) for cell, a in key)], 0, 0))
        self._propagate(rows, low, high)
        return {name: (low[2 * n + i], high[2 * n + i]) for i, (_, name) in enumerate(targets)}

    @staticmethod
    def _propagate(rows: list[tuple[list[tuple[int, int]], int, int]], low: list[int],
                   high: list[int]) -> None:
        """Integer bounds to a fixpoint. INFINITY is a number (no count reaches it), so
        the arithmetic stays exact; passes are capped, which only leaves bounds looser."""
        def least_of(v: int, a: int) -> int:
            return a * (low[v] if a > 0 else high[v])

        def most_of(v: int, a: int) -> int:
            return a * (high[v] if a > 0 else low[v])

        for _ in range(200):
            changed = False
            for terms, lo, hi in rows:
                least = sum(least_of(v, a) for v, a in terms)
                most = sum(most_of(v, a) for v, a in terms)
                for v, a in terms:
                    own_least, own_most = least_of(v, a), most_of(v, a)
                    cap = hi - (least - own_least)     # a·v <= cap
                    floor = lo - (most - own_most)     # a·v >= floor
                    if a > 0:
                        new_low, new_high = -((-floor) // a), cap // a
                    else:
                        new_low, new_high = -((-cap) // a), floor // a
                    if new_high < high[v]:
                        high[v], changed = new_high, True
                    if new_low > low[v]:
                        low[v], changed = new_low, True
                    if low[v] > high[v]:
                        raise Infeasible("the true world does not satisfy the outputs")
                    least += least_of(v, a) - own_least
                    most += most_of(v, a) - own_most
            if not changed:
                return
