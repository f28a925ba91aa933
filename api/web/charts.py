"""Bar charts of protected tables, drawn on the server: a row per bar, its label in HTML.

The label and the number are text of the page (legible at any width); only the bar is a
small SVG stretched to the space left. A part hidden by suppression is drawn hatched,
never dropped: in a stacked bar it fills the gap between the published parts and the
published row total (the sum of the hidden cells, which the table lets anyone compute
already); where the total is hidden too, or a whole row is, a short hatched mark of fixed
length that says "hidden here" and nothing about how much.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.aggregates import ALL, Protected
from api.aggregates import label as dimension_label

TRACK = 100.0  # the bar's SVG width in user units: lengths are percentages of the largest
HIDDEN_MARK = 4.0  # a hidden amount of unknown size: fixed, never scaled to anything
HIDDEN = "hidden"


@dataclass(frozen=True)
class Segment:
    code: str  # the stacked part (a kind), or HIDDEN for a hatched part
    x: float
    width: float

    @property
    def hidden(self) -> bool:
        return self.code == HIDDEN


@dataclass(frozen=True)
class Bar:
    code: str
    label: str
    value: int | None  # None: suppressed
    segments: tuple[Segment, ...]

    @property
    def has_hidden(self) -> bool:
        return any(segment.hidden for segment in self.segments)


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]

    @property
    def has_hidden(self) -> bool:
        return any(bar.has_hidden for bar in self.bars)


@dataclass(frozen=True)
class _Row:
    code: str
    label: str
    total: int | None
    parts: tuple[tuple[str, int], ...]  # published parts, in order
    hidden_parts: bool  # whether some part of the row is suppressed


def _length(row: _Row) -> float:
    """The row's length in counts, or in counts plus a fixed mark when the rest is unknown."""
    shown = sum(value for _, value in row.parts)
    return float(row.total) if row.total is not None else float(shown)


def _chart(rows: list[_Row]) -> Chart:
    largest = max((_length(row) for row in rows), default=0.0) or 1.0
    scale = (TRACK - HIDDEN_MARK) / largest
    bars = []
    for row in rows:
        x, segments = 0.0, []
        for code, value in row.parts:
            segments.append(Segment(code, round(x, 2), round(value * scale, 2)))
            x += value * scale
        if row.hidden_parts:
            shown = sum(value for _, value in row.parts)
            rest = (row.total - shown) * scale if row.total is not None else 0.0
            # A known rest is drawn to scale; an unknown one as the fixed mark.
            width = rest if rest > 0 else HIDDEN_MARK
            segments.append(Segment(HIDDEN, round(x, 2), round(width, 2)))
        bars.append(Bar(row.code, row.label, row.total, tuple(segments)))
    return Chart(tuple(bars))


def single(protected: Protected, locale: str, *, top: int | None = None,
           rows: tuple[str, ...] | None = None) -> Chart:
    """One bar per row of a one-dimension table, largest first; a suppressed row keeps its
    place (last) with a hatched mark. `top` names only published counts; `rows` keeps
    only those rows of the table (a section of it)."""
    dimension = protected.query.group_by[0]
    cells = protected.published.cells
    chosen = [r for r in protected.published.rows if rows is None or r in rows]
    listed = [(r, dimension_label(dimension, r, locale), cells[(r, ALL)]) for r in chosen]
    listed.sort(key=lambda row: (row[2] is None, -(row[2] or 0), row[1]))
    if top:
        listed = [row for row in listed if row[2] is not None][:top]
    return _chart([
        _Row(code, name, value, ((code, value),) if value else (), value is None)
        for code, name, value in listed
    ])


def stacked(protected: Protected) -> Chart:
    """One bar per row of a two-dimension table (month × kind), its published parts stacked
    in column order, then its hidden parts hatched."""
    published = protected.published
    rows = []
    for row in published.rows:
        values = [(column, published.cells[(row, column)]) for column in published.columns]
        parts = tuple((column, value) for column, value in values if value)
        total = published.row_totals.get(row)
        hidden = total is None or any(value is None for _, value in values)
        rows.append(_Row(row, row, total, parts, hidden))
    return _chart(rows)
