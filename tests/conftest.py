"""Fixtures for every test: each storage and API test runs on SQLite and on PostgreSQL.

Each test gets its own freshly created database (tests/support/databases.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from storage import crypto
from storage.migrate import upgrade
from storage.models import Meta
from storage.reports import META_RECOVERY_PUBLIC_KEY
from storage.store import Store, open_store
from tests.support.databases import FreshDatabase, create_database, drop_database


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


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent
