"""A fresh database per test: a temporary SQLite file, or a new PostgreSQL database.

An unreachable PostgreSQL is a failure, not a skip, unless SOMOS_TEST_REQUIRE_POSTGRES=0.
Each PostgreSQL database has a random name, so tests in parallel never share one.

A migrated database is a copy of a template the migrations built once per test session
(per worker): `CREATE DATABASE … TEMPLATE`, or a copy of the SQLite file. Running the
migrations again for every test cost a third of a second on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "SOMOS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("SOMOS_TEST_REQUIRE_POSTGRES", "1") != "0"


async def _pg_admin() -> asyncpg.Connection:
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        return await asyncpg.connect(
            host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
            password=url.password, database=url.database or "postgres", timeout=10,
        )
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL no responde en {url.host}:{url.port} ({error}): ¿está iniciado?"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class FreshDatabase:
    backend: str
    url: str


async def create_database(
    backend: str, tmp_path: Path, template: FreshDatabase | None = None
) -> FreshDatabase:
    """An empty database, or a copy of `template` (of the same backend)."""
    if backend == "sqlite":
        path = tmp_path / "somos.db"
        if template is not None:
            shutil.copyfile(str(make_url(template.url).database), path)
        return FreshDatabase("sqlite", f"sqlite:///{path}")
    name = f"somos_test_{uuid.uuid4().hex[:16]}"
    copy = f' TEMPLATE "{make_url(template.url).database}"' if template is not None else ""
    admin = await _pg_admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    return FreshDatabase("postgresql", url.render_as_string(hide_password=False))


async def create_migrated_template(backend: str, folder: Path) -> FreshDatabase:
    """A database with every migration applied and nobody connected, to copy from."""
    folder.mkdir(parents=True, exist_ok=True)
    template = await create_database(backend, folder)
    engine = create_engine(template.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return template


async def drop_database(database: FreshDatabase) -> None:
    if database.backend != "postgresql":
        return
    name = make_url(database.url).database
    admin = await _pg_admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
