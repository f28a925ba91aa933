"""Admins manage accounts and read the audit log over the API, on both databases."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from storage.store import Store
from tests.support.api import Headers, login
from tests.support.places import TUMACO
from tests.support.staff import add_staff


async def test_an_admin_creates_lists_and_disables_accounts(
    client: httpx.AsyncClient, store: Store, admin: Headers
) -> None:
    created = await client.post("/api/v1/users", headers=admin, json={
        "username": "personeria_tumaco", "role": "focal_point",
        "municipalities": [TUMACO, TUMACO], "departments": []})
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["password"]) >= 20
    person = body["user"]
    assert person["municipalities"] == [TUMACO] and person["role"] == "focal_point"
    assert person["second_factor"] is False and person["disabled"] is False

    listed = (await client.get("/api/v1/users", headers=admin)).json()
    assert [u["username"] for u in listed] == ["admin", "personeria_tumaco"]
    assert not any("password" in u or "totp" in str(u).lower() for u in listed)
    # The new account signs in on the web first, to enroll its second factor.
    api_login = await client.post("/api/v1/auth/token", data={
        "username": "personeria_tumaco", "password": body["password"], "otp": "123456"})
    assert api_login.status_code == 401

    again = await client.post("/api/v1/users", headers=admin, json={
        "username": "personeria_tumaco", "role": "analyst",
        "municipalities": ["99999", "5283"], "departments": ["77"]})
    assert again.status_code == 422
    detail = again.json()["detail"]
    assert "No existe el municipio 99999" in detail and "municipio 05283" in detail
    assert "No existe el departamento 77" in detail and "Ya existe un usuario" in detail

    disabled = await client.post(f"/api/v1/users/{person['id']}/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    me = listed[0]["id"]
    refused = await client.post(f"/api/v1/users/{me}/disable", headers=admin)
    assert refused.status_code == 422 and "propia cuenta" in refused.json()["detail"]


async def test_a_disabled_focal_point_loses_its_open_session(
    client: httpx.AsyncClient, store: Store, admin: Headers
) -> None:
    focal = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    theirs = await login(client, focal)
    assert (await client.get("/api/v1/reports", headers=theirs)).status_code == 200
    await client.post(f"/api/v1/users/{focal.id}/disable", headers=admin)
    assert (await client.get("/api/v1/reports", headers=theirs)).status_code == 401


async def test_the_audit_log_pages_and_its_chain_is_checked(
    client: httpx.AsyncClient, store: Store, admin: Headers
) -> None:
    for name in ("uno", "dos", "tres"):
        await client.post("/api/v1/users", headers=admin,
                          json={"username": name, "role": "analyst"})
    first = (await client.get("/api/v1/audit", headers=admin, params={"limit": 2})).json()
    assert [e["action"] for e in first["items"]] == ["user.created", "user.created"]
    assert first["items"][0]["detail"]["via"] == "api" and first["next_before"]
    rest = (await client.get("/api/v1/audit", headers=admin,
                             params={"before": first["next_before"], "limit": 200})).json()
    seqs = [e["seq"] for e in first["items"] + rest["items"]]
    assert seqs == sorted(seqs, reverse=True) and rest["next_before"] is None
    assert (await client.get("/api/v1/audit/verify", headers=admin)).json()["ok"] is True

    async with store.transaction() as session:
        await session.exec(text("UPDATE audit_log SET action = 'x' WHERE seq = 1"))
    broken = (await client.get("/api/v1/audit/verify", headers=admin)).json()
    assert broken == {"ok": False, "entries": 1, "broken_at": 1}
