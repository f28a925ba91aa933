"""Login with TOTP, the queue and the decrypted detail over HTTP, on both databases."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from storage.store import Store
from tests.support.api import ReportFactory, login
from tests.support.places import CACERES, TUMACO
from tests.support.staff import add_staff
from tests.support.totp import other_code


async def test_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"password": "no es la contraseña"}, {"otp": "wrong"}, {"otp": ""}, {"username": "nadie"}],
)
async def test_bad_credentials_are_refused_alike(
    client: httpx.AsyncClient, store: Store, change: dict[str, str]
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    form = {"username": staff.username, "password": staff.password, "otp": staff.otp(), **change}
    if form["otp"] == "wrong":
        form["otp"] = other_code(staff.totp_secret)
    response = await client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/bad-credentials")


async def test_focal_point_sees_queue_and_decrypted_detail(
    client: httpx.AsyncClient, store: Store, report: ReportFactory
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await report("Hombres armados preguntaron por la presidenta de la JAC")
    headers = await login(client, staff)

    page = (await client.get("/api/v1/reports", headers=headers)).json()
    assert [item["id"] for item in page["items"]] == [report_id]
    item = page["items"][0]
    assert item["municipality"] == "San Andrés de Tumaco (Nariño)"
    assert "description" not in item and "answers" not in item

    detail = (await client.get(f"/api/v1/reports/{report_id}", headers=headers)).json()
    assert detail["answers"]["description"] == (
        "Hombres armados preguntaron por la presidenta de la JAC"
    )
    assert detail["category_label"] == "Seguimiento o vigilancia"
    assert detail["answer_labels"]["when"] == "Hoy"


async def test_other_area_gets_404_and_analyst_403(
    client: httpx.AsyncClient, store: Store, report: ReportFactory
) -> None:
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    caceres = await add_staff(store, "caceres", municipalities=(CACERES,))
    analyst = await add_staff(store, "analista", role="analyst")
    report_id = await report("algo")

    caceres_headers = await login(client, caceres)
    assert (await client.get("/api/v1/reports", headers=caceres_headers)).json()["items"] == []
    hidden = await client.get(f"/api/v1/reports/{report_id}", headers=caceres_headers)
    missing = await client.get(
        "/api/v1/reports/00000000-0000-4000-8000-000000000000", headers=caceres_headers
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()

    analyst_headers = await login(client, analyst)
    for path in ("/api/v1/reports", f"/api/v1/reports/{report_id}"):
        assert (await client.get(path, headers=analyst_headers)).status_code == 403


async def test_no_or_bad_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/reports")).status_code == 401
    bad = {"Authorization": "Bearer inventado"}
    assert (await client.get("/api/v1/reports", headers=bad)).status_code == 401


async def test_queue_pages_with_a_cursor(
    client: httpx.AsyncClient, store: Store, report: ReportFactory
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    ids = {await report(f"reporte {n}", urgency) for n, urgency in
           enumerate(["normal", "high", "immediate", "normal", "high"])}
    headers = await login(client, staff)
    seen: list[str] = []
    urgencies: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/reports", headers=headers, params=params)).json()
        seen += [item["id"] for item in page["items"]]
        urgencies += [item["urgency"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == ids and len(seen) == len(ids)
    assert urgencies == sorted(urgencies, key=["immediate", "high", "normal"].index)
    bad = await client.get("/api/v1/reports", headers=headers, params={"cursor": "%%%"})
    assert bad.status_code == 400


async def test_the_frameworks_own_refusals_are_problems_in_spanish(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/api/v1/no-existe")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["detail"] == "No encontrado."
    wrong_method = await client.delete("/api/v1/reports")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["detail"] == "Método no permitido."


async def test_a_verification_code_signs_in_only_once(
    client: httpx.AsyncClient, store: Store
) -> None:
    """A code seen over someone's shoulder, or replayed from a captured request, is spent."""
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    form = {"username": staff.username, "password": staff.password, "otp": staff.otp()}
    assert (await client.post("/api/v1/auth/token", data=form)).status_code == 200
    again = await client.post("/api/v1/auth/token", data=form)
    assert again.status_code == 401 and again.json()["type"].endswith("/bad-credentials")
    newer = {**form, "otp": staff.otp()}  # the app's next code
    assert (await client.post("/api/v1/auth/token", data=newer)).status_code == 200
    # The first code is still inside the clock-drift window, but older than one used.
    assert (await client.post("/api/v1/auth/token", data=form)).status_code == 401


async def test_two_sign_ins_racing_with_one_code_only_one_wins(
    client: httpx.AsyncClient, store: Store
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    form = {"username": staff.username, "password": staff.password, "otp": staff.otp()}
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/token", data=form) for _ in range(2))
    )
    assert sorted(r.status_code for r in responses) == [200, 401], [r.text for r in responses]


