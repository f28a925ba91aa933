"""Text no database can store is refused with a 422 naming the field, before any query.

Found by the OpenAPI fuzzing (tests/api/test_openapi_fuzz.py), which meets such text only
now and then: U+0000 was a 500 on PostgreSQL, a lone surrogate a 500 on both databases.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from tests.support.api import Headers, ReportFactory

NUL = "tu\x00maco"
LONE_SURROGATE = "\ud800"  # valid in JSON text ("\\ud800"), but no UTF-8 codec can encode it


def _json(body: dict[str, str]) -> dict[str, Any]:
    """The request arguments for a JSON body, escaped as json.dumps does (httpx would fail)."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


def _cursor(report_id: str) -> str:
    raw = json.dumps([2, "2025-01-01T00:00:00+00:00", report_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


async def test_text_no_database_can_store_is_refused_before_the_query(
    client: httpx.AsyncClient, admin: Headers, tumaco: Headers, report: ReportFactory
) -> None:
    focal = tumaco
    report_id = await report("algo")
    # (who, method, url, request arguments, where the refused value is)
    refused: list[tuple[dict[str, str], str, str, dict[str, Any], list[str | int]]] = [
        ({}, "POST", "/api/v1/auth/token",
         {"data": {"username": NUL, "password": "x"}}, ["body", "username"]),
        (focal, "GET", "/api/v1/reports", {"params": {"status": NUL}}, ["query", "status"]),
        (focal, "GET", "/api/v1/reports", {"params": {"kind": NUL}}, ["query", "kind"]),
        (focal, "GET", "/api/v1/reports/tu%00maco", {}, ["path", "report_id"]),
        (focal, "GET", f"/api/v1/reports/{report_id}/attachments/tu%00maco", {},
         ["path", "attachment_id"]),
        (focal, "POST", "/api/v1/reports/tu%00maco/claim", {}, ["path", "report_id"]),
        (focal, "POST", f"/api/v1/reports/{report_id}/share",
         {"json": {"username": NUL}}, ["body", "username"]),
        (focal, "POST", f"/api/v1/reports/{report_id}/share",
         _json({"username": LONE_SURROGATE}),
         ["body", "username"]),
        (admin, "POST", "/api/v1/routing-rules",
         _json({"username": LONE_SURROGATE}),
         ["body", "username"]),
        (admin, "DELETE", "/api/v1/routing-rules/tu%00maco", {}, ["path", "rule_id"]),
        (focal, "POST", "/api/v1/me/password",
         _json({"current_password": LONE_SURROGATE, "new_password": "una clave nueva larga"}),
         ["body", "current_password"]),
    ]
    for who, method, url, arguments, where in refused:
        headers = {**who, **arguments.pop("headers", {})}
        response = await client.request(method, url, headers=headers, **arguments)
        assert response.status_code == 422, (method, url, response.text)
        problem = response.json()
        assert problem["type"].endswith("/validation-error"), (method, url, problem)
        assert [error["loc"] for error in problem["errors"]] == [where], (method, url)

    forged = await client.get("/api/v1/reports", headers=focal,
                              params={"cursor": _cursor(NUL)})
    assert forged.status_code == 400 and forged.json()["type"].endswith("/bad-cursor")
