"""Early warnings over the API: the area's focal point sees the exact figures and
acknowledges; an analyst sees an alert only when its figures pass suppression, and then
perturbed ones; nobody else sees or acknowledges it, whatever id they try."""

from __future__ import annotations

import httpx

from storage.store import Store
from tests.support.alerts import stored_alert
from tests.support.api import Headers, SignIn
from tests.support.places import CACERES, TUMACO


async def test_the_focal_point_sees_the_sentence_and_exact_figures(
    client: httpx.AsyncClient, store: Store, tumaco: Headers,
) -> None:
    alert_id = await stored_alert(store, observed=20, baseline=30, perturbed=(21, 28))
    [alert] = (await client.get("/api/v1/alerts", headers=tumaco)).json()
    assert alert["id"] == alert_id
    assert alert["sentence"] == ("Aumento inusual de amenazas en San Andrés de Tumaco (Nariño) "
                                 "en los últimos 14 días")
    assert (alert["observed"], alert["expected"], alert["exact"]) == (20, 5.0, True)


async def test_an_analyst_sees_perturbed_figures_and_nothing_of_the_team(
    client: httpx.AsyncClient, store: Store, tumaco: Headers, analyst: Headers,
) -> None:
    alert_id = await stored_alert(store, observed=20, baseline=30, perturbed=(21, 28))
    done = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=tumaco,
                             json={"note": "Reunión con la Personería"})
    assert done.status_code == 200 and done.json()["note"] == "Reunión con la Personería"
    [alert] = (await client.get("/api/v1/alerts", headers=analyst)).json()
    assert (alert["observed"], alert["expected"], alert["exact"]) == (21, 4.7, False)
    assert (alert["note"], alert["acknowledged_by"]) == (None, None)


async def test_an_alert_below_k_is_invisible_to_an_analyst_visible_to_its_area(
    client: httpx.AsyncClient, store: Store, tumaco: Headers, analyst: Headers,
) -> None:
    small = await stored_alert(store, observed=4, baseline=0, perturbed=(5, 0))
    small_past = await stored_alert(store, observed=12, baseline=3, perturbed=(12, 5))
    assert {a["id"] for a in (await client.get("/api/v1/alerts", headers=tumaco)).json()} == {
        small, small_past}
    assert (await client.get("/api/v1/alerts", headers=analyst)).json() == []
    for alert_id in (small, small_past):
        refused = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=analyst,
                                    json={"note": "x"})
        assert refused.status_code == 403


async def test_another_area_neither_sees_nor_acknowledges(
    client: httpx.AsyncClient, store: Store, sign_in: SignIn, tumaco: Headers, admin: Headers,
) -> None:
    caceres = await sign_in("caceres", municipalities=(CACERES,))
    alert_id = await stored_alert(store, TUMACO)
    assert (await client.get("/api/v1/alerts", headers=caceres)).json() == []
    refused = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=caceres,
                                json={"note": "x"})
    missing = await client.post(
        "/api/v1/alerts/00000000-0000-4000-8000-000000000000/acknowledge", headers=caceres,
        json={"note": "x"})
    # The same answer as for an alert that does not exist: nothing tells it is there.
    assert (refused.status_code, refused.json()["detail"]) == (
        missing.status_code, missing.json()["detail"]) == (404, "No existe esa alerta.")
    assert [a["id"] for a in (await client.get("/api/v1/alerts", headers=admin)).json()] == [
        alert_id]
    first = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=tumaco,
                              json={"note": ""})
    again = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=admin,
                              json={"note": "también"})
    assert (first.status_code, first.json()["note"], again.status_code) == (200, None, 409)


async def test_the_sentence_names_a_category_or_stigmatization(
    client: httpx.AsyncClient, store: Store, tumaco: Headers,
) -> None:
    await stored_alert(store, category="threat.death_threat")
    await stored_alert(store, kind="stigma")
    sentences = {a["sentence"] for a in (await client.get("/api/v1/alerts", headers=tumaco)).json()}
    assert sentences == {
        "Aumento inusual de «Amenaza de muerte» en San Andrés de Tumaco (Nariño) en los "
        "últimos 14 días",
        "Aumento inusual de reportes de estigmatización en San Andrés de Tumaco (Nariño) en "
        "los últimos 14 días",
    }


async def test_a_department_focal_point_sees_its_municipalities_alerts(
    client: httpx.AsyncClient, store: Store, sign_in: SignIn,
) -> None:
    narino = await sign_in("narino", departments=(TUMACO[:2],))
    antioquia = await sign_in("antioquia", departments=(CACERES[:2],))
    alert_id = await stored_alert(store, TUMACO)
    assert [a["id"] for a in (await client.get("/api/v1/alerts", headers=narino)).json()] == [
        alert_id]
    assert (await client.get("/api/v1/alerts", headers=antioquia)).json() == []
    done = await client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=narino,
                             json={"note": "visto"})
    assert (done.status_code, done.json()["acknowledged_by"]) == (200, "narino")
