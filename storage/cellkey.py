"""Cell-key perturbation of the finest counts (design §7; the ABS TableBuilder method).

Every report gets a random 32-bit *record key* when it is stored (a column of its
row, drawn from the operating system's generator, never derived from anything
about the reporter). The *cell key* of a set of reports is the sum of their
record keys modulo 2^32: uniform, the same for the same set, and kept per rollup
cell as one more sum. A *noise cell* — municipality × kind × category × month,
and for community-priority answers municipality × month × the whole ranking —
publishes ``perturb(count, cell key)``: its count plus a noise read from the
p-table below at the cell key, never negative, and 0 when the cell is empty.

Every published number is a sum of perturbed noise cells (`storage.rollups`
keeps those sums in every grain), so whatever an output adds up — any window,
grouping, filter or profile — nobody can learn more than the perturbed value of
each noise cell, and each perturbed value fits at least two true counts
(:func:`possible_counts`): no count in 1..k−1 can be pinned by subtraction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

__all__ = ["KEY_SPACE", "MAX_NOISE", "METHOD", "add_keys", "key_range", "new_record_key",
           "noise_table", "perturb", "possible_counts"]

KEY_SPACE = 1 << 32
MAX_NOISE = 2
PERCENT = 100
# (noise, percent of cell keys). Both have mean 0, so sums of many cells stay unbiased.
# A single report is published as 0 (it vanishes) 30% of the time, so a 0 never proves
# an empty cell; variance 0.7 for one report, 0.8 for more.
ONE_REPORT = ((-1, 30), (0, 45), (1, 20), (2, 5))
SEVERAL_REPORTS = ((-2, 5), (-1, 20), (0, 50), (1, 20), (2, 5))

METHOD = {
    "name": "cell-key perturbation",
    "noise_cells": "municipality × kind × category × month; community priorities: "
                   "municipality × month × ranking",
    "cell_key": "sum of the reports' random 32-bit record keys modulo 2^32",
    "max_noise_per_noise_cell": MAX_NOISE,
    "noise_mean": 0,
    "empty_cells_stay_zero": True,
    "one_report_noise_percent": {str(noise): share for noise, share in ONE_REPORT},
    "several_reports_noise_percent": {str(noise): share for noise, share in SEVERAL_REPORTS},
}


def new_record_key() -> int:
    """A uniformly random 32-bit record key (the operating system's CSPRNG)."""
    return secrets.randbits(32)


def add_keys(keys: Iterable[int]) -> int:
    """The cell key of a set of reports: their record keys summed modulo 2^32."""
    return sum(keys) % KEY_SPACE


def noise_table(count: int) -> tuple[tuple[int, int], ...]:
    """The (noise, percent) rows used for a cell of ``count`` reports."""
    if count < 0:
        raise ValueError(f"counts are >= 0, got {count}")
    if count == 0:
        return ((0, PERCENT),)
    return ONE_REPORT if count == 1 else SEVERAL_REPORTS


def _bounds(count: int) -> list[tuple[int, int, int]]:
    """(noise, first cell key, first cell key after) for each row of the count's table."""
    rows, cumulative, start = [], 0, 0
    for noise, share in noise_table(count):
        cumulative += share
        stop = KEY_SPACE * cumulative // PERCENT
        rows.append((noise, start, stop))
        start = stop
    return rows


def perturb(count: int, cell_key: int) -> int:
    """The published value of a noise cell: its count plus the p-table's noise at its key."""
    if not 0 <= cell_key < KEY_SPACE:
        raise ValueError("a cell key is in 0..2^32-1")
    for noise, _start, stop in _bounds(count):
        if cell_key < stop:
            return count + noise
    raise AssertionError("the p-table covers every cell key")  # pragma: no cover


def key_range(count: int, value: int) -> range:
    """The cell keys with which ``count`` reports publish ``value`` (empty if none)."""
    for noise, start, stop in _bounds(count):
        if count + noise == value:
            return range(start, stop)
    return range(0)


def possible_counts(value: int) -> range:
    """Every true count that can publish ``value``: all that someone who knows this table
    learns from one noise cell. Never fewer than three counts: 0 fits 0, 1 and 2; any
    other value v fits max(1, v−2)..v+2."""
    if value < 0:
        raise ValueError("published values are >= 0")
    if value == 0:
        return range(0, MAX_NOISE + 1)
    return range(max(1, value - MAX_NOISE), value + MAX_NOISE + 1)
