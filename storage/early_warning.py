"""Early warnings: is a place's latest window unusual against its own past? Pure, stdlib only.

For each series — a municipality × kind, and a municipality × kind × category where
the counts allow — the reports of the latest window (``window_days``) are compared
with those of the ``baseline_windows`` windows of the same length just before it.

The test is the exact conditional test of two Poisson rates (Przyborowski and
Wilenski): if the window and the baseline share one rate, then given their total
``n`` the window's count is Binomial(n, 1 / (baseline_windows + 1)). The p-value is
that binomial's upper tail at the observed count. It needs no estimate of the rate,
so a place with a short or empty past is judged by how many reports it takes to be
surprising, not by a rate of zero; and it is exact, so its false-alarm probability
is at most the threshold, never more (the counts are discrete: usually much less).

One run tests many series; a signal needs ``p ≤ false_alarm / tested`` (Bonferroni),
so the probability that a run raises any false alarm is at most ``false_alarm``,
and at least ``min_count`` reports in the window. A rise in one category usually
shows in its kind too: the category's signal is kept and the kind's is folded into
it, so one rise is one alert.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Counts", "Rule", "Series", "Signal", "detect", "is_repeat", "upper_tail"]


# Above this a run would alert more often than not: no early warning, just noise.
MAX_FALSE_ALARM = 0.1


@dataclass(frozen=True)
class Rule:
    """The settings of the test (`SOMOS_ALERT_*`)."""

    window_days: int = 14
    baseline_windows: int = 6
    # The probability that one run raises any false alarm, whatever the number of places.
    false_alarm: float = 0.001
    min_count: int = 3

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.baseline_windows < 1 or self.min_count < 1:
            raise ValueError("window, baseline and minimum count are at least 1")
        if not 0 < self.false_alarm <= MAX_FALSE_ALARM:
            raise ValueError(f"the false-alarm probability is in (0, {MAX_FALSE_ALARM}]")


@dataclass(frozen=True)
class Series:
    """What is counted: a place's reports of one kind, of one category or all (None)."""

    municipality_code: str
    kind: str
    category: str | None = None


@dataclass(frozen=True)
class Counts:
    """Reports in the latest window, and in all the baseline windows together."""

    observed: int
    baseline: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.observed + other.observed, self.baseline + other.baseline)


@dataclass(frozen=True)
class Signal:
    series: Series
    counts: Counts
    # Reports a window of this place would have at its baseline's rate.
    expected: float
    p_value: float


def upper_tail(observed: int, total: int, share: float) -> float:
    """P(X ≥ observed) for X ~ Binomial(total, share), summed in log space (no overflow)."""
    if observed <= 0:
        return 1.0
    if observed > total:
        return 0.0
    if share >= 1.0:
        return 1.0
    log_share, log_rest = math.log(share), math.log1p(-share)
    log_total = math.lgamma(total + 1)
    tail = 0.0
    for x in range(observed, total + 1):
        term = math.exp(log_total - math.lgamma(x + 1) - math.lgamma(total - x + 1)
                        + x * log_share + (total - x) * log_rest)
        tail += term
        # Past the mode the terms only shrink: stop once they no longer change the sum.
        if x > total * share and term <= tail * 1e-17:
            break
    return min(1.0, tail)


def p_value(counts: Counts, baseline_windows: int) -> float:
    """The conditional test's p-value: how surprising the window is given the baseline."""
    return upper_tail(counts.observed, counts.observed + counts.baseline,
                      1.0 / (baseline_windows + 1))


def _with_kinds(counts: Mapping[Series, Counts]) -> dict[Series, Counts]:
    """Category counts, plus their sum per place and kind (category None)."""
    found: dict[Series, Counts] = {}
    for series, value in counts.items():
        if series.category is None:
            raise ValueError("give category counts; kinds are summed here")
        found[series] = value
        whole = Series(series.municipality_code, series.kind)
        found[whole] = found.get(whole, Counts(0, 0)) + value
    return found


def detect(counts: Mapping[Series, Counts], rule: Rule) -> list[Signal]:
    """The unusual rises among `counts` (by municipality × kind × category), most
    surprising first.

    Tested: every place × kind with any report in the window or the baseline, and each
    of its categories that reaches `min_count` in the window, unless it is the kind's only
    category (the same test twice). The threshold is shared among all of them.
    """
    everything = _with_kinds(counts)
    categories_of: dict[Series, int] = {}
    for series, value in everything.items():
        if series.category is not None and value.observed + value.baseline > 0:
            whole = Series(series.municipality_code, series.kind)
            categories_of[whole] = categories_of.get(whole, 0) + 1
    tested = [
        series for series, value in everything.items()
        if value.observed + value.baseline > 0 and (
            series.category is None
            or (value.observed >= rule.min_count
                and categories_of[Series(series.municipality_code, series.kind)] > 1))
    ]
    if not tested:
        return []
    threshold = rule.false_alarm / len(tested)
    signals: dict[Series, Signal] = {}
    for series in tested:
        value = everything[series]
        if value.observed < rule.min_count:
            continue
        # At or below its share of the total the tail is at least about 1/2: no rise.
        if value.observed * (rule.baseline_windows + 1) <= value.observed + value.baseline:
            continue
        p = p_value(value, rule.baseline_windows)
        if p <= threshold:
            signals[series] = Signal(series, value, value.baseline / rule.baseline_windows, p)
    folded = {Series(s.municipality_code, s.kind) for s in signals if s.category is not None}
    kept = [signal for series, signal in signals.items()
            if series.category is not None or series not in folded]
    return sorted(kept, key=lambda signal: (signal.p_value, signal.series.municipality_code,
                                            signal.series.kind, signal.series.category or ""))


def is_repeat(series: Series, window_start: int, earlier: Iterable[tuple[Series, int]],
              window_days: int) -> bool:
    """Whether an earlier alert already covers part of this window for this rise.

    Windows are counted in days (`window_start` and the earlier alerts' starts): a rise
    that lasts is one alert per `window_days`, not one a day. An alert of the whole kind
    covers its categories and the other way round; two categories are two rises.
    """
    def same_rise(other: Series) -> bool:
        return (other.municipality_code, other.kind) == (series.municipality_code, series.kind) \
            and (other.category == series.category or None in (other.category, series.category))

    return any(same_rise(other) for other, start in earlier if window_start - start < window_days)
