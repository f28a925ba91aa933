"""The case page's forms: one per move in workflow order, nothing chosen in advance, refusals
in people's words with their choices kept, a referral whose filing number comes later, and
a history that names who took the case. Phone-first order of the queue and the case page."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI

from storage.reports import NewReport
from storage.store import Store
from storage.triage import CLOSING_REASONS, REFERRAL_ENTITIES
from tests.support.api import PAGES_URL, client_for
from tests.support.places import TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import Staff, add_staff
from tests.support.web_client import Browser


async def taken_case(browser: Browser, store: Store) -> tuple[Staff, str]:
    """A Tumaco report the signed-in focal point has just taken; its page path."""
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await submit(store, threat(TUMACO, category="threat.death_threat",
                                           urgency="immediate", description="nos amenazaron"))
    assert (await browser.sign_in(staff.username, staff.password, staff.otp())).status_code == 303
    page = f"/reportes/{report_id}"
    assert (await browser.submit(page, f"{page}/tomar", {})).status_code == 303
    return staff, page


def status_forms(html: str) -> list[str]:
    return re.findall(r'data-move="([a-z_]+)"', html)


def section(html: str, move: str) -> str:
    """The HTML of one move's form."""
    start = html.index(f'data-move="{move}"')
    return html[start:html.index("</form>", start)]


async def test_the_forms_follow_the_workflow_and_choose_nothing(
    browser: Browser, store: Store
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await submit(store, threat(TUMACO, urgency="high"))
    await browser.sign_in(staff.username, staff.password, staff.otp())
    page = f"/reportes/{report_id}"
    new = (await browser.get(page)).text
    # A new case has one next step: taking it (which puts it in review).
    assert status_forms(new) == [] and f'action="{page}/tomar"' in new

    await browser.submit(page, f"{page}/tomar", {})
    taken = (await browser.get(page)).text
    assert f'action="{page}/tomar"' not in taken
    assert status_forms(taken) == ["referred", "follow_up", "closed"]
    forms = "".join(section(taken, move) for move in status_forms(taken))
    assert " checked" not in forms and " selected" not in forms
    # Each form carries only what its move needs.
    assert 'name="entity"' in section(taken, "referred")
    assert 'name="reason"' not in section(taken, "referred")
    assert 'name="reason"' in section(taken, "closed")
    assert 'name="entity"' not in section(taken, "closed")
    assert "<select" not in section(taken, "follow_up") and "<input name" not in section(
        taken, "follow_up")
    # Closing reasons are labelled radios; no code is shown as text.
    closing = section(taken, "closed")
    assert closing.count('type="radio"') == len(CLOSING_REASONS)
    assert "No fue posible el contacto" in closing
    visible = re.sub(r"<[^>]+>", " ", forms)
    assert not any(code in visible for code in (*CLOSING_REASONS, *REFERRAL_ENTITIES)), visible


async def test_a_refusal_says_what_to_choose_and_keeps_what_was_chosen(
    browser: Browser, store: Store
) -> None:
    _, page = await taken_case(browser, store)
    no_entity = await browser.submit(page, f"{page}/estado", {
        "status": "referred", "reference": "OFI-2026-77"})
    assert no_entity.status_code == 422
    referral = section(no_entity.text, "referred")
    assert "Elija la entidad a la que remite el caso." in referral
    assert 'value="OFI-2026-77"' in referral

    too_long = await browser.submit(page, f"{page}/estado", {
        "status": "referred", "entity": "defensoria", "reference": "R" * 121})
    assert too_long.status_code == 422
    referral = section(too_long.text, "referred")
    assert "hasta 120 caracteres" in referral
    assert '<option value="defensoria" selected>' in referral
    # Only the form that was sent shows the refusal and keeps its choices.
    assert "selected" not in section(too_long.text, "closed")

    no_reason = await browser.submit(page, f"{page}/estado", {"status": "closed"})
    assert no_reason.status_code == 422
    assert "Elija el motivo de cierre." in section(no_reason.text, "closed")
    for code in ("attended", "referred_externally", "no_contact", "unfounded"):
        assert code not in re.sub(r"<[^>]+>", " ", no_reason.text)
    assert 'data-status="in_review"' in no_reason.text  # nothing moved

    message = await browser.submit(page, f"{page}/mensaje", {"text": "   "})
    assert message.status_code == 422
    assert "Escriba el texto" in message.text


async def test_a_referral_waits_for_its_reference_with_a_reminder(
    browser: Browser, store: Store
) -> None:
    _, page = await taken_case(browser, store)
    referred = await browser.submit(page, f"{page}/estado", {
        "status": "referred", "entity": "unp", "reference": "  "})
    assert referred.status_code == 303
    case = (await browser.get(page)).text
    assert 'data-status="referred"' in case
    assert 'data-reminder="reference"' in case
    assert "Falta el número de radicado de la remisión a UNP (Unidad Nacional de Protección)." \
        in case
    assert "Radicado pendiente" in case
    queue = (await browser.get("/bandeja")).text
    assert 'data-reference="pending"' in queue and "Falta el radicado" in queue

    empty = await browser.submit(page, f"{page}/radicado", {"reference": " "})
    assert empty.status_code == 422
    assert "Escriba el número de radicado o referencia." in empty.text
    assert (await browser.submit(page, f"{page}/radicado",
                                 {"reference": "UNP-2026-004217"})).status_code == 303
    case = (await browser.get(page)).text
    assert 'data-reminder="reference"' not in case and f'action="{page}/radicado' not in case
    assert "Usted agregó el radicado" in case and "UNP-2026-004217" in case
    assert 'data-reference="pending"' not in (await browser.get("/bandeja")).text


async def test_the_history_names_who_took_the_case_and_every_move(
    browser: Browser, store: Store
) -> None:
    _, page = await taken_case(browser, store)
    for fields in ({"status": "follow_up"}, {"status": "closed", "reason": "attended"},
                   {"status": "follow_up"}):
        assert (await browser.submit(page, f"{page}/estado", fields)).status_code == 303
    html = (await browser.get(page)).text
    history = html[html.index('class="history"'):]
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
             for item in re.findall(r"<li[^>]*>(.*?)</li>", history, re.S)]
    assert "Llegó el reporte" in lines[0]
    assert "Usted tomó el caso · Nuevo → En revisión" in lines[1]
    assert lines[2].endswith("Usted: En revisión → En seguimiento")
    assert lines[3].endswith("Usted: En seguimiento → Cerrado · Atendido")
    assert lines[4].endswith("Usted: Cerrado → En seguimiento")


async def test_a_colleague_sees_who_has_the_case_and_no_forms_to_move_it(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    colleague = await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    _, page = await taken_case(browser, store)
    async with client_for(app, PAGES_URL) as client:
        other = Browser(client)
        await other.sign_in(colleague.username, colleague.password, colleague.otp())
        html = (await other.get(page)).text
        assert "Lo atiende: tumaco" in html
        assert status_forms(html) == [] and f'action="{page}/mensaje"' not in html
        refused = await other.submit(page, f"{page}/estado", {"status": "follow_up"})
        assert refused.status_code == 409
        assert "Este reporte lo atiende otra persona del equipo." in refused.text


@pytest.mark.parametrize(("report", "headline", "not_headline"), [
    (NewReport(kind="stigma", category="stigma.by_security_forces", municipality_code=TUMACO,
               urgency="normal", answers={}), "Estigmatización", "Policía, Ejército o Armada"),
    (threat(TUMACO, category="threat.extortion", urgency="immediate"),
     "Extorsión o cobro de &#34;vacuna&#34;", None),
])
async def test_a_queue_card_is_headed_by_what_happened(
    browser: Browser, store: Store, report: NewReport, headline: str, not_headline: str | None,
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await submit(store, report)
    await browser.sign_in(staff.username, staff.password, staff.otp())
    queue = (await browser.get("/bandeja")).text
    card = queue[queue.index(f'data-report="{report_id}"'):]
    what = re.search(r'<span class="what">(.*?)</span>', card)
    assert what and what.group(1) == headline
    if not_headline:
        assert f"Quién: {not_headline}" in card  # who did it: a line below, not the title
    chip = re.search(r'<span class="chip urgency-(\w+)"[^>]*>.*?</span>(\w+)</span>', card)
    assert chip and chip.group(1) == report.urgency
    page = (await browser.get(f"/reportes/{report_id}")).text
    assert re.search(r"<h1>(.*?)</h1>", page).group(1) == headline  # type: ignore[union-attr]


async def test_phone_order_cases_before_filters_and_thread_before_forms(
    browser: Browser, store: Store
) -> None:
    _, page = await taken_case(browser, store)
    queue = (await browser.get("/bandeja?urgencia=immediate")).text
    filters = re.search(r"<details class=\"filters\"([^>]*)>", queue)
    assert filters and "open" not in filters.group(1)  # folded, even with a filter on
    assert "Filtros activos" in queue and 'href="/bandeja">Quitar filtros' in queue
    case = (await browser.get(page)).text
    thread, reply = case.index('id="hilo"'), case.index(f'action="{page}/mensaje"')
    moves = case.index('id="estado"')
    assert thread < reply < moves < case.index(f'action="{page}/nota"')
