"""The admin pages, used through their forms like a person would, on both databases."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from storage import crypto
from storage.audit import append_audit
from storage.lines import lines_for
from storage.models import AuditEntry
from storage.routing import list_rules
from storage.store import Store
from storage.users import get_user_by_username
from tests.support.api import PAGES_URL, client_for
from tests.support.places import TUMACO
from tests.support.staff import Staff, add_staff
from tests.support.web_client import Browser

PASSWORD_SHOWN = re.compile(r'id="password">([^<]+)<')


def browser_client(app: FastAPI) -> httpx.AsyncClient:
    """One person's browser: its own cookies."""
    return client_for(app, PAGES_URL)


@pytest.fixture
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_client(app) as client:
        yield client


async def signed_in(client: httpx.AsyncClient, staff: Staff) -> Browser:
    browser = Browser(client)
    response = await browser.sign_in(staff.username, staff.password, staff.otp())
    assert response.status_code == 303, response.text
    return browser


@pytest.fixture
async def admin(app_client: httpx.AsyncClient, store: Store) -> Browser:
    return await signed_in(app_client, await add_staff(store, "admin", role="admin"))


async def test_admin_creates_a_focal_point_who_signs_in_and_enrolls(
    admin: Browser, app: FastAPI, store: Store
) -> None:
    created = await admin.submit("/admin/usuarios", "/admin/usuarios", {
        "username": "tumaco.focal", "role": "focal_point", "municipalities": TUMACO,
        "departments": "",
    })
    assert created.status_code == 200, created.text
    assert "una sola vez" in created.text and "código QR" in created.text
    found = PASSWORD_SHOWN.search(created.text)
    assert found, created.text
    password = found.group(1)

    listing = await admin.get("/admin/usuarios")
    row = listing.text.split('data-user="tumaco.focal"')[1].split("</tr>")[0]
    assert "Punto focal" in row and "Tumaco" in row and "No, la activará al entrar" in row

    async with browser_client(app) as client:
        person = Browser(client)
        signed = await person.sign_in("tumaco.focal", password)
        assert signed.status_code == 303
        assert signed.headers["location"] == "/verificacion"
        enroll = await person.get("/verificacion")
        assert enroll.status_code == 200 and "<svg" in enroll.text

    async with store.transaction() as session:
        actions = [e.action for e in (await session.exec(select(AuditEntry))).all()]
    assert "user.created" in actions


async def test_creating_a_user_with_wrong_codes_says_what_to_fix(admin: Browser) -> None:
    refused = await admin.submit("/admin/usuarios", "/admin/usuarios", {
        "username": "alguien", "role": "focal_point", "municipalities": "99999, 528356",
        "departments": "7x",
    })
    assert refused.status_code == 422
    assert "No existe el municipio <strong>99999</strong> en la lista DIVIPOLA" in refused.text
    assert "5 dígitos" in refused.text and "<strong>528356</strong>" in refused.text
    assert "<strong>7x</strong>" in refused.text
    # What was typed stays in the form.
    assert 'value="alguien"' in refused.text
    assert 'data-user="alguien"' not in (await admin.get("/admin/usuarios")).text


async def test_admin_restores_a_password_with_the_recovery_key(
    admin: Browser, app: FastAPI, store: Store,
    recovery_keys: tuple[bytes, bytes],
) -> None:
    focal = await add_staff(store, "olvido", municipalities=(TUMACO,))
    page = f"/admin/usuarios/{focal.id}"
    action = f"{page}/restablecer"
    garbled = await admin.submit(page, action, {"recovery_key": "¿esto es una llave?"})
    assert garbled.status_code == 422 and "no se pudo leer" in garbled.text
    other = base64.b64encode(crypto.generate_keypair()[0]).decode()
    wrong = await admin.submit(page, action, {"recovery_key": other})
    assert wrong.status_code == 422 and "no corresponde a esta instalación" in wrong.text

    key = base64.b64encode(recovery_keys[0]).decode()
    wrapped = "\n".join(key[i:i + 40] for i in range(0, len(key), 40))
    restored = await admin.submit(page, action, {"recovery_key": wrapped})
    assert restored.status_code == 200, restored.text
    found = PASSWORD_SHOWN.search(restored.text)
    assert found
    async with browser_client(app) as client:
        person = Browser(client)
        signed = await person.sign_in("olvido", found.group(1), focal.otp())
        assert signed.status_code == 303 and signed.headers["location"] == "/bandeja"


async def test_admin_disables_someone_else_but_not_themselves(
    admin: Browser, app: FastAPI, store: Store
) -> None:
    focal = await add_staff(store, "saliente", municipalities=(TUMACO,))
    done = await admin.submit(f"/admin/usuarios/{focal.id}",
                              f"/admin/usuarios/{focal.id}/desactivar", {})
    assert done.status_code == 303
    listing = await admin.get(done.headers["location"])
    assert "La cuenta quedó desactivada" in listing.text
    row = listing.text.split('data-user="saliente"')[1].split("</tr>")[0]
    assert "Desactivada" in row
    async with browser_client(app) as client:
        person = Browser(client)
        assert (await person.sign_in("saliente", focal.password, focal.otp())).status_code != 303

    async with store.transaction() as session:
        me = await get_user_by_username(session=session, username="admin")
    assert me is not None
    refused = await admin.submit("/admin/usuarios", f"/admin/usuarios/{me.id}/desactivar", {})
    assert refused.status_code == 422 and "No puede desactivar su propia cuenta" in refused.text
    async with store.transaction() as session:
        me = await get_user_by_username(session=session, username="admin")
    assert me is not None and not me.disabled


async def test_admin_adds_and_removes_a_routing_rule(admin: Browser, store: Store) -> None:
    await add_staff(store, "narino", departments=("52",))
    added = await admin.submit("/admin/rutas", "/admin/rutas", {
        "username": "narino", "place": TUMACO, "kind": "threat", "category": "",
        "urgency": "immediate",
    })
    assert added.status_code == 303
    async with store.transaction() as session:
        rules = await list_rules(session=session)
    assert [(r.municipality_code, r.kind, r.category, r.urgency) for r in rules] == [
        (TUMACO, "threat", None, "immediate")]
    page = await admin.get(added.headers["location"])
    assert "La regla quedó guardada" in page.text
    row = page.text.split(f'data-rule="{rules[0].id}"')[1].split("</tr>")[0]
    assert "Tumaco" in row and "narino" in row and "Cualquiera" in row

    removed = await admin.submit("/admin/rutas", f"/admin/rutas/{rules[0].id}/borrar", {})
    assert removed.status_code == 303
    async with store.transaction() as session:
        assert await list_rules(session=session) == []
    page = await admin.get(removed.headers["location"])
    assert "La regla quedó borrada" in page.text and "No hay reglas" in page.text


async def test_a_wrong_rule_is_explained_and_not_saved(admin: Browser, store: Store) -> None:
    await add_staff(store, "narino", departments=("52",))
    refused = await admin.submit("/admin/rutas", "/admin/rutas", {
        "username": "narino", "place": "99999", "kind": "stigma",
        "category": "threat.extortion", "urgency": "",
    })
    assert refused.status_code == 422
    assert "No existe el municipio DIVIPOLA" in refused.text
    assert "Esa categoría es de otro tipo de reporte" in refused.text
    async with store.transaction() as session:
        assert await list_rules(session=session) == []


async def test_admin_adds_an_emergency_line_and_sees_it(admin: Browser, store: Store) -> None:
    page = f"/admin/lineas?municipio={TUMACO}"
    assert "no tiene líneas propias" in (await admin.get(page)).text
    added = await admin.submit(page, "/admin/lineas", {
        "municipio": TUMACO, "name": "Personería de Tumaco", "number": "602 727 1234"})
    assert added.status_code == 303
    shown = await admin.get(added.headers["location"])
    assert "Personería de Tumaco" in shown.text and "602 727 1234" in shown.text
    assert "La línea quedó guardada" in shown.text
    async with store.transaction() as session:
        assert [line.name for line in await lines_for(session=session,
                                                      municipality_code=TUMACO)] == [
            "Personería de Tumaco"]

    wrong = await admin.get("/admin/lineas?municipio=123")
    assert wrong.status_code == 422 and "5 dígitos" in wrong.text


async def test_audit_page_shows_entries_and_a_whole_chain(admin: Browser, store: Store) -> None:
    async with store.transaction() as session:
        for _ in range(55):
            await append_audit(session=session, actor="operator", action="test.step")
    page = await admin.get("/admin/auditoria?verificar=1")
    assert page.status_code == 200
    assert "La cadena está íntegra (56 entradas)" in page.text  # 55 and the admin's sign-in
    assert "auth.login" not in page.text  # the oldest entry is on the next page
    assert page.text.count("test.step") == 50
    found = re.search(r'href="(/admin/auditoria\?antes=\d+)" rel="next">Siguiente página',
                      page.text)
    assert found, page.text
    second = await admin.get(found.group(1))
    assert "auth.login" in second.text and second.text.count("test.step") == 5
    assert "admin" in second.text.split("auth.login")[0].rsplit("<tr>", 1)[1]
    assert "Siguiente página" not in second.text
    # A page number past any entry (a hand-edited link) shows the first page, not an error.
    beyond = await admin.get("/admin/auditoria?antes=99999999999")
    assert beyond.status_code == 200 and beyond.text.count("test.step") == 50


async def test_a_broken_chain_is_named(admin: Browser, store: Store) -> None:
    async with store.transaction() as session:
        entry = await append_audit(session=session, actor="operator", action="test.step")
        entry.action = "test.changed"
        session.add(entry)
    page = await admin.get("/admin/auditoria?verificar=1")
    assert f"La cadena está rota en la entrada {entry.seq}" in page.text


async def test_a_focal_point_cannot_open_the_admin_pages(
    app_client: httpx.AsyncClient, store: Store
) -> None:
    focal = await signed_in(app_client, await add_staff(store, "tumaco",
                                                        municipalities=(TUMACO,)))
    for path in ("/admin/usuarios", "/admin/rutas", "/admin/lineas", "/admin/auditoria"):
        refused = await focal.get(path)
        assert refused.status_code == 403 and "no es para su rol" in refused.text


async def test_a_form_without_its_csrf_token_is_refused(
    admin: Browser, store: Store
) -> None:
    refused = await admin.client.post("/admin/lineas", data={
        "municipio": TUMACO, "name": "Falsa", "number": "123"})
    assert refused.status_code == 403 and "Vuelva a cargar la página" in refused.text
    forged = await admin.client.post("/admin/usuarios", data={
        "csrf": "otro", "username": "intruso", "role": "admin"})
    assert forged.status_code == 403
    async with store.transaction() as session:
        assert await lines_for(session=session, municipality_code=TUMACO) == []
        assert await get_user_by_username(session=session, username="intruso") is None
