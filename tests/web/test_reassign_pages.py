"""«Reasignar» on the case page, on SQLite and PostgreSQL: whoever attends a case (or an admin)
picks a colleague from a list of the people who may work it; the colleague reads the case
and the history says who passed it to whom; the former assignee and other colleagues get no
form, and a forged one is refused in words."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from storage.store import Store
from storage.users import disable_user, get_user_by_username
from tests.support.api import PAGES_URL, client_for
from tests.support.places import CACERES, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import Staff, add_staff
from tests.support.web_client import Browser


def options(html: str) -> list[str]:
    """The usernames offered in the «Reasignar» form (none if there is no form)."""
    if 'id="reasignar"' not in html:
        return []
    form = html[html.index('id="reasignar"'):]
    form = form[:form.index("</form>")]
    return re.findall(r'<option value="([^"]+)"', form)


def history(html: str) -> list[str]:
    part = html[html.index('class="history"'):]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li[^>]*>(.*?)</li>", part, re.S)]


@asynccontextmanager
async def signed_in(app: FastAPI, staff: Staff) -> AsyncIterator[Browser]:
    """Another person's browser (their own cookies), signed in."""
    async with client_for(app, PAGES_URL) as client:
        browser = Browser(client)
        assert (await browser.sign_in(staff.username, staff.password, staff.otp())
                ).status_code == 303
        yield browser


async def test_a_case_passes_to_a_colleague_who_reads_it_and_sees_who_passed_it(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    ana = await add_staff(store, "ana", municipalities=(TUMACO,))
    dora = await add_staff(store, "dora", municipalities=(TUMACO,))
    await add_staff(store, "ida", municipalities=(TUMACO,))
    report_id = await submit(store, threat(TUMACO, category="threat.death_threat",
                                           description="nos amenazaron"))
    # Beto joins Tumaco after the report; the others cannot be given it.
    beto = await add_staff(store, "beto", municipalities=(TUMACO,))
    await add_staff(store, "caceres", municipalities=(CACERES,))
    await add_staff(store, "analista", role="analyst")
    await add_staff(store, "jefa", role="admin")
    async with store.transaction() as session:
        ida = await get_user_by_username(session=session, username="ida")
        assert ida is not None
        await disable_user(session=session, user=ida)
    page = f"/reportes/{report_id}"
    await browser.sign_in(ana.username, ana.password, ana.otp())
    # Nothing to pass before someone takes it.
    assert options((await browser.get(page)).text) == []
    assert (await browser.submit(page, f"{page}/tomar", {})).status_code == 303
    assert options((await browser.get(page)).text) == ["beto", "dora", "jefa"]

    empty = await browser.submit(page, f"{page}/reasignar", {"username": ""})
    assert empty.status_code == 422
    assert "Elija a quién pasa el caso." in empty.text[empty.text.index('id="reasignar"'):]
    forged = await browser.submit(page, f"{page}/reasignar", {"username": "caceres"})
    assert forged.status_code == 422
    assert "Elija de la lista." in forged.text

    passed = await browser.submit(page, f"{page}/reasignar", {"username": "beto"})
    assert passed.status_code == 303
    after = await browser.get(passed.headers["location"])
    assert "El caso pasó a otra persona del equipo." in after.text
    assert "Lo atiende: beto" in after.text
    # Ana still reads it, but no longer moves or passes it.
    assert options(after.text) == [] and 'data-move="' not in after.text
    assert history(after.text)[-1].endswith("Usted pasó el caso a beto")

    async with signed_in(app, beto) as other:
        html = (await other.get(page)).text
        assert "nos amenazaron" in html
        assert re.findall(r'data-move="([a-z_]+)"', html) == ["referred", "follow_up", "closed"]
        assert options(html) == ["ana", "dora", "jefa"]
        assert history(html)[-1].endswith("ana pasó el caso a Usted")
        assert (await other.submit(page, f"{page}/estado", {"status": "follow_up"})
                ).status_code == 303

    # Dora, a colleague who never held it: no form, and a forged one is refused in words.
    async with signed_in(app, dora) as colleague:
        html = (await colleague.get(page)).text
        assert "Lo atiende: beto" in html and options(html) == []
        refused = await colleague.submit(page, f"{page}/reasignar", {"username": "dora"})
        assert refused.status_code == 409
        assert ("Solo quien atiende el caso, o la administración, lo pasa a otra persona."
                in refused.text)


async def test_an_admin_passes_a_case_someone_else_attends(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    ana = await add_staff(store, "ana", municipalities=(TUMACO,))
    await add_staff(store, "dora", municipalities=(TUMACO,))
    jefa = await add_staff(store, "jefa", role="admin")
    report_id = await submit(store, threat(TUMACO, description="nos amenazaron"))
    page = f"/reportes/{report_id}"
    await browser.sign_in(ana.username, ana.password, ana.otp())
    await browser.submit(page, f"{page}/tomar", {})
    # The admin reads what reached her: here, shared by Ana.
    assert (await browser.submit(page, f"{page}/compartir", {"username": "jefa"})
            ).status_code == 303

    async with signed_in(app, jefa) as admin:
        assert options((await admin.get(page)).text) == ["dora", "jefa"]
        kept = await admin.submit(page, f"{page}/reasignar", {"username": "dora"})
        assert kept.status_code == 303
        html = (await admin.get(page)).text
        assert history(html)[-1].endswith("Usted pasó el caso de ana a dora")


async def test_a_colleague_takes_over_the_case_of_someone_who_left(
    browser: Browser, store: Store, app: FastAPI
) -> None:
    ana = await add_staff(store, "ana", municipalities=(TUMACO,))
    dora = await add_staff(store, "dora", municipalities=(TUMACO,))
    report_id = await submit(store, threat(TUMACO, description="nos amenazaron"))
    page = f"/reportes/{report_id}"
    await browser.sign_in(ana.username, ana.password, ana.otp())
    await browser.submit(page, f"{page}/tomar", {})
    async with signed_in(app, dora) as colleague:
        assert options((await colleague.get(page)).text) == []
        async with store.transaction() as session:
            found = await get_user_by_username(session=session, username="ana")
            assert found is not None
            await disable_user(session=session, user=found)
        assert options((await colleague.get(page)).text) == ["dora"]
        taken = await colleague.submit(page, f"{page}/reasignar", {"username": "dora"})
        assert taken.status_code == 303
        html = (await colleague.get(page)).text
        assert history(html)[-1].endswith("Usted tomó el caso que atendía ana")
        assert re.findall(r'data-move="([a-z_]+)"', html) == ["referred", "follow_up", "closed"]
