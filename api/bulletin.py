"""The municipal bulletin: one short document for a security council, as HTML and PDF.

Assembled here once for the CLI (`somos bulletin`), the page (`/boletin/{code}`) and the
API (`GET /api/v1/bulletins/{code}`). Every figure is under the public profile (k at least
`api.aggregates.PUBLIC_K`, zeros hidden too):

* the community's priorities: `api.aggregates.protected_priorities` (perturbed Borda
  points and respondents; a concern is named only with k points or more);
* reported threats and stigmatization by category over four periods: two protected tables
  (`api.aggregates.protected_table`, profile "public"); the categories reported most in the
  period are the same tables' last column, so they add no number of their own;
* what the focal points did with the period's cases (`work_of`): counts from the reports'
  clear columns, perturbed by their record keys (`storage.cellkey`) and protected as one
  2 × 2 table (referred or not × closed or open) by `storage.disclosure.protect`, of which
  only the margins are shown; the median time to a first action only with k cases or more;
* the department's map with the municipality marked (`api.web.choropleth.locator`);
* the period's alerts that pass the public suppression, by their sentence (`gather_alerts`).

WeasyPrint is imported only when a PDF is made: the server's idle memory stays as it was.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

from babel.dates import get_month_names
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.aggregates import (
    PUBLIC_K,
    Protected,
    last_closed_month,
    protected_priorities,
    protected_table,
    scope_of,
)
from api.alerts_view import sentence
from api.labels import department_name, label_of, municipality_official_name
from api.web.choropleth import Locator, locator
from api.web.render import environment
from bot.i18n import translations
from flows.municipalities import MSG_BAD_MUNICIPALITY_CODE, parse_codes
from storage.aggregates import Query, Scope
from storage.alerts import alerts_in_period, passes_disclosure, public_view
from storage.cellkey import add_keys, perturb
from storage.disclosure import Table, protect
from storage.models import Report, ReportEvent, User, utcnow

QUARTER = re.compile(r"^(\d{4})-[QqTt]([1-4])$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
TREND_PERIODS = 4
TOP = 5
CASE_KINDS = ("threat", "stigma")
# A concern of the community and the reported category that answers it, where there is one:
# a community that ranks extortion first while almost nothing is reported shows it.
PRIORITY_MATCH = {
    "priority.extortion": "threat.extortion",
    "priority.sexual_violence": "threat.sexual_violence",
    "priority.child_recruitment": "threat.recruitment",
    "priority.confinement": "threat.confinement",
    "priority.displacement": "threat.displacement_order",
}
STYLESHEET = "bulletin.css"
WORK_ROWS = ("referred", "not_referred")
WORK_COLUMNS = ("closed", "open")


class BulletinError(ValueError):
    """A bulletin that cannot be made as asked; the message (Spanish) says what to change."""


@dataclass(frozen=True)
class Period:
    """A calendar quarter ("2026-Q3") or month ("2026-07"), in UTC months like the rollups."""

    kind: str  # "quarter" or "month"
    year: int
    number: int  # 1..4 or 1..12

    @property
    def code(self) -> str:
        return (f"{self.year:04d}-Q{self.number}" if self.kind == "quarter"
                else f"{self.year:04d}-{self.number:02d}")

    @property
    def months(self) -> tuple[int, int]:
        return ((3 * self.number - 2, 3 * self.number) if self.kind == "quarter"
                else (self.number, self.number))

    @property
    def first_month(self) -> str:
        return f"{self.year:04d}-{self.months[0]:02d}"

    @property
    def last_month(self) -> str:
        return f"{self.year:04d}-{self.months[1]:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.months[0], 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        year, month = self.year, self.months[1] + 1
        return datetime(year + (month > 12), (month - 1) % 12 + 1, 1, tzinfo=UTC)

    def shifted(self, steps: int) -> Period:
        size = 4 if self.kind == "quarter" else 12
        index = self.year * size + self.number - 1 + steps
        return Period(self.kind, index // size, index % size + 1)

    def label(self, locale: str) -> str:
        """In words, without small numbers: «jul–sep 2026», «julio 2026»."""
        if self.kind == "month":
            return f"{get_month_names('wide', locale=locale)[self.number]} {self.year}"
        names = get_month_names("abbreviated", locale=locale)
        first, last = self.months
        return f"{names[first].rstrip('.')}–{names[last].rstrip('.')} {self.year}"


def parse_period(text: str, now: datetime | None = None) -> Period:
    """A quarter or a month as a person types it; only periods that have ended."""
    raw = text.strip()
    if found := QUARTER.match(raw):
        period = Period("quarter", int(found[1]), int(found[2]))
    elif found := MONTH.match(raw):
        period = Period("month", int(found[1]), int(found[2]))
    else:
        raise BulletinError(f"«{raw}» no es un periodo. Escriba un trimestre como 2026-Q3 "
                            "o un mes como 2026-07.")
    last = last_closed_month(now or utcnow())
    if period.last_month > last:
        raise BulletinError(f"El periodo {period.code} no ha terminado: solo se publican meses "
                            f"terminados, hasta {last}. Elija {latest_quarter(now).code} "
                            "o uno anterior.")
    return period


def latest_quarter(now: datetime | None = None) -> Period:
    """The newest quarter that has ended: the default period."""
    last = last_closed_month(now or utcnow())
    year, month = int(last[:4]), int(last[5:])
    period = Period("quarter", year, (month - 1) // 3 + 1)
    return period if period.last_month == last else period.shifted(-1)


def municipality_code(text: str) -> str:
    """A DIVIPOLA municipality code as typed, checked against the country's list."""
    codes, refusals = parse_codes([text], 5)
    if refusals:
        msgid, value = refusals[0]
        raise BulletinError(translations("es").gettext(msgid).format(value=value))
    if not codes:
        raise BulletinError(MSG_BAD_MUNICIPALITY_CODE.format(value=text))
    return codes[0]


@dataclass(frozen=True)
class Concern:
    code: str
    label: str
    points: int  # perturbed Borda points, never below k
    matched: str | None  # the reported category that answers it, if any
    reported: int | None  # that category's published count in the period (None: a dash)


@dataclass(frozen=True)
class Priorities:
    respondents: int | None  # None: below k, and then no concern is named
    concerns: tuple[Concern, ...]


@dataclass(frozen=True)
class TrendRow:
    code: str
    label: str
    values: tuple[int | None, ...]  # one per period, oldest first


@dataclass(frozen=True)
class Trend:
    kind: str
    rows: tuple[TrendRow, ...]  # categories with at least one published figure


@dataclass(frozen=True)
class Reported:
    kind: str
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class Work:
    """What the focal points did with the period's cases, as they stand today."""

    received: int | None
    referred: int | None
    closed: int | None
    median_hours: float | None  # to a first action by the team; None below k cases


@dataclass(frozen=True)
class BulletinAlert:
    """One alert of the period as the bulletin lists it (filled by `gather_alerts`)."""

    month: str  # "YYYY-MM"
    label: str


@dataclass(frozen=True)
class Bulletin:
    code: str
    name: str
    department: str
    period: Period
    periods: tuple[Period, ...]  # the trend's, oldest first; the last is `period`
    k: int
    priorities: Priorities
    trends: tuple[Trend, ...]
    most_reported: tuple[Reported, ...]
    work: Work
    alerts: tuple[BulletinAlert, ...]
    map: Locator

    @property
    def figures(self) -> list[int]:
        """Every count the bulletin shows (not the median, which is a time)."""
        shown: list[int | None] = [self.priorities.respondents]
        for concern in self.priorities.concerns:
            shown += [concern.points, concern.reported]
        for trend in self.trends:
            for row in trend.rows:
                shown += row.values
        shown += [item.count for item in self.most_reported]
        shown += [self.work.received, self.work.referred, self.work.closed]
        return [value for value in shown if value is not None]


async def gather_alerts(session: AsyncSession, municipality: str, start: datetime,
                        end: datetime, *, k: int, locale: str) -> list[BulletinAlert]:
    """The place's alerts whose window overlaps the period and whose figures pass the public
    suppression (`storage.alerts.passes_disclosure` at k), as their sentence: the bulletin
    prints no figure of an alert, and one below k is not there at all."""
    found = await alerts_in_period(session=session, municipality_code=municipality,
                                   start=start, end=end)
    return [BulletinAlert(month=f"{alert.window_end - timedelta(days=1):%Y-%m}",
                          label=sentence(public_view(alert), locale))
            for alert in found if passes_disclosure(alert, k)]


async def readable(session: AsyncSession, user: User, code: str) -> bool:
    """Analysts and admins read every municipality's bulletin; a focal point their area's."""
    return (await scope_of(session, user)).covers(code)


def _public_k(k: int) -> int:
    return max(k, PUBLIC_K)


def _shown(value: int | None, k: int) -> int | None:
    """A figure as the public profile shows it: below k (zero too) a dash."""
    return value if value is not None and value >= k else None


async def _trend(session: AsyncSession, *, code: str, kind: str, periods: Sequence[Period],
                 k: int, now: datetime, locale: str) -> tuple[Trend, Protected]:
    dimension = periods[-1].kind
    query = Query(group_by=("category", dimension), month_from=periods[0].first_month,
                  month_to=periods[-1].last_month, kind=kind,
                  scope=Scope(municipalities=frozenset({code})))
    table = await protected_table(session=session, query=query, k=k, profile="public", now=now)
    cells = table.published.cells
    rows = []
    for category in table.published.rows:
        values = tuple(_shown(cells.get((category, p.code)), k) for p in periods)
        if any(value is not None for value in values):
            rows.append(TrendRow(category, label_of(category, locale), values))
    rows.sort(key=lambda row: (-(row.values[-1] or 0), row.label))
    return Trend(kind, tuple(rows)), table


async def _priorities(session: AsyncSession, *, code: str, period: Period, k: int,
                      now: datetime, locale: str, reported: dict[str, int | None],
                      ) -> Priorities:
    rankings = await protected_priorities(
        session=session, scope=Scope(municipalities=frozenset({code})), k=k,
        month_from=period.first_month, month_to=period.last_month, locale=locale, now=now)
    ranking = next((r for r in rankings if r.get("municipality_code") == code), None)
    if ranking is None or ranking["suppressed"] or _shown(ranking["respondents"], k) is None:
        return Priorities(None, ())
    concerns = tuple(
        Concern(item["code"], item["label"], item["points"], PRIORITY_MATCH.get(item["code"]),
                reported.get(PRIORITY_MATCH.get(item["code"], "")))
        for item in ranking["concerns"] if _shown(item["points"], k) is not None)
    return Priorities(ranking["respondents"], concerns[:TOP])


async def work_of(session: AsyncSession, *, code: str, period: Period, k: int) -> Work:
    """Cases (threats and stigmatization) received in the period and where they stand.

    The four cells referred or not × closed or open are perturbed by their reports' record
    keys, like every published count, then protected together (`storage.disclosure.protect`,
    margins included); only the margins are shown — received (the total), referred (a row
    total), closed (a column total) — and any below k is a dash. So neither a shown figure
    nor the difference of two (received − referred, received − closed) is a small count:
    those differences are margins of the same protected table.
    """
    statement = sa_select(
        col(Report.id), col(Report.referred_to), col(Report.status), col(Report.record_key),
        col(Report.created_hour),
    ).where(col(Report.municipality_code) == code, col(Report.kind).in_(CASE_KINDS),
            col(Report.created_hour) >= period.start, col(Report.created_hour) < period.end)
    reports = (await session.exec(statement)).all()  # type: ignore[call-overload]
    cells: dict[tuple[str, str], list[int]] = defaultdict(list)
    for _id, referred_to, status, record_key, _created in reports:
        row = "referred" if referred_to else "not_referred"
        column = "closed" if status == "closed" else "open"
        cells[(row, column)].append(record_key)
    received, referred, closed = work_figures(
        {cell: perturb(len(keys), add_keys(keys)) for cell, keys in cells.items()}, k)
    first = await _first_actions(session, [row[0] for row in reports])
    delays = [(first[report_id] - _aware(created)).total_seconds() / 3600
              for report_id, _r, _s, _k, created in reports if report_id in first]
    return Work(
        received=received, referred=referred, closed=closed,
        median_hours=max(0.0, statistics.median(delays)) if len(delays) >= k else None,
    )


def work_figures(counts: Mapping[tuple[str, str], int], k: int,
                 ) -> tuple[int | None, int | None, int | None]:
    """Received, referred and closed from the (perturbed) 2 × 2 table of
    ("referred" | "not_referred", "closed" | "open") counts: its grand total, a row total and
    a column total after `storage.disclosure.protect` at k, each a dash (None) below k."""
    table = Table(rows=WORK_ROWS, columns=WORK_COLUMNS, counts=dict(counts))
    published = protect(table, k=k)
    return (_shown(published.total, k), _shown(published.row_totals["referred"], k),
            _shown(published.column_totals["closed"], k))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _first_actions(session: AsyncSession, report_ids: list[str]) -> dict[str, datetime]:
    """When someone of the team first did something on each case (claim, status, note,
    message…): the first event whose actor is not the reporter."""
    found: dict[str, datetime] = {}
    for start in range(0, len(report_ids), 500):
        chunk = report_ids[start:start + 500]
        rows = (await session.exec(
            select(ReportEvent.report_id, func.min(ReportEvent.at))
            .where(col(ReportEvent.report_id).in_(chunk), ReportEvent.actor != "reporter")
            .group_by(col(ReportEvent.report_id)))).all()
        found.update({report_id: _aware(at) for report_id, at in rows if at is not None})
    return found


async def build_bulletin(
    session: AsyncSession, *, code: str, period: Period, k: int, locale: str = "es",
    now: datetime | None = None, alerts: Sequence[BulletinAlert] | None = None,
) -> Bulletin:
    """Everything the bulletin shows, every figure already protected at the public k."""
    now = now or utcnow()
    k = _public_k(k)
    periods = tuple(period.shifted(step) for step in range(1 - TREND_PERIODS, 1))
    trends, tables = [], []
    for kind in CASE_KINDS:
        trend, table = await _trend(session, code=code, kind=kind, periods=periods, k=k,
                                    now=now, locale=locale)
        trends.append(trend)
        tables.append(table)
    latest = [Reported(trend.kind, row.code, row.label, row.values[-1])
              for trend in trends for row in trend.rows if row.values[-1] is not None]
    latest.sort(key=lambda item: (-item.count, item.label))
    reported = {row.code: row.values[-1] for trend in trends for row in trend.rows}
    if alerts is None:
        alerts = await gather_alerts(session, code, period.start, period.end, k=k,
                                     locale=locale)
    return Bulletin(
        code=code, name=municipality_official_name(code), department=department_name(code[:2]),
        period=period, periods=periods, k=k,
        priorities=await _priorities(session, code=code, period=period, k=k, now=now,
                                     locale=locale, reported=reported),
        trends=tuple(trends), most_reported=tuple(latest[:TOP]),
        work=await work_of(session, code=code, period=period, k=k),
        alerts=tuple(alerts), map=locator(code),
    )


def _stylesheet() -> str:
    return (files("api") / "static" / STYLESHEET).read_text(encoding="utf-8")


def duration(hours: float, locale: str) -> str:
    """The median time in words a council reads: hours under two days, then days."""
    ngettext = translations(locale).ngettext
    if hours < 48:
        count = round(hours)
        return ngettext("%(num)s hora", "%(num)s horas", count) % {"num": count}
    count = round(hours / 24)
    return ngettext("%(num)s día", "%(num)s días", count) % {"num": count}


def render_html(bulletin: Bulletin, locale: str, *, page: dict[str, Any] | None = None) -> str:
    """The document; standalone (its stylesheet inside, for files and the PDF) unless `page`
    holds what the signed-in page adds (links to the PDF and the other language)."""
    return environment(locale).get_template("bulletin.html").render(
        bulletin=bulletin, page=page, css=None if page else _stylesheet(),
        duration=lambda hours: duration(hours, locale),
        kind_heading={"threat": translations(locale).gettext("Amenazas reportadas"),
                      "stigma": translations(locale).gettext("Estigmatización reportada")})


def render_pdf(html: str) -> bytes:
    """The standalone HTML as PDF, drawn by WeasyPrint (pango; no browser)."""
    import weasyprint  # noqa: PLC0415 - only when a PDF is made: idle memory stays small

    return bytes(weasyprint.HTML(string=html).write_pdf())


def file_name(bulletin: Bulletin, locale: str, suffix: str) -> str:
    language = "" if locale == "es" else f".{locale}"
    return f"boletin-{bulletin.code}-{bulletin.period.code}{language}.{suffix}"


async def prepare(session: AsyncSession, *, code: str, period: str | None, k: int,
                  locale: str = "es", now: datetime | None = None) -> Bulletin:
    """The bulletin as a person asked for it (code and period as typed; no period: the last
    quarter that has ended). BulletinError says what to change."""
    now = now or utcnow()
    chosen = parse_period(period, now) if period else latest_quarter(now)
    return await build_bulletin(session, code=municipality_code(code), period=chosen, k=k,
                                locale=locale, now=now)
