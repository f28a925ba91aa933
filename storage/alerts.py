"""Early warnings kept: raised by the background job, shown to whom may see them, acknowledged.

The statistics are `storage.early_warning`; this module counts the reports (their clear
`created_hour`, kind, category and place: rows outlive their purged contents), stores
each new alert once, audits it, and pings the area's focal points with a content-free
message. Focal points of the area and admins see the exact figures; an analyst sees an
alert only when both of its figures pass suppression at k, and then perturbed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import append_audit
from storage.cellkey import KEY_SPACE, perturb
from storage.db import is_postgresql
from storage.early_warning import Counts, Rule, Series, detect, is_repeat
from storage.keyfile import Keyring
from storage.models import Alert, Report, User, UserArea
from storage.outbox import enqueue

EPOCH = datetime(2000, 1, 1).date()
MAX_NOTE = 1000
# Any constant works: two servers running the job at once take turns, so none raises twice.
_PG_ALERTS_LOCK = 0x41_4C_52_54
ROLES_WITH_ALERTS = ("focal_point", "admin", "analyst")


class AlertError(LookupError):
    """An alert that this person cannot act on: missing, not theirs, or done already."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def note_aad(alert_id: str) -> bytes:
    return b"somos/v1/alert-note\x00" + alert_id.encode()


def _day(moment: datetime) -> int:
    return (moment.date() - EPOCH).days


@dataclass(frozen=True)
class Windows:
    """The latest window (whole UTC days up to today) and the baseline before it."""

    baseline_start: datetime
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, now: datetime, rule: Rule) -> Windows:
        end = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - timedelta(days=rule.window_days)
        return cls(start - timedelta(days=rule.window_days * rule.baseline_windows), start, end)


@dataclass(frozen=True)
class Tally:
    counts: Counts
    window_key: int
    baseline_key: int

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.counts + other.counts, (self.window_key + other.window_key) % KEY_SPACE,
                     (self.baseline_key + other.baseline_key) % KEY_SPACE)


async def count_series(*, session: AsyncSession, windows: Windows) -> dict[Series, Tally]:
    """Reports (not community priorities) by municipality × kind × category, in the window
    and in the baseline, with their record keys' sums for the perturbed figures."""
    in_window = col(Report.created_hour) >= windows.start
    statement = (
        sa_select(col(Report.municipality_code), col(Report.kind), col(Report.category),
               func.sum(case((in_window, 1), else_=0)),
               func.sum(case((in_window, 0), else_=1)),
               func.sum(case((in_window, col(Report.record_key)), else_=0)),
               func.sum(case((in_window, 0), else_=col(Report.record_key))))
        .where(col(Report.created_hour) >= windows.baseline_start,
               col(Report.created_hour) < windows.end, col(Report.kind) != "priority")
        .group_by(col(Report.municipality_code), col(Report.kind), col(Report.category))
    )
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    return {Series(place, kind, category): Tally(
        Counts(int(observed), int(baseline)), int(window_key) % KEY_SPACE,
        int(baseline_key) % KEY_SPACE)
        for place, kind, category, observed, baseline, window_key, baseline_key in rows}


def _tally_of(series: Series, tallies: dict[Series, Tally]) -> Tally:
    if series.category is not None:
        return tallies[series]
    total = Tally(Counts(0, 0), 0, 0)
    for other, tally in tallies.items():
        if (other.municipality_code, other.kind) == (series.municipality_code, series.kind):
            total = total + tally
    return total


async def _has_history(session: AsyncSession, windows: Windows) -> bool:
    """Whether reports were being received in the baseline's first window: a new
    installation's first weeks have no past to compare with, and every place would look
    like a rise."""
    first = (await session.exec(select(func.min(Report.created_hour)))).first()
    if first is None:
        return False
    return first < windows.baseline_start + (windows.end - windows.start)


async def _recent(session: AsyncSession, windows: Windows, rule: Rule) -> list[tuple[Series, int]]:
    since = windows.start - timedelta(days=rule.window_days)
    rows = (await session.exec(
        select(Alert.municipality_code, Alert.kind, Alert.category, Alert.window_start)
        .where(col(Alert.window_start) > since)
    )).all()
    return [(Series(place, kind, category), _day(start)) for place, kind, category, start in rows]


async def _area_staff(session: AsyncSession, municipality_code: str) -> list[str]:
    """Active focal points whose area holds the place; the admins if there is none."""
    users = (await session.exec(
        select(User.id).join(UserArea, col(UserArea.user_id) == col(User.id))
        .where(col(User.disabled).is_(False), col(User.role) == "focal_point",
               or_(col(UserArea.municipality_code) == municipality_code,
                   col(UserArea.department_code) == municipality_code[:2]))
    )).all()
    if users:
        return sorted(set(users))
    admins = (await session.exec(
        select(User.id).where(col(User.disabled).is_(False), col(User.role) == "admin"))).all()
    return sorted(admins)


async def raise_alerts(
    *, session: AsyncSession, keyring: Keyring, now: datetime, rule: Rule
) -> list[Alert]:
    """Tests every place's latest window; stores, audits and announces each new alert.

    A rise already alerted within the last window is not alerted again
    (`early_warning.is_repeat`). Each person to tell gets one ping for the whole run.
    """
    if is_postgresql(session):
        await session.exec(select(func.pg_advisory_xact_lock(_PG_ALERTS_LOCK)))
    windows = Windows.ending(now, rule)
    if not await _has_history(session, windows):
        return []
    tallies = await count_series(session=session, windows=windows)
    earlier = await _recent(session, windows, rule)
    start_day = _day(windows.start)
    raised: list[Alert] = []
    to_tell: set[str] = set()
    for signal in detect({series: tally.counts for series, tally in tallies.items()}, rule):
        if is_repeat(signal.series, start_day, earlier, rule.window_days):
            continue
        earlier.append((signal.series, start_day))
        tally = _tally_of(signal.series, tallies)
        alert = Alert(
            municipality_code=signal.series.municipality_code,
            department_code=signal.series.municipality_code[:2],
            kind=signal.series.kind, category=signal.series.category,
            window_start=windows.start, window_end=windows.end,
            observed=tally.counts.observed, baseline=tally.counts.baseline,
            baseline_windows=rule.baseline_windows, p_value=signal.p_value,
            observed_perturbed=perturb(tally.counts.observed, tally.window_key),
            baseline_perturbed=perturb(tally.counts.baseline, tally.baseline_key),
            created_at=now,
        )
        session.add(alert)
        await session.flush()
        await append_audit(session=session, actor="system", action="alert.raised",
                           detail={"alert": alert.id}, at=now)
        to_tell.update(await _area_staff(session, alert.municipality_code))
        raised.append(alert)
    for user_id in sorted(to_tell):
        # Nothing of the alert: the chat is on a phone that can be seized.
        await enqueue(session=session, keyring=keyring, kind="early_warning", now=now,
                      payload={"user_id": user_id})
    return raised


def passes_disclosure(alert: Alert, k: int) -> bool:
    """Both figures, true and perturbed, are 0 or at least k: the primary-suppression rule
    of every table, applied to the alert's two cells (window, baseline)."""
    return all(value == 0 or value >= k for value in (
        alert.observed, alert.baseline, alert.observed_perturbed, alert.baseline_perturbed))


@dataclass(frozen=True)
class AlertView:
    """An alert as one person may see it. `exact` is False for analysts: perturbed figures,
    no note and no name."""

    id: str
    municipality_code: str
    kind: str
    category: str | None
    window_start: datetime
    window_end: datetime
    window_days: int
    observed: int
    expected: float
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str | None
    exact: bool


async def _covers(session: AsyncSession, user: User, alert: Alert) -> bool:
    if user.role == "admin":
        return True
    if user.role != "focal_point":
        return False
    found = (await session.exec(
        select(UserArea.id).where(
            col(UserArea.user_id) == user.id,
            or_(col(UserArea.municipality_code) == alert.municipality_code,
                col(UserArea.department_code) == alert.department_code)).limit(1))).first()
    return found is not None


def public_view(alert: Alert) -> AlertView:
    """The alert as anyone outside its area may see it once it passes `passes_disclosure`:
    perturbed figures, no note, no name (analysts, the municipal bulletin)."""
    return AlertView(
        id=alert.id, municipality_code=alert.municipality_code, kind=alert.kind,
        category=alert.category, window_start=alert.window_start,
        window_end=alert.window_end, window_days=(alert.window_end - alert.window_start).days,
        observed=alert.observed_perturbed,
        expected=round(alert.baseline_perturbed / alert.baseline_windows, 1),
        created_at=alert.created_at, acknowledged_at=alert.acknowledged_at,
        acknowledged_by=None, note=None, exact=False)


async def _view(session: AsyncSession, keyring: Keyring, user: User, alert: Alert,
                k: int) -> AlertView | None:
    exact = await _covers(session, user, alert)
    if not exact:
        return public_view(alert) if user.role == "analyst" and passes_disclosure(alert, k) \
            else None
    by = note = None
    if alert.acknowledged_by is not None:
        person = await session.get(User, alert.acknowledged_by)
        by = person.username if person else None
    if alert.crypto_note is not None:
        note = keyring.open(alert.crypto_note, note_aad(alert.id)).decode()
    return replace(public_view(alert), observed=alert.observed,
                   expected=round(alert.baseline / alert.baseline_windows, 1),
                   acknowledged_by=by, note=note, exact=True)


async def alerts_for(
    *, session: AsyncSession, keyring: Keyring, user: User, k: int, limit: int = 100,
    unacknowledged: bool = False,
) -> list[AlertView]:
    """The newest alerts this person may see (focal points: their areas'; admins: all;
    analysts: those whose figures pass suppression at `k`)."""
    if user.role not in ROLES_WITH_ALERTS:
        return []
    query = select(Alert).order_by(col(Alert.created_at).desc(), col(Alert.id))
    if user.role == "focal_point":
        areas = (await session.exec(select(UserArea).where(col(UserArea.user_id) == user.id))).all()
        municipalities = [a.municipality_code for a in areas if a.municipality_code]
        departments = [a.department_code for a in areas
                       if a.department_code and not a.municipality_code]
        if not municipalities and not departments:
            return []
        query = query.where(or_(col(Alert.municipality_code).in_(municipalities),
                                col(Alert.department_code).in_(departments)))
    if user.role == "analyst":
        # The same rule as passes_disclosure, in the query: older alerts that pass are not
        # crowded out of the page by newer ones that do not.
        query = query.where(col(Alert.observed) >= k, col(Alert.observed_perturbed) >= k,
                            or_(col(Alert.baseline) == 0, col(Alert.baseline) >= k),
                            or_(col(Alert.baseline_perturbed) == 0,
                                col(Alert.baseline_perturbed) >= k))
    if unacknowledged:
        query = query.where(col(Alert.acknowledged_at).is_(None))
    views = []
    for alert in (await session.exec(query.limit(limit))).all():
        view = await _view(session, keyring, user, alert, k)
        if view is not None:
            views.append(view)
    return views


async def acknowledge(
    *, session: AsyncSession, keyring: Keyring, user: User, alert_id: str, note: str,
    now: datetime, k: int,
) -> AlertView:
    """Marks an alert of the person's area as seen, with a note (sealed); audited.

    AlertError("not-found") for an alert they may not act on (the same as a missing one),
    AlertError("acknowledged") when someone already did."""
    alert = await session.get(Alert, alert_id)
    if alert is None or not await _covers(session, user, alert):
        raise AlertError("not-found")
    if alert.acknowledged_at is not None:
        raise AlertError("acknowledged")
    text = note.strip()[:MAX_NOTE]
    alert.acknowledged_at = now
    alert.acknowledged_by = user.id
    alert.crypto_note = keyring.seal(text.encode(), note_aad(alert.id)) if text else None
    session.add(alert)
    await session.flush()
    await append_audit(session=session, actor=user.id, action="alert.acknowledged",
                       detail={"alert": alert.id}, at=now)
    view = await _view(session, keyring, user, alert, k)
    if view is None:  # pragma: no cover - _covers said it is theirs
        raise AlertError("not-found")
    return view


async def alerts_in_period(
    *, session: AsyncSession, municipality_code: str, start: datetime, end: datetime
) -> Sequence[Alert]:
    """The alerts of a place whose window overlaps [start, end), oldest first, with their
    exact and perturbed figures. A public output shows only those that pass
    `passes_disclosure`, and then the perturbed figures."""
    return (await session.exec(
        select(Alert).where(col(Alert.municipality_code) == municipality_code,
                            col(Alert.window_start) < end, col(Alert.window_end) > start)
        .order_by(col(Alert.window_start), col(Alert.id))
    )).all()


async def recent_alerts(*, session: AsyncSession, limit: int = 50) -> Sequence[Alert]:
    """The newest alerts, for the operator at the server (`somos alerts list`)."""
    return (await session.exec(
        select(Alert).order_by(col(Alert.created_at).desc(), col(Alert.id)).limit(limit)
    )).all()
