"""Fixtures for every test: each storage and API test runs on SQLite and on PostgreSQL.

Each test gets its own freshly created database (tests/support/databases.py), so tests
running in parallel (pytest-xdist, `make test`) never share one. Hypothesis runs at fixed
seeds: the same examples on every run and in every worker.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from storage import crypto, users
from storage.migrate import upgrade
from storage.models import Meta
from storage.recovery import META_RECOVERY_PUBLIC_KEY
from storage.store import Store, open_store
from tests.support import fuzzing
from tests.support.databases import (
    FreshDatabase,
    create_database,
    create_migrated_template,
    drop_database,
)

# Fixed seeds (derived from each test): a failure seen once is seen again, on any worker.
# `make fuzz` (SOMOS_FUZZ=1) draws at random instead (tests/support/fuzzing.py).
fuzzing.load()


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """Sign-in password hashes at Argon2's lowest cost, in this process only.

    The product hashes passwords at argon2-cffi's default cost everywhere, SOMOS_FAST_KDF or
    not (docs/ARCHITECTURE.md); each hash or check costs a tenth of a second or more of both
    cores, and the API and page tests make accounts and sign in by the hundred: that was a
    third of the suite's time. Nothing here asserts on the cost. The end-to-end tests run
    the `somos` command, which keeps the default cost.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_hasher",
                      PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
        yield


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database(backend: str, tmp_path: Path) -> AsyncIterator[FreshDatabase]:
    """An empty database (the end-to-end tests run `somos init` on it)."""
    fresh = await create_database(backend, tmp_path)
    try:
        yield fresh
    finally:
        await drop_database(fresh)


class Templates:
    """A migrated database per backend, made on first use, for the stores to copy."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[str, FreshDatabase] = {}

    async def get(self, backend: str) -> FreshDatabase:
        if backend not in self.made:
            self.made[backend] = await create_migrated_template(backend, self.folder / backend)
        return self.made[backend]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    for template in made.made.values():
        asyncio.run(drop_database(template))


@pytest.fixture
def recovery_keys() -> tuple[bytes, bytes]:
    """The organization recovery key pair (private, public) of the test installation."""
    return crypto.generate_keypair()


@pytest.fixture
async def store(
    backend: str, tmp_path: Path, recovery_keys: tuple[bytes, bytes], templates: Templates
) -> AsyncIterator[Store]:
    """A new migrated database (a copy of the template) with keys and the organization
    recovery public key."""
    fresh = await create_database(backend, tmp_path, await templates.get(backend))
    try:
        opened = open_store(database_url=fresh.url, key_file=tmp_path / "keys.json",
                            fast_kdf=True)
        try:
            await upgrade(opened.engine)  # nothing to do on the copy: it is at head
            async with opened.transaction() as session:
                session.add(Meta(key=META_RECOVERY_PUBLIC_KEY, value=recovery_keys[1].hex()))
            yield opened
        finally:
            await opened.close()
    finally:
        await drop_database(fresh)


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent


def missing_browser() -> str | None:
    """Why the browser journeys cannot run here, when they may be left out (outside CI)."""
    chromium = os.environ.get("SOMOS_TEST_CHROMIUM", "/usr/bin/chromium")
    if Path(chromium).exists() or os.environ.get("SOMOS_TEST_REQUIRE_BROWSER") == "1":
        return None
    return (f"PRUEBAS DE NAVEGADOR OMITIDAS: no está Chromium en {chromium}. "
            "Instálelo con `apt-get install chromium`; CI (.ci/run) las exige.")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One loud line, never a silent gap, when the browser journeys were left out."""
    if (reason := missing_browser()) is not None:
        terminalreporter.write_line(reason, yellow=True, bold=True)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if missing_browser() is not None:
        left_out = [item for item in items if item.get_closest_marker("browser")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("browser")]
    """In parallel (pytest-xdist), the end-to-end tests start first: each waits on `somos`
    subprocesses for seconds to a minute, and one started last would keep the whole run
    waiting on a single worker. Run serially, the order stays as collected."""
    if not hasattr(config, "workerinput"):
        return
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
    if getattr(config.option, "loadgroup", False):
        _keep_xdist_groups(items)


def _keep_xdist_groups(items: list[pytest.Item]) -> None:
    """`--dist loadgroup` sends the tests of one `xdist_group` to one worker by reading a
    "@group" suffix that pytest-xdist 3.8 adds to their node ids; pytest 9.2 keeps node ids
    elsewhere, so the suffix is lost and the group is spread over workers (pytest-xdist
    issue #1386). Until pytest-xdist adds it where pytest keeps it, this does; where the
    suffix is already there (older pytest, a fixed pytest-xdist) it does nothing."""
    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        node_id = getattr(item, "_id", None)
        if names and node_id is not None and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = type(node_id).parse(f"{item.nodeid}@{'_'.join(names)}")
