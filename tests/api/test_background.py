"""The server's expiry loop turns chat epochs: it begins the day's and destroys the old."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from api.background import expire
from storage.epochs import EPOCH_LENGTH, KEPT_AFTER_END, epoch_id, epoch_start
from storage.models import ChatEpoch, ChatPreference
from storage.store import Store

NOW = datetime(2026, 11, 28, 15, 42, tzinfo=UTC)


async def epoch_ids(store: Store) -> list[str]:
    async with store.transaction() as session:
        return sorted((await session.exec(select(ChatEpoch.id))).all())


async def test_the_expiry_begins_the_epoch_and_destroys_it_after_its_window(
    store: Store,
) -> None:
    await expire(store, now=NOW)
    first = epoch_id(epoch_start(NOW))
    assert await epoch_ids(store) == [first]
    pseudonym = await store.chats.current(7_100_000_001, now=NOW)
    async with store.transaction() as session:
        session.add(ChatPreference(pseudonym=pseudonym, locale="en"))

    window_end = epoch_start(NOW) + EPOCH_LENGTH + KEPT_AFTER_END
    await expire(store, now=window_end)
    assert await epoch_ids(store) == [epoch_id(epoch_start(window_end))]
    async with store.transaction() as session:
        assert await session.get(ChatPreference, pseudonym) is None
