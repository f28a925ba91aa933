"""A confirmed report's receipt is derived before its transaction begins.

The receipt's Argon2id takes tens of milliseconds. On SQLite a transaction that has begun
holds the database's only write lock: derived inside it, every other chat's step waited
behind each confirm, and in a burst of 200 people steps failed past the busy timeout
(bench/burst.py). The attacker here is the burst itself: another writer tries to take the
lock at the very moment the receipt is being derived, and must get it at once."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from bot.conversations import Conversations
from flows.conversation import build_flow
from flows.municipalities import Catalog
from storage import receipts
from storage.store import Store
from tests.support.people import THREAT, Person


async def test_another_chat_can_write_while_a_receipt_is_derived(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    path = store.engine.url.database
    assert path
    derive = receipts.derive_receipt_secrets
    probes: list[str] = []

    def derive_and_probe(*args: Any, **kwargs: Any) -> receipts.ReceiptSecrets:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # what the next chat's step does first
            other.execute("ROLLBACK")
            probes.append("free")
        except sqlite3.OperationalError as error:
            probes.append(str(error))
        finally:
            other.close()
        return derive(*args, **kwargs)

    monkeypatch.setattr(receipts, "derive_receipt_secrets", derive_and_probe)
    person = Person(Conversations(store=store, flow=build_flow(Catalog.load())), 4040401)
    await person.do(THREAT)
    assert len(person.receipt()) == 16
    assert probes == ["free"]
