"""The municipal bulletin over the API and the page: what a security council reads, and what
an attacker cannot read out of it (no figure in 1..k−1, no small cell by subtraction)."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select

from api.app import create_app
from api.bulletin import (
    PUBLIC_K,
    WORK_COLUMNS,
    WORK_ROWS,
    Period,
    build_bulletin,
    latest_quarter,
    parse_period,
    render_html,
    work_figures,
    work_of,
)
from api.demo import seed
from api.settings import Settings
from storage.cellkey import MAX_NOISE
from storage.models import Report, ReportEvent
from storage.store import Store
from tests.support.alerts import stored_alert
from tests.support.api import Headers
from tests.support.places import TUMACO

K = PUBLIC_K  # the public profile: the settings' k (5) is raised to 10
FIGURE = re.compile(r'data-figure="([^"]+)"')


@pytest.fixture
async def app(store: Store, settings: Settings) -> FastAPI:
    await seed(store=store, count=1500, departments=("52",), seed_value=17,
               municipalities=[TUMACO])
    return create_app(settings, store=store)


def figures(html: str) -> list[str]:
    return FIGURE.findall(html)


async def mark_cases(store: Store, period: Period, *, referred: int, closed: int,
                     acted: int) -> None:
    """Moves the period's first cases: `referred` referred, the next `closed` closed, and
    the first `acted` get a team member's first action five hours after they came in."""
    async with store.transaction() as session:
        rows = (await session.exec(
            select(Report).where(Report.municipality_code == TUMACO,
                                 col(Report.kind).in_(("threat", "stigma")),
                                 Report.created_hour >= period.start,
                                 Report.created_hour < period.end)
            .order_by(col(Report.id)))).all()
        assert len(rows) >= referred + closed + acted
        for report in rows[:referred]:
            await session.exec(update(Report).where(col(Report.id) == report.id)  # type: ignore[call-overload]
                               .values(status="referred", referred_to="unp"))
        for report in rows[referred:referred + closed]:
            await session.exec(update(Report).where(col(Report.id) == report.id)  # type: ignore[call-overload]
                               .values(status="closed", closing_reason="resolved"))
        for report in rows[:acted]:
            session.add(ReportEvent(report_id=report.id, seq=1, kind="assignment",
                                    actor="staff-id", crypto_body=b"sealed",
                                    at=report.created_hour + timedelta(hours=5)))


async def test_the_bulletin_shows_priorities_trend_map_and_work_with_no_figure_below_k(
    client: httpx.AsyncClient, store: Store, analyst: Headers,
) -> None:
    period = latest_quarter()
    await mark_cases(store, period, referred=14, closed=3, acted=12)
    response = await client.get(f"/api/v1/bulletins/{TUMACO}", headers=analyst,
                                params={"period": period.code})
    assert response.status_code == 200, response.text
    html = response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "San Andrés de Tumaco" in html and "Nariño" in html
    assert period.label("es") in html
    # Every figure is a dash or at least k; there are both.
    shown = figures(html)
    assert "hidden" in shown
    numbers = [int(value) for value in shown if value != "hidden"]
    assert numbers and all(value >= K for value in numbers)
    # The priorities, ranked, beside what was reported most; the map with Tumaco marked.
    assert 'data-concern="priority.' in html and 'id="lo-reportado"' in html
    assert f'data-code="{TUMACO}" data-marked="true"' in html
    assert html.count("<path") > 50  # Nariño's municipalities
    # What the focal points did: 3 closed is a dash; the median from 12 first actions.
    work = html[html.index('id="gestion"'):]
    assert re.search(r"Cerrados</dt><dd><span class=\"dash\"", work)
    assert "5 horas" in work
    assert "Una raya es una cifra que no se publica" in html
    assert "Sin alertas en el periodo" in html


async def test_focal_points_see_their_area_english_is_complete_and_the_pdf_is_a_pdf(
    client: httpx.AsyncClient, tumaco: Headers,
) -> None:
    period = latest_quarter().code
    english = await client.get(f"/api/v1/bulletins/{TUMACO}", headers=tumaco,
                               params={"period": period, "lang": "en"})
    assert english.status_code == 200
    for heading in ("Community priorities", "Reported most in the period",
                    "What the focal points did", "No alerts in the period"):
        assert heading in english.text
    assert "Prioridades de la comunidad" not in english.text
    pdf = await client.get(f"/api/v1/bulletins/{TUMACO}", headers=tumaco,
                           params={"period": period, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"] == (
        f'attachment; filename="boletin-{TUMACO}-{period}.pdf"')


@pytest.mark.parametrize(("params", "says"), [
    ({"period": "2026-Q5"}, "no es un periodo. Escriba un trimestre como 2026-Q3"),
    ({"period": "julio"}, "o un mes como 2026-07"),
    ({"period": "2999-Q1"}, "no ha terminado: solo se publican meses terminados"),
])
async def test_a_period_that_cannot_be_made_says_what_to_type(
    client: httpx.AsyncClient, analyst: Headers, params: dict[str, str], says: str,
) -> None:
    response = await client.get(f"/api/v1/bulletins/{TUMACO}", headers=analyst, params=params)
    assert response.status_code == 422
    assert says in response.json()["detail"]


async def test_an_unknown_municipality_is_named_in_the_refusal(
    client: httpx.AsyncClient, analyst: Headers,
) -> None:
    unknown = await client.get("/api/v1/bulletins/99999", headers=analyst)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "No existe el municipio 99999 en la lista DIVIPOLA."
    typo = await client.get("/api/v1/bulletins/Tumaco", headers=analyst)
    assert "no es un código de municipio" in typo.json()["detail"]


def test_periods_are_quarters_or_months_that_have_ended() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert latest_quarter(now).code == "2026-Q3"
    assert parse_period("2026-t3", now).code == "2026-Q3"
    quarter = parse_period("2026-Q3", now)
    assert (quarter.first_month, quarter.last_month) == ("2026-07", "2026-09")
    assert [quarter.shifted(step).code for step in (-3, -2, -1)] == [
        "2025-Q4", "2026-Q1", "2026-Q2"]
    assert parse_period("2026-11", now).end == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_period("2026-01", now).shifted(-1).code == "2025-12"
    assert quarter.label("es") == "jul–sept 2026" and quarter.label("en") == "Jul–Sep 2026"
    # A label carries no small number that could pass for a count.
    assert not re.search(r"\b[1-9]\b", quarter.label("es") + parse_period("2026-02").label("es"))


def test_no_difference_of_two_work_figures_is_a_small_cell() -> None:
    """The attacker subtracts shown figures: received − referred is the cases not referred,
    received − closed the cases still open. Either is hidden when it is 1..k−1, so the pair
    is never both shown; every shown figure is at least k. Random tables, fixed seed."""
    rng = random.Random(20261202)  # noqa: S311 - test data
    checked = 0
    for _ in range(4000):
        counts = {(row, column): rng.choice((0, rng.randint(1, 12), rng.randint(0, 40)))
                  for row in WORK_ROWS for column in WORK_COLUMNS}
        received, referred, closed = work_figures(counts, K)
        shown = [value for value in (received, referred, closed) if value is not None]
        assert all(value >= K for value in shown)
        not_referred = counts[("not_referred", "closed")] + counts[("not_referred", "open")]
        still_open = counts[("referred", "open")] + counts[("not_referred", "open")]
        if received is not None and referred is not None:
            assert not 1 <= received - referred < K
            assert received - referred == not_referred
            checked += 1
        if received is not None and closed is not None:
            assert not 1 <= received - closed < K
            assert received - closed == still_open
        if 1 <= not_referred < K:
            assert received is None or referred is None
        if 1 <= still_open < K:
            assert received is None or closed is None
    assert checked > 500


async def test_work_counts_the_periods_cases_as_they_stand_and_the_median_needs_k(
    store: Store, app: FastAPI,
) -> None:
    period = latest_quarter()
    await mark_cases(store, period, referred=20, closed=12, acted=K - 1)
    async with store.transaction() as session:
        few = await work_of(session, code=TUMACO, period=period, k=K)
    assert few.median_hours is None  # nine first actions: no median
    # Perturbed, not exact: a row or column total is the sum of two perturbed cells, the
    # total of four, each off by at most MAX_NOISE.
    assert few.referred is not None and abs(few.referred - 20) <= 2 * MAX_NOISE
    assert few.closed is not None and abs(few.closed - 12) <= 2 * MAX_NOISE
    async with store.transaction() as session:
        ids = (await session.exec(select(Report.id).where(
            Report.municipality_code == TUMACO, Report.created_hour >= period.start,
            Report.created_hour < period.end, col(Report.kind).in_(("threat", "stigma"))))).all()
        received = len(ids)
    assert few.received is not None and abs(few.received - received) <= 4 * MAX_NOISE


async def test_the_periods_alerts_are_listed_only_when_their_figures_pass_suppression(
    store: Store, app: FastAPI,
) -> None:
    # Alerts are raised by the job (storage.alerts); here stored with the figures wanted.
    period = parse_period("2026-Q2")
    shown = await stored_alert(store, observed=K + 8, baseline=K + 20, kind="threat")
    await stored_alert(store, observed=K - 3, baseline=K + 20, kind="stigma")  # below k
    await stored_alert(store, observed=K + 8, baseline=K + 20, kind="threat",
                       category="threat.extortion", perturbed=(K - 1, K + 20))  # perturbed < k
    async with store.transaction() as session:
        made = await build_bulletin(session, code=TUMACO, period=period, k=5)
    html = render_html(made, "es")
    assert [alert.label for alert in made.alerts] == [
        "Aumento inusual de amenazas en San Andrés de Tumaco (Nariño) en los últimos 14 días"]
    assert made.alerts[0].month == "2026-06" and "Sin alertas" not in html
    assert "Aumento inusual de amenazas en San Andrés de Tumaco (Nariño)" in html
    assert "estigmatización" not in html.split('id="alertas"')[1].split("</section>")[0]
    assert "Extorsión" not in html.split('id="alertas"')[1].split("</section>")[0]
    # No figure of an alert is printed, below k or above it.
    assert all(value >= K for value in made.figures)
    assert shown  # the one listed
    async with store.transaction() as session:
        later = await build_bulletin(session, code=TUMACO, period=parse_period("2026-Q3"), k=5)
    assert later.alerts == () and "Sin alertas" in render_html(later, "es")
