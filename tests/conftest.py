"""Shared fixtures: every storage and API test runs on SQLite and on PostgreSQL.

Each test gets its own freshly created database (a temporary SQLite file, or a
new PostgreSQL database dropped afterwards). An unreachable PostgreSQL is a
failure, not a skip, unless SOMOS_TEST_REQUIRE_POSTGRES=0.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from storage import crypto
from storage.migrate import upgrade
from storage.models import Meta
from storage.recovery import META_RECOVERY_PUBLIC_KEY
from storage.store import Store, open_store
from storage.users import create_user
from tests.totp import fresh_code

POSTGRES_ADMIN_URL = os.environ.get(
    "SOMOS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("SOMOS_TEST_REQUIRE_POSTGRES", "1") != "0"
PASSWORD = "una contraseña larga y segura"


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


async def create_database(backend: str, tmp_path: Path) -> FreshDatabase:
    if backend == "sqlite":
        return FreshDatabase("sqlite", f"sqlite:///{tmp_path / 'somos.db'}")
    name = f"somos_test_{uuid.uuid4().hex[:16]}"
    admin = await _pg_admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    return FreshDatabase("postgresql", url.render_as_string(hide_password=False))


async def drop_database(database: FreshDatabase) -> None:
    if database.backend != "postgresql":
        return
    name = make_url(database.url).database
    admin = await _pg_admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FreshDatabase]:
    fresh = await create_database(request.param, tmp_path)
    try:
        yield fresh
    finally:
        await drop_database(fresh)


@pytest.fixture
def recovery_keys() -> tuple[bytes, bytes]:
    """The organization recovery key pair (private, public) of the test installation."""
    return crypto.generate_keypair()


@pytest.fixture
async def store(
    database: FreshDatabase, tmp_path: Path, recovery_keys: tuple[bytes, bytes]
) -> AsyncIterator[Store]:
    """A migrated database with keys and the organization recovery public key."""
    opened = open_store(database_url=database.url, key_file=tmp_path / "keys.json", fast_kdf=True)
    await upgrade(opened.engine)
    async with opened.transaction() as session:
        session.add(Meta(key=META_RECOVERY_PUBLIC_KEY, value=recovery_keys[1].hex()))
    try:
        yield opened
    finally:
        await opened.close()


@dataclass
class Staff:
    id: str
    username: str
    password: str
    totp_secret: str

    def otp(self) -> str:
        """A code not used before: the server accepts each code once."""
        return fresh_code(self.totp_secret)


async def add_staff(
    store: Store,
    username: str,
    role: str = "focal_point",
    *,
    municipalities: tuple[str, ...] = (),
    departments: tuple[str, ...] = (),
    with_totp: bool = True,
) -> Staff:
    """A staff account; without TOTP it enrolls at its first web sign-in (totp_secret "")."""
    async with store.transaction() as session:
        recovery = await session.get(Meta, META_RECOVERY_PUBLIC_KEY)
        assert recovery is not None
        created = await create_user(
            session=session, keyring=store.keyring, username=username, role=role,
            password=PASSWORD, recovery_public_key=bytes.fromhex(recovery.value),
            municipalities=municipalities, departments=departments, argon2_params=store.argon2,
            with_totp=with_totp,
        )
    return Staff(created.user.id, username, PASSWORD, created.totp_secret or "")


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
