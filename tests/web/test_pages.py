"""The web pages through HTTP, on both databases: sign-in, queue, CSRF, idle timeout, headers.

(The same journeys in a real browser are in tests/browser/.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from api.demo import seed
from storage.store import Store
from tests.support.api import PAGES_URL, client_for
from tests.support.clock import Clock
from tests.support.places import CACERES, MEDELLIN, PASTO, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import PASSWORD, Staff, add_staff
from tests.support.totp import fresh_code, other_code
from tests.support.web_client import Browser, csrf_of


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def app(app: FastAPI, clock: Clock) -> FastAPI:
    app.state.clock = clock
    return app


async def report_in(store: Store, municipality: str, description: str = "nos amenazaron") -> str:
    return await submit(store, threat(municipality, category="threat.death_threat",
                                      urgency="high", description=description,
                                      target="target.leader"))


async def signed_in(browser: Browser, staff: Staff) -> httpx.Response:
    response = await browser.sign_in(staff.username, staff.password, staff.otp())
    assert response.status_code == 303, response.text
    return response


async def test_narino_focal_point_sees_only_narino_reports_each_with_the_actions(
    browser: Browser, store: Store
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    await add_staff(store, "antioquia", departments=("05",))
    mine = {await report_in(store, TUMACO), await report_in(store, PASTO)}
    await report_in(store, CACERES)
    await report_in(store, MEDELLIN)

    landing = await signed_in(browser, narino)
    assert landing.headers["location"] == "/bandeja"
    queue = await browser.get("/bandeja")
    assert queue.status_code == 200
    links = dict(re.findall(r'data-report="([^"]+)" data-municipality="(\d{5})"', queue.text))
    assert set(links) == mine
    assert set(links.values()) == {TUMACO, PASTO}
    assert "Cáceres" not in queue.text and "Medellín" not in queue.text
    for report_id in mine:
        page = await browser.get(f"/reportes/{report_id}")
        assert page.status_code == 200
        assert "nos amenazaron" in page.text
        for action in ("tomar", "nota", "mensaje", "compartir"):
            assert f'action="/reportes/{report_id}/{action}"' in page.text
        # Its status moves come once someone takes it (tests/web/test_case_form.py).
        assert f'action="/reportes/{report_id}/estado' not in page.text
    other = await report_in(store, CACERES)
    hidden = await browser.get(f"/reportes/{other}")
    assert hidden.status_code == 404 and "nos amenazaron" not in hidden.text


async def test_a_form_without_its_csrf_token_is_refused(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    report_id = await report_in(store, TUMACO)
    await signed_in(browser, narino)
    page = f"/reportes/{report_id}"
    missing = await browser.client.post(f"{page}/tomar", data={})
    wrong = await browser.client.post(f"{page}/tomar", data={"csrf": "x" * 32})
    assert missing.status_code == wrong.status_code == 403
    assert "El formulario venció" in missing.text
    # A token from another person's session does not work here either.
    async with client_for(app, PAGES_URL) as other_client:
        other = Browser(other_client)
        await signed_in(other, await add_staff(store, "tumaco2", municipalities=(TUMACO,)))
        foreign = csrf_of((await other.get(page)).text)
    assert (await browser.client.post(f"{page}/tomar", data={"csrf": foreign})).status_code == 403
    assert 'data-status="new"' in (await browser.get(page)).text
    # The sign-in form checks its own token (a cookie and the same value in the form).
    browser.client.cookies.clear()
    credentials = {"username": narino.username, "password": narino.password, "otp": narino.otp()}
    login = await browser.client.post("/entrar", data=credentials)
    assert login.status_code == 403
    # Refused before the code was looked at, so the same code still signs in.
    claimed = await browser.submit("/entrar", "/entrar", credentials)
    assert claimed.status_code == 303
    assert (await browser.submit(page, f"{page}/tomar", {})).status_code == 303
    assert 'data-status="in_review"' in (await browser.get(page)).text


async def test_after_30_idle_minutes_the_session_is_gone(
    browser: Browser, store: Store, clock: Clock
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    await signed_in(browser, narino)
    clock.now += timedelta(minutes=29)
    assert (await browser.get("/bandeja")).status_code == 200
    clock.now += timedelta(minutes=29)  # 58 minutes after signing in, 29 idle: still there
    assert (await browser.get("/bandeja")).status_code == 200
    clock.now += timedelta(minutes=30, seconds=1)
    gone = await browser.get("/bandeja")
    assert gone.status_code == 303
    assert gone.headers["location"] == "/entrar?siguiente=/bandeja"
    clock.now -= timedelta(minutes=5)  # the session is really gone, not just this request
    assert (await browser.get("/bandeja")).status_code == 303


async def test_even_a_busy_session_ends_after_its_absolute_lifetime(
    browser: Browser, store: Store, clock: Clock
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    await signed_in(browser, narino)
    for _ in range(int(8 * 60 / 20) - 1):  # SOMOS_SESSION_HOURS defaults to 8
        clock.now += timedelta(minutes=20)
        assert (await browser.get("/bandeja")).status_code == 200
    clock.now += timedelta(minutes=20, seconds=1)
    assert (await browser.get("/bandeja")).status_code == 303


async def test_pages_send_no_store_and_a_strict_policy(browser: Browser, store: Store) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    report_id = await report_in(store, TUMACO)
    await signed_in(browser, narino)
    for path in ("/entrar", "/bandeja", f"/reportes/{report_id}", "/panel", "/cuenta"):
        page = await browser.get(path)
        assert page.status_code == 200, path
        assert page.headers["cache-control"] == "no-store", path
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, path
        assert page.headers["x-frame-options"] == "DENY"
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None, f"inline script: {path}"
        assert " style=" not in page.text, f"inline style: {path}"
        assert '<html lang="es">' in page.text


async def test_an_account_without_totp_enrolls_with_a_qr_code_at_first_sign_in(
    browser: Browser, store: Store
) -> None:
    await add_staff(store, "nueva", municipalities=(TUMACO,), with_totp=False)
    api_login = await browser.client.post("/api/v1/auth/token", data={
        "username": "nueva", "password": PASSWORD})
    assert api_login.status_code == 401

    first = await browser.sign_in("nueva", PASSWORD)
    assert first.status_code == 303 and first.headers["location"] == "/verificacion"
    assert (await browser.get("/bandeja")).headers["location"] == "/verificacion"
    token = browser.client.cookies["somos_sesion"]
    as_bearer = await browser.client.get("/api/v1/reports",
                                         headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401

    page = await browser.get("/verificacion")
    assert page.status_code == 200 and "<svg" in page.text
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert secret
    wrong = await browser.submit("/verificacion", "/verificacion", {
        "otp": other_code(secret.group(1)),
        "sealed": re.search(r'name="sealed" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
    })
    assert wrong.status_code == 422 and "El código no coincide" in wrong.text
    page = await browser.get("/verificacion")
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    sealed = re.search(r'name="sealed" value="([^"]+)"', page.text)
    assert secret and sealed
    enrolled = await browser.client.post("/verificacion", data={
        "csrf": csrf_of(page.text), "sealed": sealed.group(1),
        "otp": (enrollment_code := fresh_code(secret.group(1)))})
    assert enrolled.status_code == 303 and enrolled.headers["location"] == "/bandeja"
    assert (await browser.get("/bandeja")).status_code == 200
    replayed = await browser.client.post("/api/v1/auth/token", data={
        "username": "nueva", "password": PASSWORD, "otp": enrollment_code})
    assert replayed.status_code == 401  # the code that proved the app is spent
    api_login = await browser.client.post("/api/v1/auth/token", data={
        "username": "nueva", "password": PASSWORD, "otp": fresh_code(secret.group(1))})
    assert api_login.status_code == 200


async def test_signing_out_ends_the_session(browser: Browser, store: Store) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    await signed_in(browser, narino)
    token = browser.client.cookies["somos_sesion"]
    out = await browser.submit("/bandeja", "/salir", {})
    assert out.status_code == 303 and out.headers["location"] == "/entrar?aviso=salio"
    assert "Su sesión se cerró." in (await browser.get("/entrar?aviso=salio")).text
    browser.client.cookies.set("somos_sesion", token)
    assert (await browser.get("/bandeja")).status_code == 303


async def test_pages_are_for_their_roles_and_sign_in_stays_on_this_site(
    browser: Browser, store: Store
) -> None:
    assert (await browser.get("/panel")).headers["location"] == "/entrar?siguiente=/panel"
    analyst = await add_staff(store, "analista", role="analyst")
    response = await browser.submit("/entrar", "/entrar", {
        "username": analyst.username, "password": analyst.password, "otp": analyst.otp(),
        "next": "//evil.example/robar"})
    assert response.headers["location"] == "/panel"
    forbidden = await browser.get("/bandeja")
    assert forbidden.status_code == 403 and "no es para su rol" in forbidden.text
    bad = await browser.sign_in("analista", "otra contraseña cualquiera", analyst.otp())
    assert bad.status_code == 401
    assert "Usuario, contraseña o código de verificación incorrectos." in bad.text


def published(api: dict[str, object]) -> dict[tuple[str, str], str]:
    cells = api["cells"]
    assert isinstance(cells, list)
    return {(c["row"], c["column"]): "suppressed" if c["suppressed"] else str(c["count"])
            for c in cells}


def shown(html: str, table: str) -> dict[tuple[str, str], str]:
    """The cells of the page's table, or of all its sections (`category-threat`, …)."""
    cells = {}
    for found in re.finditer(f'data-table="{table}(-[a-z]+)?"', html):
        body = html[found.start():html.index("</table>", found.start())]
        cells.update({(row, column): count for row, column, count in re.findall(
            r'data-row="([^"]+)" data-column="([^"]+)" data-count="([^"]+)"', body)})
    assert cells or "No hay reportes publicados" in html, table
    return cells


async def test_dashboard_numbers_equal_the_api_aggregates(
    browser: Browser, store: Store
) -> None:
    await add_staff(store, "fallback", role="admin")
    await seed(store=store, count=240, departments=("52", "05"), seed_value=7)
    analyst = await add_staff(store, "analista", role="analyst")
    token = (await browser.client.post("/api/v1/auth/token", data={
        "username": analyst.username, "password": analyst.password, "otp": analyst.otp(),
    })).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    await signed_in(browser, analyst)
    page = (await browser.get("/panel?desde=2025-01&tipo=threat")).text
    suppressed = 0
    for table, group_by in [("month-kind", ["month", "kind"]), ("department", ["department"]),
                            ("category", ["category"]), ("municipality", ["municipality"])]:
        api = (await browser.client.get("/api/v1/aggregates", headers=headers, params={
            "group_by": group_by, "from": "2025-01", "kind": "threat"})).json()
        assert shown(page, table) == published(api), table
        suppressed += list(published(api).values()).count("suppressed")
    assert suppressed, "the data should exercise suppression"
    # Community priorities do not depend on the kind: shown with every kind or with
    # priorities, not beside threats alone.
    assert "Prioridades de seguridad de la comunidad" not in page
    page = (await browser.get("/panel?desde=2025-01&tipo=priority")).text
    priorities = (await browser.client.get("/api/v1/aggregates/priorities", headers=headers,
                                           params={"from": "2025-01"})).json()["items"]
    assert priorities
    for item in priorities:
        marker = f'data-municipality="{item["municipality_code"]}"'
        assert (marker in page) == (not item["suppressed"])


async def test_pages_speak_english_when_the_person_chooses_it(
    browser: Browser, store: Store
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    report_id = await report_in(store, TUMACO)
    chosen = await browser.get("/idioma/en?volver=/entrar")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/entrar"
    login = await browser.get("/entrar")
    assert '<html lang="en">' in login.text and "Sign in" in login.text
    wrong = await browser.sign_in(narino.username, "not the password", narino.otp())
    assert "Wrong username, password or verification code." in wrong.text
    await signed_in(browser, narino)
    queue = (await browser.get("/bandeja")).text
    assert "Most urgent first." in queue and "Death threat" in queue
    assert "Bandeja" not in queue.split("<main>")[1]
    # A refusal from the rules behind the page reads in English too.
    page = f"/reportes/{report_id}"
    await browser.submit(page, f"{page}/tomar", {})
    refused = await browser.submit(page, f"{page}/estado", {"status": "closed"})
    assert refused.status_code == 422
    assert "Choose the reason for closing." in refused.text
    back = await browser.get("/idioma/es?volver=//evil.example")
    assert back.headers["location"] == "/"


async def test_evidence_is_previewed_played_and_downloaded_without_running(
    browser: Browser, store: Store
) -> None:
    from storage.attachments import File

    narino = await add_staff(store, "narino", departments=("52",))
    photo = b"\xff\xd8\xff\xe0" + b"foto" * 64
    voice = b"OggS" + b"voz" * 64
    report_id = await submit(
        store, threat(TUMACO, category="threat.death_threat", urgency="high",
                      description_voice=True, target="target.leader"),
        [File({"kind": "photo", "mime": "image/jpeg", "size": len(photo)}, photo),
         File({"kind": "voice", "mime": "audio/ogg", "size": len(voice)}, voice)],
    )
    await signed_in(browser, narino)
    page = (await browser.get(f"/reportes/{report_id}")).text
    image = re.search(r'<img src="([^"]+)"', page)
    audio = re.search(r'<audio controls preload="none" src="([^"]+)"', page)
    assert image and audio, page
    shown = await browser.get(image.group(1))
    assert shown.content == photo and shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["content-disposition"] == "inline"
    assert shown.headers["cache-control"] == "no-store"
    assert "sandbox" in shown.headers["content-security-policy"]
    played = await browser.get(audio.group(1))
    assert played.content == voice and played.headers["content-type"] == "audio/ogg"
    saved = await browser.get(image.group(1) + "?descargar=1")
    assert saved.headers["content-disposition"] == "attachment"
    assert "Descripción: (nota de voz)" in page


async def test_account_page_links_telegram_and_changes_the_password(
    browser: Browser, store: Store
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    await signed_in(browser, narino)
    linked = await browser.submit("/cuenta", "/cuenta/telegram", {})
    assert linked.status_code == 200
    code = re.search(r"/vincular ([A-Z2-9]{10})", linked.text)
    assert code, linked.text
    wrong = await browser.submit("/cuenta", "/cuenta/contrasena", {
        "current_password": "no es la contraseña", "new_password": "una nueva clave larga"})
    assert wrong.status_code == 403 and "La contraseña actual no es correcta." in wrong.text
    changed = await browser.submit("/cuenta", "/cuenta/contrasena", {
        "current_password": narino.password, "new_password": "una nueva clave larga"})
    assert changed.status_code == 303 and changed.headers["location"] == "/entrar?aviso=clave"
    assert (await browser.get("/bandeja")).status_code == 303  # every session ended
    again = await browser.sign_in(narino.username, "una nueva clave larga", narino.otp())
    assert again.status_code == 303


async def test_the_queue_pages_through_long_lists_and_keeps_its_filters(
    browser: Browser, store: Store
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    ids = {await report_in(store, TUMACO if n % 2 else PASTO) for n in range(30)}
    await signed_in(browser, narino)
    first = (await browser.get("/bandeja")).text
    seen = re.findall(r'data-report="([^"]+)"', first)
    assert len(seen) == 25
    following = re.search(r'href="(/bandeja\?cursor=[^"]+)" rel="next"', first)
    assert following
    second = (await browser.get(following.group(1).replace("&amp;", "&"))).text
    rest = re.findall(r'data-report="([^"]+)"', second)
    assert set(seen) | set(rest) == ids and len(rest) == 5
    assert 'rel="next"' not in second
    filtered = (await browser.get(f"/bandeja?municipio={TUMACO}&urgencia=high")).text
    assert set(re.findall(r'data-municipality="(\d{5})"', filtered)) == {TUMACO}
    assert f'<option value="{TUMACO}" selected>' in filtered
    bad = (await browser.get("/bandeja?urgencia=muy-alta")).text
    assert "Un filtro no era válido y no se aplicó." in bad


async def test_review_fixes_escaping_secure_cookies_and_api_headers(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    narino = await add_staff(store, "narino", departments=("52",))
    report_id = await report_in(store, TUMACO)
    landing = await signed_in(browser, narino)
    cookie = landing.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert landing.headers["strict-transport-security"].startswith("max-age=")
    page = f"/reportes/{report_id}"
    # Text someone typed comes back escaped, and a % in it is not a format.
    echoed = await browser.submit(page, f"{page}/compartir", {"username": "<img src=x>%d"})
    assert echoed.status_code == 422
    assert "<img src=x>" not in echoed.text and "&lt;img src=x&gt;" in echoed.text
    # A forged status form is a message on the page, not a 500 with the reference in a log.
    await browser.submit(page, f"{page}/tomar", {})
    forged = await browser.submit(page, f"{page}/estado", {
        "status": "referred", "entity": "unp", "reference": "R" * 500})
    assert forged.status_code == 422 and "hasta 120 caracteres" in forged.text
    unknown = await browser.submit(page, f"{page}/estado", {"status": "archivado"})
    assert unknown.status_code == 422 and "Revise el estado" in unknown.text
    api = await browser.client.get("/api/v1/reports", headers={"Authorization": "Bearer x"})
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["x-content-type-options"] == "nosniff"
    # Guessing the current password from a live session is limited like signing in.
    for _ in range(10):
        await browser.submit("/cuenta", "/cuenta/contrasena", {
            "current_password": "adivinanza", "new_password": "una nueva clave larga"})
    limited = await browser.submit("/cuenta", "/cuenta/contrasena", {
        "current_password": narino.password, "new_password": "una nueva clave larga"})
    assert limited.status_code == 429 and "Demasiados intentos" in limited.text
    async with client_for(app, "http://127.0.0.1:8000") as local:
        login = await Browser(local).sign_in(narino.username, narino.password, narino.otp())
        assert "Secure" not in login.headers["set-cookie"]  # `make run` on this machine


async def test_the_enrollment_page_offers_only_enrolling_or_signing_out(
    browser: Browser, store: Store
) -> None:
    await add_staff(store, "nueva", municipalities=(TUMACO,), with_totp=False)
    await browser.sign_in("nueva", PASSWORD)
    page = (await browser.get("/verificacion")).text
    assert 'href="/bandeja"' not in page and 'href="/cuenta"' not in page
    assert 'action="/salir"' in page


async def test_a_null_character_is_refused_not_a_server_error(
    browser: Browser, store: Store
) -> None:
    """No database text holds U+0000; PostgreSQL used to fail mid-query with a 500."""
    narino = await add_staff(store, "narino", departments=("52",))
    # Dropped from what was typed: the name is looked up without it.
    landed = await browser.sign_in("nar\x00ino", narino.password, narino.otp())
    assert landed.status_code == 303
    for path in ("/reportes/%00", "/bandeja?municipio=%00", "/admin/usuarios/%00"):
        response = await browser.get(path)
        assert response.status_code == 400, (path, response.status_code)
    report_id = await report_in(store, TUMACO)
    page = f"/reportes/{report_id}"
    await browser.submit(page, f"{page}/tomar", {})
    shared = await browser.submit(page, f"{page}/compartir", {"username": "otra\x00"})
    assert shared.status_code == 422
