"""GET /metrics: what an operator watches moves, nothing about a report or a person shows,
and only this machine (or the holder of SOMOS_METRICS_TOKEN) may read it."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.error import Forbidden

from api.app import build_conversations, create_app
from api.background import start_background
from api.settings import Settings
from bot.notifier import deliver_due
from flows.engine import Reply, Text
from storage.early_warning import Rule
from storage.models import floor_hour
from storage.reports import NewReport, submit_report
from storage.store import Store
from storage.users import get_user_by_username, issue_link_code, link_chat
from tests.support.api import ReportFactory, client_for, login
from tests.support.places import TUMACO
from tests.support.staff import add_staff
from tests.support.walk import DESCRIPTION, press, threat_walk

MISSING = "00000000-0000-4000-8000-000000000000"
TOKEN = "0f3c1e5d8a7b6c4d2e1f0a9b8c7d6e5f"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

Values = dict[tuple[str, frozenset[tuple[str, str]]], float]


def values_of(text: str) -> Values:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(values: Values, name: str, **labels: str) -> float:
    return values[(name, frozenset(labels.items()))]


def client_from(app: FastAPI, host: str) -> httpx.AsyncClient:
    return client_for(app, peer=(host, 50123))


async def scrape(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    return response.text


async def report_through_the_bot(app: FastAPI, store: Store, chat_id: int,
                                 when: datetime) -> tuple[str, int]:
    """A threat in immediate danger, walked through the bot's unit of work at `when`;
    returns the receipt code and how many updates it took."""
    settings: Settings = app.state.settings
    conversations = replace(build_conversations(settings, store, app.state.metrics),
                            clock=lambda: when)
    pseudonym = await conversations.chat_pseudonym(chat_id)
    replies: list[Reply] = []
    items = [item for item, _, _ in threat_walk("target.leader", "threat.death_threat", "yes")]
    for update_id, item in enumerate(items, start=1000):
        event = press(replies, item) if isinstance(item, str) else item
        turn = await conversations.handle(pseudonym=pseudonym, event=event,
                                          update_id=update_id, chat_id=chat_id)
        replies = turn.replies
    # Telegram delivers an update again when it missed the answer: processed once.
    again = await conversations.handle(pseudonym=pseudonym, event=Text("tumaco"),
                                       update_id=1000, chat_id=chat_id)
    assert again.duplicate
    (code,) = [r.text.params["code"] for r in replies if "code" in r.text.params]
    assert isinstance(code, str)
    return code.replace(" ", ""), len(items)


async def test_a_scrape_shows_requests_bot_updates_reports_and_the_backlog(
    app: FastAPI, client: httpx.AsyncClient, store: Store
) -> None:
    tumaco = await add_staff(store, "tumaco", municipalities=(TUMACO,))
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    receipt, updates = await report_through_the_bot(app, store, 987654321, two_hours_ago)

    headers = await login(client, tumaco)
    (item,) = (await client.get("/api/v1/reports", headers=headers)).json()["items"]
    report_id = item["id"]
    assert (await client.get(f"/api/v1/reports/{report_id}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/reports/{MISSING}", headers=headers)).status_code == 404
    assert (await client.get(f"/no/existe/{report_id}")).status_code == 404
    await scrape(client)  # scrapes are not counted as requests

    text = await scrape(client)
    values = values_of(text)
    requests = "somos_http_requests_total"
    assert value(values, requests, method="POST", route="/api/v1/auth/token", status="2xx") == 1
    assert value(values, requests, method="GET", route="/api/v1/reports", status="2xx") == 1
    detail = "/api/v1/reports/{report_id}"
    assert value(values, requests, method="GET", route=detail, status="2xx") == 1
    assert value(values, requests, method="GET", route=detail, status="4xx") == 1
    assert value(values, requests, method="GET", route="unmatched", status="4xx") == 1
    assert value(values, "somos_http_request_duration_seconds_count", route=detail) == 2
    assert not any(dict(labels).get("route") == "/metrics" for _, labels in values)

    assert value(values, "somos_bot_updates_total", outcome="processed") == updates
    assert value(values, "somos_bot_updates_total", outcome="duplicate") == 1
    assert value(values, "somos_bot_updates_total", outcome="failed") == 0
    assert value(values, "somos_reports_submitted_total", kind="threat") == 1
    assert value(values, "somos_reports_submitted_total", kind="stigma") == 0
    # In immediate danger two hours ago, untouched: past its one-hour deadline.
    assert value(values, "somos_reports_overdue") == 1
    # The focal point's alert has waited two hours: this app has no bot to send it.
    assert value(values, "somos_outbox_pending") == 1
    assert value(values, "somos_database_up") == 1

    lowered = text.lower()
    for secret in (report_id, MISSING, receipt, TUMACO, "tumaco", "nariño", "narino",
                   "panfleto", DESCRIPTION.splitlines()[1].lower(),
                   await store.chats.current(987654321, now=two_hours_ago)):
        assert secret.lower() not in lowered, secret
    assert not UUID.search(text)
    routes = {label for _, labels in values for name, label in labels if name == "route"}
    assert routes == {"/api/v1/auth/token", "/api/v1/reports", detail, "unmatched"}
    for _, labels in values:
        for name, label in labels:
            assert not re.search(r"\d{5}", label), (name, label)  # no municipality code


async def test_a_report_is_counted_once_its_hour_is_over(
    app: FastAPI, store: Store, report: ReportFactory
) -> None:
    now = datetime.now(UTC)
    await report("Nos vigilan desde la cancha.")

    metrics = app.state.metrics
    during = values_of((await metrics.render(store, now)).decode())
    assert value(during, "somos_reports_submitted_total", kind="threat") == 0
    later = values_of((await metrics.render(store, floor_hour(now) + timedelta(hours=1))).decode())
    assert value(later, "somos_reports_submitted_total", kind="threat") == 1


class FakeBot:
    """Telegram's side of delivery: one chat receives, one has blocked the bot."""

    def __init__(self, blocked: int) -> None:
        self.blocked = blocked
        self.sent: list[int] = []

    async def send_message(self, *, chat_id: int, text: str) -> Any:
        if chat_id == self.blocked:
            raise Forbidden("Forbidden: bot was blocked by the user")
        self.sent.append(chat_id)


async def test_notifications_are_counted_by_outcome(
    app: FastAPI, client: httpx.AsyncClient, store: Store
) -> None:
    for username in ("con_chat", "sin_chat", "bloqueo"):
        await add_staff(store, username, municipalities=(TUMACO,))
    now = datetime.now(UTC)
    an_hour_ago = now - timedelta(hours=1)
    async with store.transaction() as session:
        for username, chat_id in (("con_chat", 111), ("bloqueo", 222)):
            user = await get_user_by_username(session=session, username=username)
            assert user is not None
            code = await issue_link_code(session=session, user=user, now=an_hour_ago)
            await link_chat(session=session, keyring=store.keyring, code=code, chat_id=chat_id,
                            now=an_hour_ago)
        await submit_stigma(store, session, an_hour_ago - timedelta(minutes=30))
    bot = FakeBot(blocked=222)
    await deliver_due(store=store, bot=bot, now=an_hour_ago)
    assert bot.sent == [111]

    messages = "somos_outbox_messages_total"
    values = values_of(await scrape(client))
    assert value(values, messages, outcome="sent") == 1
    assert value(values, messages, outcome="no_chat") == 1
    assert value(values, messages, outcome="failed") == 1
    assert value(values, "somos_outbox_pending") == 0
    assert value(values, "somos_reports_submitted_total", kind="stigma") == 1

    # A report this minute: its three notifications are not yet late, and what becomes of
    # them is counted with the hour, so the scrape does not say when it came.
    # (Read at `now` rather than by the clock, which could pass the hour meanwhile.)
    async with store.transaction() as session:
        await submit_stigma(store, session, now)
    values = values_of((await app.state.metrics.render(store, now)).decode())
    assert value(values, "somos_outbox_pending") == 0
    await deliver_due(store=store, bot=bot, now=now)
    assert bot.sent == [111, 111]
    values = values_of((await app.state.metrics.render(store, now)).decode())
    assert value(values, messages, outcome="sent") == 1
    assert value(values, "somos_reports_submitted_total", kind="stigma") == 1
    next_hour = floor_hour(now) + timedelta(hours=1)
    values = values_of((await app.state.metrics.render(store, next_hour)).decode())
    assert {outcome: value(values, messages, outcome=outcome)
            for outcome in ("sent", "no_chat", "failed")} == {"sent": 2, "no_chat": 2, "failed": 2}
    assert value(values, "somos_reports_submitted_total", kind="stigma") == 2


async def submit_stigma(store: Store, session: AsyncSession, when: datetime) -> None:
    await submit_report(
        session=session, keyring=store.keyring, argon2_params=store.argon2, now=when,
        report=NewReport(kind="stigma", category="stigma.other", municipality_code=TUMACO,
                         urgency="normal", answers={}),
    )


async def test_an_unhandled_error_is_counted_as_5xx(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/explota/{report_id}", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://somos.test") as client:
        assert (await client.get(f"/explota/{MISSING}")).status_code == 500
        values = values_of(await scrape(client))
    assert value(values, "somos_http_requests_total", method="GET",
                 route="/explota/{report_id}", status="5xx") == 1


async def test_background_loops_report_their_last_success(app: FastAPI, store: Store) -> None:
    metrics = app.state.metrics
    started = time.time()
    tasks = start_background(store, None, succeeded=metrics.background_succeeded,
                             alerts=(Rule(), 3600.0))
    try:
        for _ in range(200):
            values = values_of((await metrics.render(store)).decode())
            done = {dict(labels)["task"] for name, labels in values
                    if name == "somos_background_last_success_timestamp_seconds"}
            if done == {"expiry", "escalation", "audit", "alerts", "memory"}:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"loops never reported success: {done}")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    stamp = value(values, "somos_background_last_success_timestamp_seconds", task="escalation")
    assert started <= stamp <= time.time()


async def test_without_a_token_only_this_machine_may_scrape(app: FastAPI) -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1"):
        async with client_from(app, host) as client:
            await scrape(client)
    for host, headers in [
        ("203.0.113.7", {}),
        ("10.0.0.5", {}),
        ("::ffff:203.0.113.7", {}),
        ("testclient", {}),
        # A reverse proxy on this machine connects from 127.0.0.1 and names the real client.
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.7"}),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.7"}),
        ("127.0.0.1", {"X-Real-IP": "203.0.113.7"}),
    ]:
        async with client_from(app, host) as client:
            response = await client.get("/metrics", headers=headers)
        assert response.status_code == 403, (host, headers)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "somos_" not in response.text


async def test_with_a_token_only_its_bearer_may_scrape(store: Store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, fast_kdf=True, metrics_token=TOKEN)
    app = create_app(settings, store=store)
    for host, headers in [
        ("203.0.113.7", {"Authorization": f"Bearer {TOKEN}"}),
        ("127.0.0.1", {"Authorization": f"bearer {TOKEN}"}),
        ("127.0.0.1", {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.7"}),
    ]:
        async with client_from(app, host) as client:
            await scrape(client, headers)
    for host, headers in [
        ("127.0.0.1", {}),  # with a token, being local is not enough
        ("203.0.113.7", {"Authorization": f"Bearer {TOKEN[:-1]}"}),
        ("203.0.113.7", {"Authorization": f"Bearer {TOKEN}x"}),
        ("203.0.113.7", {"Authorization": f"Basic {TOKEN}"}),
        ("203.0.113.7", {"Authorization": TOKEN}),
    ]:
        async with client_from(app, host) as client:
            response = await client.get("/metrics", headers=headers)
        assert response.status_code == 403, (host, headers)


def test_a_short_token_is_refused_and_an_empty_one_means_none(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SOMOS_METRICS_TOKEN"):
        Settings(data_dir=tmp_path, metrics_token="corto")
    assert Settings(data_dir=tmp_path, metrics_token="").metrics_token is None


async def test_without_the_database_the_scrape_still_answers(tmp_path: Path) -> None:
    # No `somos init`: the tables are missing, as they would be if the database broke.
    app = create_app(Settings(data_dir=tmp_path, fast_kdf=True))
    try:
        async with client_for(app) as client:
            assert (await client.get("/healthz")).status_code == 200
            values = values_of(await scrape(client))
    finally:
        await app.state.store.close()
    assert value(values, "somos_database_up") == 0
    assert value(values, "somos_http_requests_total", method="GET", route="/healthz",
                 status="2xx") == 1
    assert not any(name == "somos_reports_overdue" for name, _ in values)
