"""A focal point who joins Tumaco after three cases reads them once a colleague grants them
on «Equipo»; the admin page of the account shows what is pending. Both databases."""

from __future__ import annotations

import json
import re

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from storage.models import AuditEntry
from storage.store import Store
from tests.support.api import PAGES_URL, client_for
from tests.support.places import CACERES, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import Staff, add_staff
from tests.support.web_client import Browser

DESCRIPTIONS = ("panfleto en la vereda", "llamada con amenazas", "nos siguieron en moto")


async def signed_in(client: httpx.AsyncClient, staff: Staff) -> Browser:
    browser = Browser(client)
    response = await browser.sign_in(staff.username, staff.password, staff.otp())
    assert response.status_code == 303, response.text
    return browser


async def readable(browser: Browser, reports: list[str]) -> list[str]:
    """The descriptions this person's case pages show (the others are «not in your queue»)."""
    shown = []
    for report_id in reports:
        page = await browser.get(f"/reportes/{report_id}")
        assert page.status_code in (200, 404), page.text
        shown += [text for text in DESCRIPTIONS if page.status_code == 200 and text in page.text]
    return shown


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_new_focal_point_reads_the_three_cases_once_a_colleague_grants_them_on_the_page(
    app: FastAPI, store: Store
) -> None:
    colleague = await add_staff(store, "tumaco1", municipalities=(TUMACO,))
    admin = await add_staff(store, "admin", role="admin")
    reports = [await submit(store, threat(description=text)) for text in DESCRIPTIONS]
    await add_staff(store, "caceres", municipalities=(CACERES,))
    newcomer = await add_staff(store, "tumaco2", municipalities=(TUMACO,))

    async with client_for(app, PAGES_URL) as one, client_for(app, PAGES_URL) as other, \
            client_for(app, PAGES_URL) as third:
        person = await signed_in(one, newcomer)
        assert await readable(person, reports) == []

        # The admin sees the pending cases on the account's page, and that they cannot open them.
        manager = await signed_in(third, admin)
        account = text_of((await manager.get(f"/admin/usuarios/{newcomer.id}")).text)
        assert ("3 casos abiertos de su zona llegaron antes que esta persona y todavía no los "
                "puede leer. Usted puede abrir 0.") in account
        tried = await manager.submit(f"/admin/usuarios/{newcomer.id}",
                                     f"/admin/usuarios/{newcomer.id}/acceso", {})
        assert "Usted no puede abrir 3 casos de su zona. Pueden darle acceso: tumaco1." in (
            text_of(tried.text))
        assert await readable(person, reports) == []

        granter = await signed_in(other, colleague)
        team = await granter.get("/equipo")
        assert 'href="/equipo"' in team.text
        assert ("3 casos abiertos de su zona que usted puede abrir y esta persona todavía no "
                "puede leer.") in text_of(team.text)
        assert 'data-colleague="tumaco2"' in team.text
        assert 'data-colleague="caceres"' not in team.text
        done = await granter.submit("/equipo", "/equipo", {"username": "tumaco2"})
        assert done.status_code == 200, done.text
        assert "tumaco2 ya puede leer 3 casos abiertos de su zona." in text_of(done.text)
        assert "Nadie del equipo espera casos que usted pueda abrir." in done.text

        assert sorted(await readable(person, reports)) == sorted(DESCRIPTIONS)
        queue = await person.get("/bandeja")
        assert all(f"/reportes/{report_id}" in queue.text for report_id in reports)
        account = text_of((await manager.get(f"/admin/usuarios/{newcomer.id}")).text)
        assert "Puede leer todos los casos abiertos de su zona." in account

    async with store.transaction() as session:
        entries = (await session.exec(select(AuditEntry).where(col(AuditEntry.action).in_(
            ("report.granted", "user.cases_granted"))).order_by(col(AuditEntry.seq)))).all()
    assert [(e.actor, e.action, json.loads(e.detail)) for e in entries if e.report_id is None] == [
        (admin.id, "user.cases_granted",
         {"user": newcomer.id, "granted": 0, "not_opened": 3, "via": "web"}),
        (colleague.id, "user.cases_granted",
         {"user": newcomer.id, "granted": 3, "not_opened": 0, "via": "web"}),
    ]
    assert sorted(e.report_id or "" for e in entries if e.action == "report.granted") == sorted(
        reports)


async def test_nobody_grants_on_the_page_to_themselves(app: FastAPI, store: Store) -> None:
    await add_staff(store, "tumaco1", municipalities=(TUMACO,))
    reports = [await submit(store, threat(description=DESCRIPTIONS[0]))]
    newcomer = await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    async with client_for(app, PAGES_URL) as client:
        person = await signed_in(client, newcomer)
        assert "Nadie del equipo espera casos" in (await person.get("/equipo")).text
        refused = await person.submit("/equipo", "/equipo", {"username": "tumaco2"})
        assert refused.status_code == 422
        assert "Nadie puede darse acceso a sí mismo." in refused.text
        assert await readable(person, reports) == []
