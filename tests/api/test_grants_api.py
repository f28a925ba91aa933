"""A focal point who joins Tumaco after its cases: a colleague grants them over the API, and
nobody gets a case routing would not send them, on both databases."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import col, select

from storage.models import AuditEntry
from storage.store import Store
from tests.support.api import Headers, login
from tests.support.places import CACERES, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import Staff, add_staff

DESCRIPTIONS = ("panfleto en la vereda", "llamada con amenazas", "nos siguieron en moto")


@dataclass
class Tumaco:
    colleague: Staff
    colleague_headers: Headers
    reports: list[str]
    closed: str


@pytest.fixture
async def tumaco(client: httpx.AsyncClient, store: Store) -> Tumaco:
    """Tumaco's focal point with three open cases and a closed one, filed before anyone
    else joined."""
    colleague = await add_staff(store, "tumaco1", municipalities=(TUMACO,))
    headers = await login(client, colleague)
    reports = [await submit(store, threat(description=text)) for text in DESCRIPTIONS]
    closed = await submit(store, threat(description="ya atendido"))
    for body in ({"status": "in_review"}, {"status": "closed", "reason": "duplicate"}):
        response = await client.post(f"/api/v1/reports/{closed}/status", headers=headers,
                                     json=body)
        assert response.status_code == 200, response.text
    return Tumaco(colleague, headers, reports, closed)


async def readable(client: httpx.AsyncClient, headers: Headers, reports: list[str]) -> list[str]:
    """The descriptions of `reports` this person opens (the others answer 404)."""
    found = []
    for report_id in reports:
        response = await client.get(f"/api/v1/reports/{report_id}", headers=headers)
        assert response.status_code in (200, 404), response.text
        if response.status_code == 200:
            found.append(response.json()["answers"]["description"])
    return found


async def audit(store: Store, *actions: str) -> list[AuditEntry]:
    async with store.transaction() as session:
        return list((await session.exec(select(AuditEntry).where(
            col(AuditEntry.action).in_(actions)).order_by(col(AuditEntry.seq)))).all())


async def test_a_new_focal_point_reads_the_three_open_cases_once_a_colleague_grants_them(
    client: httpx.AsyncClient, store: Store, tumaco: Tumaco
) -> None:
    newcomer = await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    headers = await login(client, newcomer)
    assert await readable(client, headers, tumaco.reports) == []
    queue = await client.get("/api/v1/reports", headers=headers)
    assert queue.json()["items"] == []

    waiting = await client.get("/api/v1/grants", headers=tumaco.colleague_headers)
    assert waiting.json() == [{"username": "tumaco2", "cases": 3}]
    granted = await client.post("/api/v1/grants", headers=tumaco.colleague_headers,
                                json={"username": "tumaco2"})
    assert granted.status_code == 200, granted.text
    assert granted.json() == {"username": "tumaco2", "granted": 3, "not_opened": 0,
                              "holders": []}

    assert sorted(await readable(client, headers, tumaco.reports)) == sorted(DESCRIPTIONS)
    assert await readable(client, headers, [tumaco.closed]) == []  # closed cases stay
    queue = await client.get("/api/v1/reports", headers=headers)
    assert sorted(item["id"] for item in queue.json()["items"]) == sorted(tumaco.reports)
    assert (await client.get("/api/v1/grants", headers=tumaco.colleague_headers)).json() == []
    again = await client.post("/api/v1/grants", headers=tumaco.colleague_headers,
                              json={"username": "tumaco2"})
    assert again.json()["granted"] == 0

    per_case = await audit(store, "report.granted")
    assert sorted(entry.report_id or "" for entry in per_case) == sorted(tumaco.reports)
    assert {(entry.actor, entry.detail) for entry in per_case} == {
        (tumaco.colleague.id, json.dumps({"via": "api", "with": newcomer.id},
                                         separators=(",", ":")))}
    summaries = await audit(store, "user.cases_granted")
    assert [json.loads(entry.detail) for entry in summaries] == [
        {"user": newcomer.id, "granted": 3, "not_opened": 0, "via": "api"},
        {"user": newcomer.id, "granted": 0, "not_opened": 0, "via": "api"},
    ]
    for entry in per_case + summaries:
        assert not any(text in entry.detail for text in DESCRIPTIONS)


async def test_a_focal_point_cannot_grant_themselves_access(
    client: httpx.AsyncClient, store: Store, tumaco: Tumaco
) -> None:
    newcomer = await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    headers = await login(client, newcomer)
    refused = await client.post("/api/v1/grants", headers=headers, json={"username": "tumaco2"})
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/yourself")
    assert "sí mismo" in refused.json()["detail"]
    assert await readable(client, headers, tumaco.reports) == []
    assert await audit(store, "report.granted", "user.cases_granted") == []


async def test_a_granter_grants_only_the_cases_they_can_open_and_names_who_can(
    client: httpx.AsyncClient, store: Store, tumaco: Tumaco
) -> None:
    admin = await add_staff(store, "admin", role="admin")
    admin_headers = await login(client, admin)
    # The admin reads one of the three: tumaco1 shared it.
    shared = await client.post(f"/api/v1/reports/{tumaco.reports[0]}/share",
                               headers=tumaco.colleague_headers, json={"username": "admin"})
    assert shared.status_code == 200, shared.text
    newcomer = await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    headers = await login(client, newcomer)

    caceres = await add_staff(store, "caceres", municipalities=(CACERES,))
    outsider = await login(client, caceres)
    assert (await client.get("/api/v1/grants", headers=outsider)).json() == []
    nothing = await client.post("/api/v1/grants", headers=outsider, json={"username": "tumaco2"})
    assert nothing.json() == {"username": "tumaco2", "granted": 0, "not_opened": 3,
                              "holders": ["admin", "tumaco1"]}
    assert await readable(client, headers, tumaco.reports) == []

    some = await client.post("/api/v1/grants", headers=admin_headers,
                             json={"username": "tumaco2"})
    assert some.json() == {"username": "tumaco2", "granted": 1, "not_opened": 2,
                           "holders": ["tumaco1"]}
    assert await readable(client, headers, tumaco.reports) == [DESCRIPTIONS[0]]
    summaries = await audit(store, "user.cases_granted")
    assert [(entry.actor, json.loads(entry.detail)) for entry in summaries] == [
        (caceres.id, {"user": newcomer.id, "granted": 0, "not_opened": 3, "via": "api"}),
        (admin.id, {"user": newcomer.id, "granted": 1, "not_opened": 2, "via": "api"}),
    ]


async def test_a_user_of_another_area_gets_nothing(
    client: httpx.AsyncClient, store: Store, tumaco: Tumaco
) -> None:
    outsider = await add_staff(store, "caceres", municipalities=(CACERES,))
    headers = await login(client, outsider)
    granted = await client.post("/api/v1/grants", headers=tumaco.colleague_headers,
                                json={"username": "caceres"})
    assert granted.json() == {"username": "caceres", "granted": 0, "not_opened": 0,
                              "holders": []}
    assert await readable(client, headers, tumaco.reports) == []
    assert (await client.get("/api/v1/reports", headers=headers)).json()["items"] == []
    # Not even an analyst or a disabled account can be made a reader.
    await add_staff(store, "analista", role="analyst")
    refused = await client.post("/api/v1/grants", headers=tumaco.colleague_headers,
                                json={"username": "analista"})
    assert refused.status_code == 422 and refused.json()["type"].endswith("/bad-recipient")
    unknown = await client.post("/api/v1/grants", headers=tumaco.colleague_headers,
                                json={"username": "nadie"})
    assert unknown.status_code == 422 and "nadie" in unknown.json()["detail"]


async def test_two_colleagues_granting_at_once_give_each_case_once(
    client: httpx.AsyncClient, store: Store, tumaco: Tumaco
) -> None:
    second = await add_staff(store, "tumaco3", municipalities=(TUMACO,))
    # tumaco3 arrived later too: tumaco1 grants them the cases first.
    await client.post("/api/v1/grants", headers=tumaco.colleague_headers,
                      json={"username": "tumaco3"})
    second_headers = await login(client, second)
    newcomer = await add_staff(store, "tumaco2", municipalities=(TUMACO,))
    answers = await asyncio.gather(*(
        client.post("/api/v1/grants", headers=headers, json={"username": "tumaco2"})
        for headers in (tumaco.colleague_headers, second_headers)))
    assert [answer.status_code for answer in answers] == [200, 200], [a.text for a in answers]
    assert sum(answer.json()["granted"] for answer in answers) == 3
    granted = [entry for entry in await audit(store, "report.granted")
               if f'"with":"{newcomer.id}"' in entry.detail]
    assert sorted(entry.report_id or "" for entry in granted) == sorted(tumaco.reports)
    assert sorted(await readable(client, await login(client, newcomer), tumaco.reports)) == (
        sorted(DESCRIPTIONS))
