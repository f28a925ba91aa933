"""A focal point works cases in Chromium, on a phone (390 × 844) and at a desk.

Nariño's queue holds a dozen synthetic cases seeded through the real submission path. On
the first screen of a phone the queue shows at least three of them, urgency as a coloured
chip with its word; on a case the thread and the reply box come before the forms. The
status forms choose nothing in advance; a refusal says what to choose, in words, and keeps
what was chosen; a referral saves without its filing number, is reminded on the case and
its card, and takes the number later; the history names the claim and every move, and
the case passed to a colleague.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from storage.triage import CLOSING_REASONS, REFERRAL_ENTITIES
from tests.support.browser import DESKTOP, PHONE, sign_in_page
from tests.support.harness import Server, Somos, start_server
from tests.support.places import NARINO
from tests.support.totp import fresh_code

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("browser_cases")]

PASSWORD = "contraseña larga del equipo de Nariño"
INTERNAL_CODES = re.compile(
    r"\b(" + "|".join((*CLOSING_REASONS, *REFERRAL_ENTITIES, "in_review", "follow_up",
                       "referred")) + r")\b")


@dataclass
class Deployment:
    server: Server
    secret: str

    def sign_in(self, page: Page, start: str = "/bandeja") -> None:
        sign_in_page(page, self.server.base_url, "narino", PASSWORD, fresh_code(self.secret),
                     start)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("cases")
    # No bot: the pages are the point here (TELEGRAM_BOT_TOKEN unset, `somos serve` runs
    # without polling).
    somos = Somos(root / "data", f"sqlite:///{root / 'data' / 'somos.db'}",
                  {"SOMOS_DEPARTMENTS": NARINO})
    somos.run("init")
    secret = somos.add_user("narino", "--role", "focal_point", "--department", NARINO,
                            password=PASSWORD)
    somos.run("demo", "seed", "--reports", "40", "--seed", "12")
    # A colleague of the department who joins after the cases came in: one may pass them on.
    somos.add_user("narino2", "--role", "focal_point", "--department", NARINO,
                   password=PASSWORD)
    server = start_server(somos, root / "serve.log")
    try:
        yield Deployment(server, secret)
    finally:
        server.stop()


def fully_visible(page: Page, items: Locator) -> int:
    """How many of `items` lie entirely inside the first screen (no scrolling)."""
    height = page.viewport_size["height"] if page.viewport_size else 0
    count = 0
    for index in range(items.count()):
        box = items.nth(index).bounding_box()
        if box and box["y"] >= 0 and box["y"] + box["height"] <= height:
            count += 1
    return count


def test_a_phone_shows_three_cases_on_the_first_screen_and_urgency_as_a_chip(
    deployment: Deployment, browser: Browser, screenshots: Path,
) -> None:
    context = browser.new_context(viewport=PHONE, locale="es-CO")
    page = context.new_page()
    deployment.sign_in(page)
    cards = page.locator("ul.queue > li")
    assert cards.count() >= 3
    assert fully_visible(page, cards) >= 3
    # The filters are folded above the cases.
    filters = page.locator("details.filters")
    expect(filters).not_to_have_attribute("open", re.compile(".*"))
    expect(page.get_by_label("Estado")).to_be_hidden()
    page.screenshot(path=str(screenshots / "bandeja-telefono-390.png"))
    # «Inmediata» is a filled red chip, not the grey tag of «Nuevo».
    immediate = page.locator(".chip.urgency-immediate").first
    expect(immediate).to_have_text("Urgencia: Inmediata")
    new = page.locator('.tag[data-status="new"]').first
    colours = [chip.evaluate("e => getComputedStyle(e).backgroundColor")
               for chip in (immediate, new)]
    assert colours[0] != colours[1], colours
    assert colours[0] == "rgb(180, 35, 24)"
    # A stigmatization card says what happened; who did it is the line below.
    stigma = page.locator("ul.queue a", has=page.locator(".who")).first
    expect(stigma.locator(".what")).to_have_text("Estigmatización")
    expect(stigma.locator(".who")).to_contain_text("Quién:")
    filters.locator("summary").click()
    expect(page.get_by_label("Estado")).to_be_visible()
    context.close()


def first_new_case(page: Page) -> str:
    """Opens the first case still «Nuevo» in the queue; its path."""
    card = page.locator("ul.queue a", has=page.locator('[data-status="new"]')).first
    path = card.get_attribute("href")
    assert path
    card.click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    return path


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390px", "desktop"])
def test_a_focal_point_takes_refers_and_fills_the_reference_later(
    deployment: Deployment, browser: Browser, screenshots: Path, screen: dict[str, int],
) -> None:
    phone = screen == PHONE
    context = browser.new_context(viewport=screen, locale="es-CO")
    page = context.new_page()
    deployment.sign_in(page)
    path = first_new_case(page)
    page.get_by_role("button", name="Tomar este reporte").click()
    expect(page.get_by_role("status")).to_have_text("Usted tomó este reporte.")
    expect(page.locator(".tags [data-status]")).to_have_text("En revisión")

    # The thread and its reply box come before the forms.
    page.get_by_label("Mensaje para la persona que reportó").fill(
        "Recibimos su reporte. ¿Está en un lugar seguro?")
    page.get_by_role("button", name="Enviar mensaje").click()
    expect(page.locator(".message.to_reporter")).to_contain_text("¿Está en un lugar seguro?")
    thread = page.locator("#hilo").bounding_box()
    reply = page.locator("form.reply").bounding_box()
    forms = page.locator("#estado").bounding_box()
    assert thread and reply and forms
    assert thread["y"] < reply["y"] < forms["y"]

    # One form per move, in workflow order, nothing chosen.
    moves = page.locator("form[data-move]")
    assert [moves.nth(i).get_attribute("data-move") for i in range(moves.count())] == [
        "referred", "follow_up", "closed"]
    referral = page.locator('form[data-move="referred"]')
    closing = page.locator('form[data-move="closed"]')
    expect(referral.get_by_label("Entidad", exact=True)).to_have_value("")
    for radio in closing.get_by_role("radio").all():
        expect(radio).not_to_be_checked()
    expect(closing.get_by_role("radio")).to_have_count(len(CLOSING_REASONS))
    expect(closing.get_by_label("No fue posible el contacto")).to_be_visible()

    # A refusal says what to choose, in words, and keeps what was typed.
    referral.get_by_label("Número de radicado o referencia").fill("OFI-2026-77")
    referral.get_by_role("button", name="Remitir").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Elija la entidad a la que remite el caso.")
    assert not INTERNAL_CODES.search(page.locator("main").inner_text())
    expect(referral.get_by_label("Número de radicado o referencia")).to_have_value("OFI-2026-77")
    if phone:  # the refused form is where the phone's screen is
        box = alert.bounding_box()
        assert box and 0 <= box["y"] < PHONE["height"]
        page.screenshot(path=str(screenshots / "caso-rechazo-390.png"))
    closing.get_by_role("button", name="Cerrar el caso").click()
    expect(page.get_by_role("alert")).to_have_text("Elija el motivo de cierre.")
    assert not INTERNAL_CODES.search(page.locator("main").inner_text())

    # A referral without its filing number is saved, and reminded until it is filled.
    referral.get_by_label("Entidad", exact=True).select_option(label="Defensoría del Pueblo")
    referral.get_by_role("button", name="Remitir").click()
    expect(page.get_by_role("status")).to_have_text("El estado quedó guardado.")
    expect(page.locator(".tags [data-status]")).to_have_text("Remitido")
    reminder = page.locator('[data-reminder="reference"]')
    expect(reminder).to_contain_text(
        "Falta el número de radicado de la remisión a Defensoría del Pueblo.")
    page.goto(deployment.server.base_url + "/bandeja")
    card = page.locator(f'ul.queue a[href="{path}"]')
    expect(card.locator('[data-reference="pending"]')).to_have_text("Falta el radicado")
    card.click()
    page.get_by_role("link", name="Agregar el radicado").click()
    page.locator("#radicado").get_by_label("Número de radicado o referencia").fill(
        "DP-2026-5521")
    page.get_by_role("button", name="Guardar el radicado").click()
    expect(page.get_by_role("status")).to_have_text("El radicado quedó guardado.")
    expect(reminder).to_have_count(0)

    # The history names the claim, the move and the number added later.
    history = page.locator(".history")
    expect(history.locator('[data-event="assignment"]')).to_contain_text(
        "Usted tomó el caso · Nuevo → En revisión")
    expect(history.locator('[data-event="status"]')).to_contain_text(
        "Usted: En revisión → Remitido · Defensoría del Pueblo · Radicado pendiente")
    expect(history.locator('[data-event="reference"]')).to_contain_text(
        "Usted agregó el radicado · Defensoría del Pueblo · Radicado DP-2026-5521")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= screen["width"]
    page.screenshot(path=str(screenshots / ("caso-390.png" if phone else "caso.png")),
                    full_page=True)

    # Passed to a colleague: the history says so, and the forms to move it are gone.
    reassign = page.locator("#reasignar")
    expect(reassign.get_by_label("Pasar el caso a")).to_have_value("")
    reassign.get_by_label("Pasar el caso a").select_option("narino2")
    reassign.get_by_role("button", name="Reasignar").click()
    expect(page.get_by_role("status")).to_have_text("El caso pasó a otra persona del equipo.")
    expect(history.locator('[data-event="assignment"]').last).to_contain_text(
        "Usted pasó el caso a narino2")
    expect(page.locator("form[data-move]")).to_have_count(0)
    context.close()
