"""The web journeys in a real browser, against `somos serve` and the Bot API double.

A resident reports on Telegram; the Nariño focal point signs in with TOTP, sees only
Nariño, refers the report to the UNP with a reference and writes to the reporter, who
reads it in Telegram with the receipt code. An analyst opens the dashboard; an admin
adds a routing rule. Every page is also checked at 390 px wide.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.botapi import BotApiDouble
from tests.support.browser import DESKTOP, PHONE, fits_phone, sign_in_page
from tests.support.harness import Server, Somos, report_threat, start_server
from tests.support.places import CACERES, PASTO, TUMACO
from tests.support.totp import fresh_code

# One worker runs them all: they share one deployment and one browser (module fixtures).
pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("browser_journeys")]

PASSWORD = "contraseña larga del equipo de protección"


@dataclass
class Deployment:
    double: BotApiDouble
    server: Server
    somos: Somos
    secrets: dict[str, str]
    admin_password: str
    receipt: str = ""

    def url(self, path: str) -> str:
        return self.server.base_url + path

    def otp(self, username: str) -> str:
        return fresh_code(self.secrets[username])

    def bearer(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        token = httpx.post(self.url("/api/v1/auth/token"), data={
            "username": username, "password": password, "otp": self.otp(username),
        }).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("browser")
    with BotApiDouble() as double:
        somos = Somos(root / "data", f"sqlite:///{root / 'data' / 'somos.db'}", {
            "TELEGRAM_BOT_TOKEN": double.token, "SOMOS_TELEGRAM_API_URL": double.base_url,
        })
        init = somos.init()
        admin_password = re.search(r"password=(\S+)", init)
        admin_secret = re.search(r"secret=([A-Z2-7]+)", init)
        assert admin_password and admin_secret, init
        secrets = {"admin": admin_secret.group(1)}
        secrets["narino"] = somos.add_user("narino", "--role", "focal_point", "--department",
                                           "52", password=PASSWORD)
        secrets["caceres"] = somos.add_user("caceres", "--role", "focal_point",
                                            "--municipality", CACERES, password=PASSWORD)
        secrets["analista"] = somos.add_user("analista", "--role", "analyst", password=PASSWORD)
        # Aggregates publish closed months only: synthetic reports of the last two years in
        # Sucre and Bolívar (no focal point there: the journeys' queues stay as they are).
        seeder = Somos(somos.data_dir, somos.database_url, {"SOMOS_DEPARTMENTS": "70,13"})
        seeder.run("demo", "seed", "--reports", "400", "--seed", "11")
        server = start_server(somos, root / "serve.log")
        try:
            yield Deployment(double, server, somos, secrets, admin_password.group(1))
        finally:
            server.stop()


def sign_in(page: Page, deployment: Deployment, username: str, password: str = PASSWORD,
            start: str = "/") -> None:
    sign_in_page(page, deployment.server.base_url, username, password, deployment.otp(username),
                 start)


def test_focal_point_refers_a_telegram_report_to_the_unp_and_writes_to_the_reporter(
    deployment: Deployment, browser: Browser, screenshots: Path,
) -> None:
    resident = deployment.double.user(user_id=7_300_000_001, first_name="Rosa")
    description = "Dejaron un panfleto con nombres de la junta en la vereda"
    code = report_threat(resident, description)
    elsewhere = deployment.double.user(user_id=7_300_000_002, first_name="Luis")
    report_threat(elsewhere, "Llegó una amenaza a la emisora comunitaria",
                  place="Cáceres", confirm="¿Es Cáceres (Antioquia)?")

    context = browser.new_context(viewport=DESKTOP, locale="es-CO")
    page = context.new_page()
    sign_in(page, deployment, "narino", start="/bandeja")
    expect(page).to_have_url(re.compile(r"/bandeja$"))
    expect(page.get_by_role("heading", name="Bandeja")).to_be_visible()
    items = page.locator("ul.queue a")
    expect(items).to_have_count(1)
    assert items.first.get_attribute("data-municipality") == TUMACO
    expect(page.locator("main")).not_to_contain_text("Cáceres")
    expect(items.first).to_contain_text("Tumaco (Nariño)")
    page.screenshot(path=str(screenshots / "bandeja.png"), full_page=True)
    fits_phone(page, screenshots, "bandeja")

    items.first.click()
    expect(page.get_by_text(description)).to_be_visible()
    page.get_by_role("button", name="Tomar este reporte").click()
    expect(page.get_by_role("status")).to_have_text("Usted tomó este reporte.")
    referral = page.locator('form[data-move="referred"]')
    referral.get_by_label("Entidad", exact=True).select_option(
        label="UNP (Unidad Nacional de Protección)")
    referral.get_by_label("Número de radicado o referencia").fill("UNP-2026-004217")
    referral.get_by_role("button", name="Remitir").click()
    expect(page.get_by_role("status")).to_have_text("El estado quedó guardado.")
    expect(page.locator(".history")).to_contain_text("UNP-2026-004217")
    expect(page.locator("[data-status]")).to_have_text("Remitido")
    answer = "Recibimos su reporte. ¿Está en un lugar seguro? Podemos llamarle mañana."
    page.get_by_label("Mensaje para la persona que reportó").fill(answer)
    page.get_by_role("button", name="Enviar mensaje").click()
    expect(page.get_by_role("status")).to_contain_text("El mensaje quedó listo")
    expect(page.locator(".message.to_reporter")).to_contain_text(answer)
    page.screenshot(path=str(screenshots / "reporte.png"), full_page=True)
    fits_phone(page, screenshots, "reporte")
    context.close()

    deployment.double.wait_until_idle()
    resident.send_command("/start")
    resident.wait_for_bot_message("¿Qué quiere hacer?")
    resident.press("🔎 Consultar mi reporte con el código")
    resident.wait_for_bot_message("Escriba su código de seguimiento")
    resident.send_text(code)
    shown = resident.wait_for_bot_message("Mensajes de su caso", timeout=20)
    assert answer in shown.text


def test_sign_in_page_fits_a_phone(
    deployment: Deployment, browser: Browser, screenshots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="es-CO")
    page = context.new_page()
    page.goto(deployment.url("/entrar"))
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.screenshot(path=str(screenshots / "entrar.png"))
    fits_phone(page, screenshots, "entrar")
    context.close()


def test_analyst_dashboard_shows_the_api_numbers(
    deployment: Deployment, browser: Browser, screenshots: Path
) -> None:
    api = httpx.get(deployment.url("/api/v1/aggregates"), params={"group_by": "department"},
                    headers=deployment.bearer("analista")).json()
    assert {cell["row"] for cell in api["cells"]} >= {"13", "70"}, api  # not vacuous
    context = browser.new_context(viewport=DESKTOP, locale="es-CO")
    page = context.new_page()
    sign_in(page, deployment, "analista")
    expect(page).to_have_url(re.compile(r"/panel$"))
    expect(page.get_by_role("heading", name="Cifras", exact=True)).to_be_visible()
    shown = {cell.get_attribute("data-row"): cell.get_attribute("data-count")
             for cell in page.locator('table[data-table="department"] td[data-count]').all()}
    assert shown == {
        cell["row"]: "suppressed" if cell["suppressed"] else str(cell["count"])
        for cell in api["cells"]
    }
    page.screenshot(path=str(screenshots / "panel.png"), full_page=True)
    fits_phone(page, screenshots, "panel")
    with page.expect_download() as download:
        page.get_by_role("link", name="HXL").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert "#adm2+code" in content.splitlines()[1]
    context.close()


# Every word of a table cell on one line: a word whose letters are drawn on two lines has
# two client rectangles. Every text of a chart or the map legend at 12 px or more on screen
# (an SVG's text scaled by its width over its viewBox).
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('table th, table td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""
SMALL_TEXT = """() => {
  const small = [];
  for (const el of document.querySelectorAll('.bars li span, .map-legend li, .chart-key')) {
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 12) small.push([el.textContent.trim(), size]);
  }
  for (const text of document.querySelectorAll('main svg text')) {
    const svg = text.ownerSVGElement;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const size = parseFloat(getComputedStyle(text).fontSize) * scale;
    if (size < 12) small.push([text.textContent.trim(), size]);
  }
  return small;
}"""


def test_the_dashboard_reads_on_a_phone_with_its_map(
    deployment: Deployment, browser: Browser, screenshots: Path
) -> None:
    api = httpx.get(deployment.url("/api/v1/aggregates"), params={"group_by": "municipality"},
                    headers=deployment.bearer("analista")).json()
    context = browser.new_context(viewport=PHONE, locale="es-CO")
    page = context.new_page()
    sign_in(page, deployment, "analista")
    for summary in page.locator("details summary").all():
        summary.click()  # every table open, so its cells are laid out
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate(SMALL_TEXT) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    drawn = page.locator("svg.map")
    expect(drawn).to_be_visible()
    box = drawn.bounding_box()
    assert box and box["width"] >= 300, box
    # The default coverage's 373 municipalities; hatched ones carry no count.
    assert drawn.locator("path").count() == 373
    for cell in api["cells"]:
        path = drawn.locator(f'path[data-code="{cell["row"]}"]')
        if cell["suppressed"]:
            assert path.get_attribute("data-state") == "suppressed"
            assert path.get_attribute("data-count") is None
        else:
            assert path.get_attribute("data-count") == str(cell["count"])
    expect(page.get_by_text("Límites municipales: DANE, MGN 2018.")).to_be_visible()
    page.locator("svg.map").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "panel-mapa-390.png"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Mapa (SVG)").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert content.startswith("<?xml") and "DANE, MGN 2018" in content
    context.close()


def test_admin_adds_a_routing_rule_and_a_new_colleague_enrolls_with_the_qr_code(
    deployment: Deployment, browser: Browser, screenshots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="es-CO")
    page = context.new_page()
    sign_in(page, deployment, "admin", password=deployment.admin_password,
            start="/admin/rutas")
    expect(page).to_have_url(re.compile(r"/admin/rutas$"))
    page.locator("select[name=username]").select_option("narino")
    page.locator("input[name=place]").fill(TUMACO)
    page.locator("select[name=kind]").select_option("threat")
    page.locator("select[name=urgency]").select_option("immediate")
    page.get_by_role("button", name="Guardar regla").click()
    expect(page.get_by_role("status")).to_contain_text("La regla quedó guardada.")
    expect(page.locator("table")).to_contain_text("Tumaco (Nariño)")
    rules = httpx.get(deployment.url("/api/v1/routing-rules"), headers=deployment.bearer(
        "admin", deployment.admin_password)).json()
    assert any(rule["municipality"] == TUMACO and rule["urgency"] == "immediate"
               and rule["kind"] == "threat" for rule in rules)
    page.screenshot(path=str(screenshots / "admin-reglas.png"), full_page=True)
    fits_phone(page, screenshots, "admin-reglas")

    page.goto(deployment.url("/admin/usuarios"))
    page.locator("input[name=username]").fill("pasto")
    page.locator("select[name=role]").select_option("focal_point")
    page.locator("input[name=municipalities]").fill(PASTO)
    page.get_by_role("button", name="Crear cuenta").click()
    password = page.locator("#password").inner_text().strip()
    assert len(password) >= 12
    page.goto(deployment.url("/admin/usuarios"))
    page.screenshot(path=str(screenshots / "admin-usuarios.png"), full_page=True)
    fits_phone(page, screenshots, "admin-usuarios")
    page.goto(deployment.url("/admin/auditoria?verificar=1"))
    expect(page.get_by_role("status")).to_contain_text("La cadena está íntegra")
    context.close()

    newcomer = browser.new_context(viewport=PHONE, locale="es-CO")
    page = newcomer.new_page()
    page.goto(deployment.url("/entrar"))
    page.get_by_label("Usuario").fill("pasto")
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(re.compile(r"/verificacion$"))
    expect(page.locator(".qr svg")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(screenshots / "verificacion-390.png"), full_page=True)
    secret = page.locator("[data-secret]").get_attribute("data-secret")
    assert secret
    page.get_by_label("Código de 6 dígitos").fill(fresh_code(secret))
    page.get_by_role("button", name="Activar").click()
    expect(page).to_have_url(re.compile(r"/bandeja$"))
    newcomer.close()
