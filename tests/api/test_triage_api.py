"""Claim, status, notes and messages over HTTP, and who may do what, on both databases."""

from __future__ import annotations

import asyncio

import httpx

from storage.store import Store
from storage.triage import CLOSING_REASONS, REFERRAL_ENTITIES, STATUSES
from storage.users import disable_user, get_user_by_username, restore_with_recovery
from tests.support.api import login
from tests.support.places import CACERES, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import add_staff


async def report_in(store: Store, municipality: str = TUMACO) -> str:
    return await submit(store, threat(municipality, category="threat.extortion", urgency="high",
                                      description="nos cobran vacuna"))


async def test_two_focal_points_claiming_at_once_only_one_wins(
    client: httpx.AsyncClient, store: Store
) -> None:
    first = await add_staff(store, "tumaco1", municipalities=(TUMACO,))
    second = await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    report_id = await report_in(store)
    headers = [await login(client, first), await login(client, second)]
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/reports/{report_id}/claim", headers=h) for h in headers)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    assert winner["status"] == "in_review"
    assert winner["assigned_to"] in (first.id, second.id)
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["type"].endswith("/already-claimed")


async def test_referral_note_and_message_show_in_the_detail(
    client: httpx.AsyncClient, store: Store
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await report_in(store)
    headers = await login(client, staff)
    base = f"/api/v1/reports/{report_id}"
    assert (await client.post(f"{base}/claim", headers=headers)).status_code == 200

    unknown = await client.post(f"{base}/status", headers=headers, json={
        "status": "referred", "entity": "la_vecina", "reference": "X-1"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "Elija la entidad a la que remite el caso."
    referred = await client.post(f"{base}/status", headers=headers, json={
        "status": "referred", "entity": "unp", "reference": "OFI-2026-000123"})
    assert referred.json()["status"] == "referred"
    wrong = await client.post(f"{base}/status", headers=headers, json={"status": "in_review"})
    assert wrong.status_code == 409
    assert (await client.post(f"{base}/notes", headers=headers,
                              json={"text": "Llamar a la Personería"})).status_code == 201
    assert (await client.post(f"{base}/messages", headers=headers,
                              json={"text": "Recibimos su reporte."})).status_code == 201

    detail = (await client.get(base, headers=headers)).json()
    assert detail["referred_to"] == "unp" and detail["status"] == "referred"
    assert [n["text"] for n in detail["notes"]] == ["Llamar a la Personería"]
    assert [m["text"] for m in detail["messages"]] == ["Recibimos su reporte."]
    assert detail["history"][-1]["details"]["reference"] == "OFI-2026-000123"

    closed = await client.post(f"{base}/status", headers=headers,
                               json={"status": "closed", "reason": "attended"})
    assert closed.json()["status"] == "closed"


ROUTES = [
    ("GET", "/api/v1/reports", None),
    ("GET", "/api/v1/reports/{id}", None),
    ("GET", "/api/v1/reports/{id}/attachments/00000000-0000-4000-8000-000000000000", None),
    ("POST", "/api/v1/reports/{id}/claim", None),
    ("POST", "/api/v1/reports/{id}/status", {"status": "follow_up"}),
    ("POST", "/api/v1/reports/{id}/reference", {"reference": "OFI-1"}),
    ("POST", "/api/v1/reports/{id}/notes", {"text": "nota"}),
    ("POST", "/api/v1/reports/{id}/messages", {"text": "mensaje"}),
    ("POST", "/api/v1/reports/{id}/share", {"username": "caceres"}),
    ("POST", "/api/v1/reports/{id}/assignee", {"username": "caceres"}),
    ("GET", "/api/v1/reports/{id}/assignee/candidates", None),
]


async def test_a_referral_saves_without_its_reference_and_takes_it_later(
    client: httpx.AsyncClient, store: Store
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await report_in(store)
    headers = await login(client, staff)
    base = f"/api/v1/reports/{report_id}"
    nothing_pending = await client.post(f"{base}/reference", headers=headers,
                                        json={"reference": "X-1"})
    assert nothing_pending.status_code == 409
    assert nothing_pending.json()["type"].endswith("/no-pending-reference")
    assert (await client.post(f"{base}/claim", headers=headers)).status_code == 200
    referred = await client.post(f"{base}/status", headers=headers,
                                 json={"status": "referred", "entity": "defensoria"})
    assert referred.status_code == 200 and referred.json()["status"] == "referred"
    (item,) = (await client.get("/api/v1/reports", headers=headers)).json()["items"]
    assert item["reference_pending"] is True

    filled = await client.post(f"{base}/reference", headers=headers,
                               json={"reference": "DP-2026-118"})
    assert filled.status_code == 200
    (item,) = (await client.get("/api/v1/reports", headers=headers)).json()["items"]
    assert item["reference_pending"] is False
    history = (await client.get(base, headers=headers)).json()["history"]
    assert [(event["kind"], event["details"].get("reference")) for event in history] == [
        ("assignment", None), ("status", None), ("reference", "DP-2026-118")]
    assert history[0]["details"] == {"assignee": staff.id, "from": "new", "to": "in_review"}
    again = await client.post(f"{base}/reference", headers=headers, json={"reference": "X"})
    assert again.status_code == 409


async def test_refusals_name_no_internal_code(
    client: httpx.AsyncClient, store: Store
) -> None:
    """What a refusal says is what a person reads on the page: no status, entity or
    reason codes (they are in the OpenAPI document for whoever programs)."""
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await report_in(store)
    headers = await login(client, staff)
    base = f"/api/v1/reports/{report_id}"
    assert (await client.post(f"{base}/claim", headers=headers)).status_code == 200
    refusals = [
        await client.post(f"{base}/status", headers=headers, json=body) for body in (
            {"status": "closed"},
            {"status": "closed", "reason": "se_fue"},
            {"status": "referred"},
            {"status": "in_review"},
        )
    ]
    assert [r.status_code for r in refusals] == [422, 422, 422, 409]
    details = [r.json()["detail"] for r in refusals]
    assert details[0] == details[1] == "Elija el motivo de cierre."
    assert details[2] == "Elija la entidad a la que remite el caso."
    codes = {*CLOSING_REASONS, *REFERRAL_ENTITIES, *STATUSES}
    for detail in details:
        assert not any(code in detail for code in codes), detail


async def test_authorization_matrix_for_report_routes(
    client: httpx.AsyncClient, store: Store
) -> None:
    """Every report route × anonymous, analyst, focal point elsewhere: nothing leaks."""
    await add_staff(store, "tumaco", municipalities=(TUMACO,))
    caceres = await add_staff(store, "caceres", municipalities=(CACERES,))
    analyst = await add_staff(store, "analista", role="analyst")
    report_id = await report_in(store)
    callers = {
        "anonymous": ({}, 401),
        "analyst": (await login(client, analyst), 403),
        "other area": (await login(client, caceres), 404),
    }
    for who, (headers, expected) in callers.items():
        for method, path, body in ROUTES:
            url = path.format(id=report_id)
            response = await client.request(method, url, headers=headers, json=body)
            if who == "other area" and path == "/api/v1/reports":
                assert response.status_code == 200 and response.json()["items"] == []
                continue
            assert response.status_code == expected, (who, method, url, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")


async def test_admins_manage_routing_rules_and_nobody_else(
    client: httpx.AsyncClient, store: Store
) -> None:
    admin = await add_staff(store, "admin", role="admin")
    focal = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    analyst = await add_staff(store, "analista", role="analyst")
    admin_headers = await login(client, admin)
    for who in (focal, analyst):
        headers = await login(client, who)
        assert (await client.get("/api/v1/routing-rules", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/routing-rules")).status_code == 401

    bad = await client.post("/api/v1/routing-rules", headers=admin_headers,
                            json={"username": "nadie", "kind": "robo"})
    assert bad.status_code == 422
    assert "nadie" in bad.json()["detail"] and "robo" in bad.json()["detail"]
    created = await client.post("/api/v1/routing-rules", headers=admin_headers, json={
        "username": "tumaco", "municipality": CACERES, "kind": "stigma"})
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["department"] == "05" and rule["user_id"] == focal.id
    listed = (await client.get("/api/v1/routing-rules", headers=admin_headers)).json()
    assert [r["id"] for r in listed] == [rule["id"]]
    gone = await client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin_headers)
    assert gone.status_code == 204
    again = await client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin_headers)
    assert again.status_code == 404


async def test_changed_password_and_recovery_keep_old_reports_readable(
    client: httpx.AsyncClient, store: Store, recovery_keys: tuple[bytes, bytes]
) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await report_in(store)
    old_headers = await login(client, staff)

    changed = await client.post("/api/v1/me/password", headers=old_headers, json={
        "current_password": staff.password, "new_password": "otra contraseña bien larga"})
    assert changed.status_code == 204
    assert (await client.get("/api/v1/reports", headers=old_headers)).status_code == 401
    staff.password = "otra contraseña bien larga"
    headers = await login(client, staff)
    detail = await client.get(f"/api/v1/reports/{report_id}", headers=headers)
    assert detail.json()["answers"]["description"] == "nos cobran vacuna"

    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="tumaco")
        assert user is not None
        await restore_with_recovery(session=session, user=user,
                                    recovery_private_key=recovery_keys[0],
                                    new_password="restaurada por la organización",
                                    argon2_params=store.argon2)
    assert (await client.get("/api/v1/reports", headers=headers)).status_code == 401
    staff.password = "restaurada por la organización"
    restored = await login(client, staff)
    detail = await client.get(f"/api/v1/reports/{report_id}", headers=restored)
    assert detail.json()["answers"]["description"] == "nos cobran vacuna"


async def test_a_disabled_user_is_out_at_once(client: httpx.AsyncClient, store: Store) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    headers = await login(client, staff)
    async with store.transaction() as session:
        user = await get_user_by_username(session=session, username="tumaco")
        assert user is not None
        await disable_user(session=session, user=user)
    assert (await client.get("/api/v1/reports", headers=headers)).status_code == 401
    again = await client.post("/api/v1/auth/token", data={
        "username": staff.username, "password": staff.password, "otp": staff.otp()})
    assert again.status_code == 401


async def test_sharing_lets_another_focal_point_read_the_report(
    client: httpx.AsyncClient, store: Store
) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    colleague = await add_staff(store, "defensoria", departments=("05",))
    report_id = await report_in(store)
    colleague_headers = await login(client, colleague)
    path = f"/api/v1/reports/{report_id}"
    assert (await client.get(path, headers=colleague_headers)).status_code == 404

    headers = await login(client, tumaco)
    shared = await client.post(f"{path}/share", headers=headers, json={"username": "defensoria"})
    assert shared.status_code == 200 and shared.json()["new"] is True
    again = await client.post(f"{path}/share", headers=headers, json={"username": "defensoria"})
    assert again.json()["new"] is False
    detail = await client.get(path, headers=colleague_headers)
    assert detail.json()["answers"]["description"] == "nos cobran vacuna"


async def test_notes_written_at_once_are_all_kept(client: httpx.AsyncClient, store: Store) -> None:
    staff = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    report_id = await report_in(store)
    headers = await login(client, staff)
    responses = await asyncio.gather(*(
        client.post(f"/api/v1/reports/{report_id}/notes", headers=headers,
                    json={"text": f"nota {n}"}) for n in range(8)
    ))
    assert [r.status_code for r in responses] == [201] * 8
    detail = (await client.get(f"/api/v1/reports/{report_id}", headers=headers)).json()
    assert sorted(n["text"] for n in detail["notes"]) == sorted(f"nota {n}" for n in range(8))
    assert [n["seq"] for n in detail["notes"]] == list(range(1, 9))


async def test_a_case_passes_to_a_colleague_who_reads_it_and_sees_who_passed_it(
    client: httpx.AsyncClient, store: Store
) -> None:
    ana = await add_staff(store, "ana", municipalities=(TUMACO,))
    dora = await add_staff(store, "dora", municipalities=(TUMACO,))
    report_id = await report_in(store)
    # Beto joins Tumaco after the report; Cáceres is another area.
    beto = await add_staff(store, "beto", municipalities=(TUMACO,))
    await add_staff(store, "caceres", municipalities=(CACERES,))
    await add_staff(store, "analista", role="analyst")
    path = f"/api/v1/reports/{report_id}"
    ana_headers, beto_headers = await login(client, ana), await login(client, beto)
    assert (await client.get(path, headers=beto_headers)).status_code == 404
    untaken = await client.post(f"{path}/assignee", headers=ana_headers, json={"username": "beto"})
    assert untaken.status_code == 409 and untaken.json()["type"].endswith("/not-claimed")
    assert (await client.post(f"{path}/claim", headers=ana_headers)).status_code == 200
    choices = await client.get(f"{path}/assignee/candidates", headers=ana_headers)
    assert [(c["username"], c["role"]) for c in choices.json()] == [
        ("beto", "focal_point"), ("dora", "focal_point")]

    for outsider in ("caceres", "analista", "nadie"):
        refused = await client.post(f"{path}/assignee", headers=ana_headers,
                                    json={"username": outsider})
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith("/bad-assignee")
        assert refused.json()["detail"].startswith("El caso solo puede pasar a un punto focal")
    same = await client.post(f"{path}/assignee", headers=ana_headers, json={"username": "ana"})
    assert same.status_code == 409 and same.json()["detail"] == (
        "Esa persona ya atiende este caso. Elija a otra.")

    passed = await client.post(f"{path}/assignee", headers=ana_headers, json={"username": "beto"})
    assert passed.status_code == 200, passed.text
    assert passed.json() == {"id": report_id, "status": "in_review", "assigned_to": beto.id}

    detail = (await client.get(path, headers=beto_headers)).json()
    assert detail["assigned_to"] == beto.id
    assert detail["answers"]["description"] == "nos cobran vacuna"
    assert [(e["kind"], e["actor"], e["details"]) for e in detail["history"]] == [
        ("assignment", ana.id, {"assignee": ana.id, "from": "new", "to": "in_review"}),
        ("assignment", ana.id, {"assignee": beto.id, "previous": ana.id,
                                "from": "in_review", "to": "in_review"})]
    # Ana, and Dora who never held it, can no longer move or pass it; Beto can.
    for headers in (ana_headers, await login(client, dora)):
        moved = await client.post(f"{path}/status", headers=headers,
                                  json={"status": "follow_up"})
        assert moved.status_code == 409 and moved.json()["type"].endswith("/assigned-to-other")
        again = await client.post(f"{path}/assignee", headers=headers, json={"username": "dora"})
        assert again.status_code == 409
        assert again.json()["detail"] == (
            "Solo quien atiende el caso, o la administración, lo pasa a otra persona.")
        listed = await client.get(f"{path}/assignee/candidates", headers=headers)
        assert listed.status_code == 409
    moved = await client.post(f"{path}/status", headers=beto_headers, json={"status": "follow_up"})
    assert moved.status_code == 200
