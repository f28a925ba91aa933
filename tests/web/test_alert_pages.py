"""Early warnings on the queue page: the area's focal point reads the sentence and
acknowledges the alert with a note; a focal point of another area sees nothing of it."""

from __future__ import annotations

import html

from storage.store import Store
from tests.support.alerts import stored_alert
from tests.support.places import CACERES, TUMACO
from tests.support.staff import add_staff
from tests.support.web_client import Browser, csrf_of

SENTENCE = ("Aumento inusual de amenazas en San Andrés de Tumaco (Nariño) "
            "en los últimos 14 días")


async def test_the_focal_point_reads_the_alert_and_acknowledges_it_with_a_note(
    browser: Browser, store: Store,
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    alert_id = await stored_alert(store, observed=20, baseline=30)
    assert (await browser.sign_in(staff.username, staff.password, staff.otp())).status_code \
        == 303
    queue = html.unescape((await browser.get("/bandeja")).text)
    assert SENTENCE in queue
    assert "20 reportes en la ventana; lo usual es 5." in queue
    done = await browser.submit("/bandeja", f"/alertas/{alert_id}/atender",
                                {"note": "Hablamos con la Personería"})
    assert (done.status_code, done.headers["location"]) == (303, "/bandeja?hecho=alerta")
    after = html.unescape((await browser.get("/bandeja?hecho=alerta")).text)
    assert "La alerta quedó marcada como atendida." in after
    assert "Hablamos con la Personería" in after
    assert f"/alertas/{alert_id}/atender" not in after  # no second form


async def test_another_area_sees_no_alert_and_cannot_acknowledge_it(
    browser: Browser, store: Store,
) -> None:
    staff = await add_staff(store, "caceres", municipalities=(CACERES,))
    alert_id = await stored_alert(store, TUMACO)
    await browser.sign_in(staff.username, staff.password, staff.otp())
    queue = (await browser.get("/bandeja")).text
    assert "Aumento inusual" not in queue and "Alertas tempranas" not in queue
    refused = await browser.client.post(f"/alertas/{alert_id}/atender",
                                        data={"csrf": csrf_of(queue), "note": "x"})
    assert refused.status_code == 404


async def test_acknowledging_needs_the_csrf_token(browser: Browser, store: Store) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    alert_id = await stored_alert(store)
    await browser.sign_in(staff.username, staff.password, staff.otp())
    refused = await browser.client.post(f"/alertas/{alert_id}/atender", data={"note": "x"})
    assert refused.status_code == 403
    # Still waiting to be acknowledged: its form is there.
    assert f"/alertas/{alert_id}/atender" in (await browser.get("/bandeja")).text


async def test_an_analyst_reads_on_the_dashboard_only_alerts_that_pass_suppression(
    browser: Browser, store: Store,
) -> None:
    staff = await add_staff(store, "analista", role="analyst")
    await stored_alert(store, observed=20, baseline=30, perturbed=(21, 28))
    await stored_alert(store, CACERES, observed=4, baseline=0, perturbed=(6, 0))
    await browser.sign_in(staff.username, staff.password, staff.otp())
    page = html.unescape((await browser.get("/panel")).text)
    assert SENTENCE in page
    assert "21 reportes en la ventana; lo usual es 4.7." in page
    assert "Cáceres" not in page.split("Alertas tempranas")[1].split("</section>")[0]
    assert page.count("Aumento inusual") == 1
