"""Every route × every role × own/other area, read from the OpenAPI document itself.

A new route without a row here fails the test, so no route ships unconsidered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from storage.store import Store
from tests.support.alerts import stored_alert
from tests.support.api import login
from tests.support.places import CACERES, TUMACO
from tests.support.reports import submit, threat
from tests.support.staff import add_staff

MISSING = "00000000-0000-4000-8000-000000000000"
OK = "ok"
ROLES = ("anonymous", "analyst", "focal_other_area", "focal_own_area", "admin")

ADMIN_ONLY: dict[str, int | str] = {"anonymous": 401, "analyst": 403, "focal_other_area": 403,
                                    "focal_own_area": 403, "admin": OK}

# route → expected status for each role (OK = the call does what it should: 2xx).
EXPECTED: dict[tuple[str, str], dict[str, int | str]] = {
    ("get", "/healthz"): dict.fromkeys(ROLES, OK),
    ("get", "/readyz"): dict.fromkeys(ROLES, OK),
    # Not a role's matter: this test client connects from 127.0.0.1, and without
    # SOMOS_METRICS_TOKEN the metrics answer this machine (the rule: tests/api/test_metrics.py).
    ("get", "/metrics"): dict.fromkeys(ROLES, OK),
    ("get", "/api/v1/reports"): {"anonymous": 401, "analyst": 403, "focal_other_area": OK,
                                 "focal_own_area": OK, "admin": OK},
    ("get", "/api/v1/reports/{report_id}"): {"anonymous": 401, "analyst": 403,
                                             "focal_other_area": 404, "focal_own_area": OK,
                                             "admin": 404},
    ("get", "/api/v1/reports/{report_id}/attachments/{attachment_id}"): {
        "anonymous": 401, "analyst": 403, "focal_other_area": 404, "focal_own_area": 404,
        "admin": 404},
    ("post", "/api/v1/reports/{report_id}/claim"): {"anonymous": 401, "analyst": 403,
                                                    "focal_other_area": 404,
                                                    "focal_own_area": OK, "admin": 404},
    ("post", "/api/v1/reports/{report_id}/status"): {"anonymous": 401, "analyst": 403,
                                                     "focal_other_area": 404,
                                                     "focal_own_area": OK, "admin": 404},
    # A role that may act gets 409 here: this case has no filing number pending.
    ("post", "/api/v1/reports/{report_id}/reference"): {"anonymous": 401, "analyst": 403,
                                                        "focal_other_area": 404,
                                                        "focal_own_area": 409, "admin": 404},
    ("post", "/api/v1/reports/{report_id}/notes"): {"anonymous": 401, "analyst": 403,
                                                    "focal_other_area": 404,
                                                    "focal_own_area": OK, "admin": 404},
    ("post", "/api/v1/reports/{report_id}/messages"): {"anonymous": 401, "analyst": 403,
                                                       "focal_other_area": 404,
                                                       "focal_own_area": OK, "admin": 404},
    ("post", "/api/v1/reports/{report_id}/share"): {"anonymous": 401, "analyst": 403,
                                                    "focal_other_area": 404,
                                                    "focal_own_area": OK, "admin": 404},
    # A role that may act gets 409 here: nobody took this case yet.
    ("post", "/api/v1/reports/{report_id}/assignee"): {"anonymous": 401, "analyst": 403,
                                                       "focal_other_area": 404,
                                                       "focal_own_area": 409, "admin": 404},
    ("get", "/api/v1/reports/{report_id}/assignee/candidates"): {
        "anonymous": 401, "analyst": 403, "focal_other_area": 404, "focal_own_area": 409,
        "admin": 404},
    ("get", "/api/v1/grants"): {"anonymous": 401, "analyst": 403, "focal_other_area": OK,
                                "focal_own_area": OK, "admin": OK},
    # Granting to oneself is refused whatever one holds; to others, only what routing sends them.
    ("post", "/api/v1/grants"): {"anonymous": 401, "analyst": 403, "focal_other_area": OK,
                                 "focal_own_area": 422, "admin": OK},
    ("get", "/api/v1/routing-rules"): {"anonymous": 401, "analyst": 403,
                                       "focal_other_area": 403, "focal_own_area": 403,
                                       "admin": OK},
    ("post", "/api/v1/routing-rules"): {"anonymous": 401, "analyst": 403,
                                        "focal_other_area": 403, "focal_own_area": 403,
                                        "admin": OK},
    ("delete", "/api/v1/routing-rules/{rule_id}"): {"anonymous": 401, "analyst": 403,
                                                    "focal_other_area": 403,
                                                    "focal_own_area": 403, "admin": 404},
    ("get", "/api/v1/users"): ADMIN_ONLY,
    ("post", "/api/v1/users"): ADMIN_ONLY,
    ("get", "/api/v1/users/{user_id}"): {**ADMIN_ONLY, "admin": 404},
    ("post", "/api/v1/users/{user_id}/disable"): {**ADMIN_ONLY, "admin": 404},
    ("get", "/api/v1/audit"): ADMIN_ONLY,
    ("get", "/api/v1/audit/verify"): ADMIN_ONLY,
    ("post", "/api/v1/me/telegram-link"): {"anonymous": 401, "analyst": 403,
                                           "focal_other_area": OK, "focal_own_area": OK,
                                           "admin": OK},
    ("get", "/api/v1/aggregates"): {"anonymous": 401, **dict.fromkeys(ROLES[1:], OK)},
    ("get", "/api/v1/aggregates/priorities"): {"anonymous": 401, **dict.fromkeys(ROLES[1:], OK)},
    ("get", "/api/v1/aggregates/priorities/departments"): {
        "anonymous": 401, **dict.fromkeys(ROLES[1:], OK)},
    ("get", "/api/v1/exports/aggregates"): {"anonymous": 401, **dict.fromkeys(ROLES[1:], OK)},
    # Tumaco's bulletin: every analyst and admin, a focal point of Tumaco's area only.
    ("get", "/api/v1/bulletins/{code}"): {"anonymous": 401, "analyst": OK,
                                          "focal_other_area": 403, "focal_own_area": OK,
                                          "admin": OK},
    ("get", "/api/v1/alerts"): {"anonymous": 401, **dict.fromkeys(ROLES[1:], OK)},
    # The area's focal point acknowledges first; then the admin finds it done.
    ("post", "/api/v1/alerts/{alert_id}/acknowledge"): {
        "anonymous": 401, "analyst": 403, "focal_other_area": 404, "focal_own_area": OK,
        "admin": 409},
    ("post", "/api/v1/me/password"): {"anonymous": 401, "analyst": 403, "focal_other_area": 403,
                                      "focal_own_area": 403, "admin": 403},
}
# Routes whose success depends on a form, not a role.
UNGUARDED = {("post", "/api/v1/auth/token")}
BODIES: dict[str, Any] = {
    "/api/v1/reports/{report_id}/status": {"status": "in_review"},
    "/api/v1/reports/{report_id}/reference": {"reference": "OFI-1"},
    "/api/v1/reports/{report_id}/notes": {"text": "nota"},
    "/api/v1/reports/{report_id}/messages": {"text": "mensaje"},
    "/api/v1/reports/{report_id}/share": {"username": "otra_area"},
    "/api/v1/reports/{report_id}/assignee": {"username": "admin"},
    "/api/v1/grants": {"username": "propia_area"},
    "/api/v1/alerts/{alert_id}/acknowledge": {"note": "visto"},
    "/api/v1/routing-rules": {"username": "propia_area", "kind": "stigma"},
    "/api/v1/users": {"username": "nueva_cuenta", "role": "analyst"},
    # A wrong current password: everyone signed in gets the same 403, nobody changes anything.
    "/api/v1/me/password": {"current_password": "no es la actual",
                            "new_password": "una contraseña nueva y larga"},
}


@dataclass
class World:
    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    report_id: str
    alert_id: str


@pytest.fixture
async def world(client: httpx.AsyncClient, store: Store) -> World:
    staff = {
        "analyst": await add_staff(store, "analista", role="analyst"),
        "focal_other_area": await add_staff(store, "otra_area", municipalities=(CACERES,)),
        "focal_own_area": await add_staff(store, "propia_area", municipalities=(TUMACO,)),
        "admin": await add_staff(store, "admin", role="admin"),
    }
    report_id = await submit(store, threat(category="threat.other"))
    alert_id = await stored_alert(store, TUMACO)
    headers = {"anonymous": {}}
    for role, person in staff.items():
        headers[role] = await login(client, person)
    return World(client, headers, report_id, alert_id)


async def test_every_route_is_in_the_matrix(world: World) -> None:
    schema = (await world.client.get("/openapi.json")).json()
    routes = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert routes - UNGUARDED == set(EXPECTED), "add the new route to EXPECTED"


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
async def test_authorization_matrix(world: World, method: str, path: str) -> None:
    url = path.format(report_id=world.report_id, attachment_id=MISSING, rule_id=MISSING,
                      user_id=MISSING, code=TUMACO, alert_id=world.alert_id)
    outcomes = {}
    # Least privileged first: a successful claim must not change what others see.
    for role in ROLES:
        response = await world.client.request(method.upper(), url, headers=world.headers[role],
                                              json=BODIES.get(path))
        status = response.status_code
        outcomes[role] = OK if 200 <= status < 300 else status
        if status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    assert outcomes == EXPECTED[(method, path)]
