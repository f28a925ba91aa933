"""Acceptance: a resident reports a threat in Tumaco on Telegram; its focal point reads it.

`somos serve` runs as a subprocess, polling the local Bot API double over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from storage.models import AuditEntry, PendingAuditEntry
from storage.store import open_store
from tests.support.botapi import BotApiDouble
from tests.support.databases import FreshDatabase
from tests.support.harness import Somos, report_threat, start_server
from tests.support.places import CACERES, TUMACO
from tests.support.totp import fresh_code

pytestmark = pytest.mark.e2e

CHAT_ID = 5839201746
FIRST_NAME = "Marisol"
LAST_NAME = "Quiñones Cortés"
USERNAME = "marisol_tumaco_77"
PASSWORD = "contraseña del punto focal de Tumaco"


@pytest.fixture
def double() -> Iterator[BotApiDouble]:
    with BotApiDouble() as running:
        yield running


def encodings(value: str) -> set[bytes]:
    raw = value.encode()
    return {
        raw, value.encode("utf-16-le"), value.encode("utf-16-be"), raw.hex().encode(),
        raw.hex().upper().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw),
        json.dumps(value).encode(), value.casefold().encode(),
    }


def needles(description: str) -> dict[str, set[bytes]]:
    return {
        "description": encodings(description) | encodings(description[:40]),
        "chat id": encodings(str(CHAT_ID)) | {
            struct.pack("<q", CHAT_ID), struct.pack(">q", CHAT_ID),
        },
        "first name": encodings(FIRST_NAME),
        "last name": encodings(LAST_NAME),
        "username": encodings(USERNAME) | encodings("@" + USERNAME),
    }


def assert_absent(blob: bytes, where: str, description: str) -> None:
    for what, forms in needles(description).items():
        for form in forms:
            assert form not in blob, f"{what} found in {where} as {form[:40]!r}"


def database_dump(url: str) -> bytes:
    """Every row of every table as JSON text (bytea as hex), straight from PostgreSQL."""

    async def dump() -> bytes:
        parsed = make_url(url)
        connection = await asyncpg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
        )
        try:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            chunks: list[bytes] = []
            for table in tables:
                rows = await connection.fetch(
                    f'SELECT row_to_json(t)::text AS row FROM "{table["tablename"]}" t'
                )
                chunks += [row["row"].encode() for row in rows]
            return b"\n".join(chunks)
        finally:
            await connection.close()

    return asyncio.run(dump())


async def reporter_audit_times(url: str, tmp_path: Path) -> set[tuple[int, int]]:
    """(minute, second) of every audit entry of the reporter's, chained or still held."""
    store = open_store(database_url=url, key_file=tmp_path / "unused-keys.json")
    try:
        async with store.transaction() as session:
            chained = (await session.exec(select(AuditEntry).where(
                col(AuditEntry.actor) == "reporter"))).all()
            held = (await session.exec(select(PendingAuditEntry))).all()
    finally:
        await store.close()
    assert held or chained
    return {(entry.at.minute, entry.at.second) for entry in [*chained, *held]}


def test_threat_reported_on_telegram_is_read_by_its_focal_point(
    double: BotApiDouble, database: FreshDatabase, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    somos = Somos(data_dir, database.url, {
        "TELEGRAM_BOT_TOKEN": double.token, "SOMOS_TELEGRAM_API_URL": double.base_url,
    })
    somos.run("init")
    totp_secret = somos.add_user("tumaco", "--role", "focal_point", "--municipality", TUMACO,
                                 password=PASSWORD)
    caceres_secret = somos.add_user("caceres", "--role", "focal_point", "--municipality", CACERES,
                   password=PASSWORD)
    server = start_server(somos, tmp_path / "serve.log")
    description = f"Dejaron un panfleto con la lista de líderes de la vereda {uuid.uuid4()}"
    try:
        user = double.user(user_id=CHAT_ID, first_name=FIRST_NAME, last_name=LAST_NAME,
                           username=USERNAME)
        logged_before = len(server.log().splitlines())
        code = report_threat(user, description)
        assert len(code) == 16 and code.isdigit()
        time.sleep(4)  # the delivery loop (every 3 s) pings the focal point
        # Whatever the log's clock says, a line written now would date the report to the
        # second (journald and container runtimes stamp every line they receive).
        assert server.log().splitlines()[logged_before:] == []

        token = httpx.post(f"{server.base_url}/api/v1/auth/token", data={
            "username": "tumaco", "password": PASSWORD, "otp": fresh_code(totp_secret),
        }).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        queue = httpx.get(f"{server.base_url}/api/v1/reports", headers=headers).json()["items"]
        assert len(queue) == 1 and queue[0]["municipality_code"] == TUMACO
        assert queue[0]["urgency"] == "high"
        detail = httpx.get(f"{server.base_url}/api/v1/reports/{queue[0]['id']}",
                           headers=headers).json()
        assert detail["answers"]["description"] == description
        assert detail["answers"]["target"] == "target.leader"

        other = httpx.post(f"{server.base_url}/api/v1/auth/token", data={
            "username": "caceres", "password": PASSWORD, "otp": fresh_code(caceres_secret),
        }).json()["access_token"]
        hidden = httpx.get(f"{server.base_url}/api/v1/reports/{queue[0]['id']}",
                           headers={"Authorization": f"Bearer {other}"})
        assert hidden.status_code == 404

        # While the server runs, the SQLite WAL holds the newest pages: look there too.
        for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
            assert_absent(path.read_bytes(), str(path.relative_to(tmp_path)), description)
    finally:
        server.stop()

    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        assert_absent(path.read_bytes(), str(path.relative_to(tmp_path)), description)
    assert_absent(server.log().encode(), "the server log", description)
    assert asyncio.run(reporter_audit_times(database.url, tmp_path)) == {(0, 0)}
    if database.backend == "postgresql":
        assert_absent(database_dump(database.url), "the PostgreSQL tables", description)
