"""Prometheus metrics: to this machine only, or to whoever holds SOMOS_METRICS_TOKEN."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import SecretStr

from api.deps import SettingsDep, StoreDep
from api.metrics import METRICS_PATH, Metrics
from api.problems import Problem, problem_responses

router = APIRouter(tags=["health"])

# What reverse proxies add. A request that passed through one did not start on this
# machine, even when the proxy itself connects from 127.0.0.1.
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _is_loopback(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False  # a Unix socket or a name: not provably this machine
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def may_scrape(request: Request, token: SecretStr | None) -> bool:
    """With a token, only its bearer (from anywhere); without, only a direct local client."""
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Digests of equal length: the comparison time says nothing about the token.
        same = hmac.compare_digest(_digest(given.strip()), _digest(token.get_secret_value()))
        return scheme.lower() == "bearer" and same
    client = request.client.host if request.client else None
    return _is_loopback(client) and not any(name in request.headers for name in FORWARDING_HEADERS)


@router.get(
    METRICS_PATH,
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                     "description": "Prometheus text format."},
               # The refusal: not this machine, or not the bearer of SOMOS_METRICS_TOKEN.
               **problem_responses(403)},
)
async def metrics(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Counts of events for Prometheus: requests, bot updates, reports by kind, outbox."""
    if not may_scrape(request, settings.metrics_token):
        # 403, not 404: the path is documented, and an operator whose scrape is refused
        # should see a refusal rather than hunt for a missing route.
        raise Problem(403, "Las métricas responden solo a esta máquina, o con el token de "
                           "SOMOS_METRICS_TOKEN en `Authorization: Bearer`.")
    registered: Metrics = request.app.state.metrics
    return Response(await registered.render(store), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
