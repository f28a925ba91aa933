"""Slow, epoch-scoped chat pseudonyms, against someone holding the database and the key file.

The cost of a guess is measured in bench/pseudonym_guessing.py (timings never decide a
test); here: what the pseudonym is, that the fast keyed hash of a chat id finds nothing,
that a right guess with the epoch's pepper does (so the attack the bench times is the
real one), and that once an epoch's window has passed its pepper and its rows are gone.
"""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2.low_level import Type, hash_secret_raw
from sqlalchemy import text
from sqlmodel import select

from storage import epochs
from storage.attachments import File, put_draft_attachment, read_draft_attachments
from storage.chats import count_attempt, record_messages, set_locale, take_messages
from storage.db import checkpoint_wal, create_engine, create_session_factory, transaction
from storage.drafts import load_draft, save_draft
from storage.epochs import (
    EPOCH_LENGTH,
    KEPT_AFTER_END,
    PSEUDONYM_ARGON2,
    Epoch,
    carry_draft_over,
    end_epochs,
    epoch_start,
    open_epoch,
)
from storage.keyfile import load_keyring
from storage.models import (
    ChatEpoch,
    ChatPreference,
    ChatTrace,
    Draft,
    DraftAttachment,
    RateLimit,
)
from storage.store import Store

NOW = datetime(2026, 11, 28, 15, 42, tzinfo=UTC)  # the epoch that began at 09:00 UTC
CHATS = (7_100_000_001, 7_100_000_002, 7_300_555_123)
TTL = timedelta(minutes=30)
PHOTO = File({"kind": "photo", "mime": "image/jpeg", "size": 9}, b"\xff\xd8\xff-photo")


async def chat_rows(store: Store, chat_id: int, now: datetime) -> str:
    """Everything a chat leaves: draft, file, message ids, language, rate limit."""
    pseudonym = await store.chats.current(chat_id, now=now)
    async with store.transaction() as session:
        await save_draft(session=session, keyring=store.keyring, pseudonym=pseudonym,
                         state_json='{"step": "threat.what"}', now=now, ttl=TTL)
        await put_draft_attachment(session=session, keyring=store.keyring, pseudonym=pseudonym,
                                   file=PHOTO, now=now, ttl=TTL)
        await record_messages(session=session, keyring=store.keyring, pseudonym=pseudonym,
                              message_ids=[11, 12], now=now)
        await set_locale(session=session, pseudonym=pseudonym, locale="en")
        await count_attempt(session=session, key=f"{pseudonym}:messages",
                            window=timedelta(minutes=1), now=now)
    return pseudonym


async def stored_names(store: Store) -> list[str]:
    """Every chat key in the database, as the attacker reads it."""
    async with store.transaction() as session:
        names: list[str] = []
        for _model, column in epochs.KEYED_BY_CHAT:
            names += [str(name) for name in (await session.exec(select(column))).all()]
    return names


def test_a_pseudonym_is_argon2id_salted_with_the_epoch_pepper() -> None:
    # Three passes over 32 MiB: ~27 ms of hashing a guess even with libsodium and a reused
    # buffer, above the 20 ms and 16 MiB the issue asks (bench/RESULTS.md); the test pins
    # the parameters, not the clock.
    assert PSEUDONYM_ARGON2.memory_cost >= 16 * 1024
    assert PSEUDONYM_ARGON2.memory_cost * PSEUDONYM_ARGON2.time_cost >= 3 * 32 * 1024
    for pepper, params in ((bytes(range(16)), PSEUDONYM_ARGON2),
                           (bytes(range(32)), epochs.EARLIER_PSEUDONYM_ARGON2)):
        epoch = Epoch(id="2026112809", starts_at=epoch_start(NOW), pepper=pepper)
        expected = hash_secret_raw(b"chat\x00" + str(CHATS[0]).encode(), epoch.pepper,
                                   params.time_cost, params.memory_cost,
                                   params.parallelism, epochs.PSEUDONYM_BYTES, Type.ID)
        name = epochs.pseudonym_in(epoch, CHATS[0])
        assert name == "2026112809." + expected.hex()
        assert len(name) <= 64  # the width of every pseudonym column
        other = Epoch(id="2026112909", starts_at=epoch.starts_at + EPOCH_LENGTH,
                      pepper=bytes(len(pepper)))
        assert epochs.pseudonym_in(other, CHATS[0]).partition(".")[2] != expected.hex()


async def test_the_store_uses_the_slow_parameters(store: Store) -> None:
    assert store.chats.params == PSEUDONYM_ARGON2


async def test_with_the_database_and_the_key_file_only_the_slow_hash_finds_a_chat(
    store: Store, tmp_path: Path
) -> None:
    for chat_id in CHATS:
        await chat_rows(store, chat_id, NOW)

    # The attacker's copy: the key file as it is on disk, the database through its own engine.
    keyring = load_keyring(tmp_path / "keys.json")
    url = store.engine.url  # the store's own database, reached through another engine
    engine = create_engine(url.set(drivername=url.get_backend_name()).render_as_string(
        hide_password=False))
    try:
        async with transaction(create_session_factory(engine)) as session:
            (row,) = (await session.exec(select(ChatEpoch))).all()
            names = set()
            for _model, column in epochs.KEYED_BY_CHAT:
                names |= {str(n).partition(":")[0] for n in (await session.exec(select(column)))}
    finally:
        await engine.dispose()
    assert len(names) == len(CHATS)
    everything = " ".join(names)
    for chat_id in CHATS:
        assert str(chat_id) not in everything
        # The old pseudonym, a fast keyed hash of the id, under every pepper of the key file.
        for pepper_id in keyring.peppers:
            assert keyring.pseudonym(chat_id, "chat", pepper_id=pepper_id) not in everything
    # The stored epoch pepper, opened with the key file, and one Argon2id per guess.
    pepper = keyring.open(row.crypto_pepper, epochs.epoch_aad(row.id))
    epoch = Epoch(id=row.id, starts_at=row.starts_at, pepper=pepper)
    assert {epochs.pseudonym_in(epoch, chat_id) for chat_id in CHATS} == names
    assert epochs.pseudonym_in(epoch, 7_100_000_004) not in names


async def test_each_chat_is_hashed_once_per_epoch_in_a_worker_thread(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    slow = epochs.pseudonym_in

    def counted(epoch: Epoch, chat_id: int | str, **params: object) -> str:
        threads.append(threading.current_thread())
        return slow(epoch, chat_id)

    monkeypatch.setattr(epochs, "pseudonym_in", counted)
    first = await store.chats.current(CHATS[0], now=NOW)
    assert await store.chats.current(CHATS[0], now=NOW + timedelta(hours=1)) == first
    assert await store.chats.current(str(CHATS[0]), now=NOW) == first
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    following = await store.chats.current(CHATS[0], now=NOW + EPOCH_LENGTH)
    assert following != first and len(threads) == 2
    assert await store.chats.live(CHATS[0], now=NOW + EPOCH_LENGTH) == [following, first]
    assert len(threads) == 2


async def test_after_its_window_an_epochs_pepper_and_rows_are_gone(
    store: Store, tmp_path: Path
) -> None:
    old = [await chat_rows(store, chat_id, NOW) for chat_id in CHATS]
    later = NOW + EPOCH_LENGTH
    kept = await chat_rows(store, CHATS[0], later)
    async with store.transaction() as session:
        old_epoch = await open_epoch(session=session, keyring=store.keyring, now=NOW)
        row = await session.get(ChatEpoch, old_epoch.id)
        assert row is not None
        sealed = row.crypto_pepper
    files = [tmp_path / "somos.db", tmp_path / "somos.db-wal"]
    if store.engine.dialect.name == "sqlite":
        assert any(sealed in f.read_bytes() for f in files if f.exists())  # the control

    # The wipe may still need the old epoch's message ids until the window ends.
    window_end = epoch_start(NOW) + EPOCH_LENGTH + KEPT_AFTER_END
    async with store.transaction() as session:
        assert await end_epochs(session=session, now=window_end - timedelta(minutes=1)) == []
    assert set(await store.chats.live(CHATS[0], now=window_end - timedelta(minutes=1))) == {
        old[0], kept}

    async with store.transaction() as session:
        assert await end_epochs(session=session, now=window_end) == [old_epoch.id]
    await checkpoint_wal(store.engine)

    names = await stored_names(store)
    assert not [n for n in names if n.startswith(f"{old_epoch.id}.")]
    assert kept in names and f"{kept}:messages" in names
    async with store.transaction() as session:
        assert await session.get(ChatEpoch, old_epoch.id) is None
        assert await session.get(ChatEpoch, kept.partition(".")[0]) is not None
        assert (await session.exec(select(ChatPreference))).all() != []
    assert await store.chats.live(CHATS[0], now=window_end) == [kept]
    # Never in the key file, and gone from the database that held it.
    key_file = (tmp_path / "keys.json").read_text()
    assert base64.b64encode(old_epoch.pepper).decode() not in key_file
    assert old_epoch.pepper not in load_keyring(tmp_path / "keys.json").peppers.values()
    if store.engine.dialect.name == "sqlite":
        async with store.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA secure_delete"))).scalar() == 1
        for f in files:
            if f.exists():
                assert sealed not in f.read_bytes(), f.name
                assert old_epoch.pepper not in f.read_bytes(), f.name


async def test_a_draft_and_its_files_move_to_the_new_epoch(store: Store) -> None:
    boundary = epoch_start(NOW) + EPOCH_LENGTH
    before = await chat_rows(store, CHATS[0], boundary - timedelta(minutes=5))
    after = boundary + timedelta(minutes=5)
    assert await store.chats.previous(CHATS[0], now=after, within=TTL) == before
    assert await store.chats.previous(CHATS[0], now=boundary + TTL, within=TTL) is None
    current = await store.chats.current(CHATS[0], now=after)
    async with store.transaction() as session:
        assert await carry_draft_over(session=session, keyring=store.keyring, source=before,
                                      target=current, now=after)
    async with store.transaction() as session:
        assert await load_draft(session=session, keyring=store.keyring, pseudonym=current,
                                now=after) == '{"step": "threat.what"}'
        assert await session.get(Draft, before) is None
        (ref,) = (await session.exec(select(DraftAttachment.id))).all()
        files = await read_draft_attachments(session=session, keyring=store.keyring,
                                             pseudonym=current, refs=[ref])
        assert [f.data for f in files] == [PHOTO.data]
        # The message ids stay where they were recorded: the wipe reads every live epoch.
        assert await take_messages(session=session, keyring=store.keyring, pseudonym=before,
                                   now=after) == [12, 11]
        assert await session.get(ChatTrace, current) is None
        assert await session.get(RateLimit, f"{before}:messages") is not None
        # Nothing to carry the second time.
        assert not await carry_draft_over(session=session, keyring=store.keyring,
                                          source=before, target=current, now=after)
