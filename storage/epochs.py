"""Chat pseudonyms: Argon2id of the chat id, salted with the secret pepper of a day's epoch.

Telegram user ids are a small space (about 10^10): a fast keyed hash of them is reversed
in core-hours by whoever holds the database and the key file. So a chat is named by a
slow, memory-hard hash (`PSEUDONYM_ARGON2`: tens of milliseconds of CPU and 32 MiB for
each guess, CPU-years for the whole id space; bench/pseudonym_guessing.py), under a
pepper that serves one epoch and is destroyed, with every row keyed under it, once
nothing keyed by it can still be needed. After that there is nothing left to guess at.

A pseudonym begins with its epoch's id (`2026112909.` and 48 hex digits), so the rows of
an epoch can be found and deleted without computing anything. Epoch peppers live in the
database sealed with the server key: replicas share them, keys given in the environment
need no writable file, and `somos keys rotate` reseals them (`storage.rotation`). Each
process computes a chat's pseudonym once per epoch, in a worker thread, and keeps it in
memory while a draft may live.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import crypto
from storage.attachments import draft_attachment_aad
from storage.chats import DELETE_WINDOW
from storage.db import SessionFactory, is_postgresql, transaction
from storage.drafts import draft_aad
from storage.keyfile import Keyring
from storage.models import (
    ChatEpoch,
    ChatPreference,
    ChatTrace,
    Draft,
    DraftAttachment,
    RateLimit,
)

# A guess costs the attacker what a new chat costs the server: at least 20 ms of CPU and
# 16 MiB, even with the fastest code (libsodium) and a buffer reused from guess to guess
# (three passes over 32 MiB: ~27 ms of hashing here; bench/RESULTS.md).
PSEUDONYM_ARGON2: Final = crypto.Argon2Params(time_cost=3, memory_cost=32 * 1024, parallelism=1)
# Epochs begun before, with 32-byte peppers, keyed their rows with two passes (~19 ms with
# libsodium's code, which made the 20 ms promise depend on the attacker's own tools).
EARLIER_PSEUDONYM_ARGON2: Final = crypto.Argon2Params(time_cost=2, memory_cost=32 * 1024,
                                                      parallelism=1)
PSEUDONYM_BYTES: Final = 24
# The pepper is Argon2id's salt: 16 secret random bytes (128 bits), the size libsodium's
# Argon2id takes (storage.crypto.argon2id). Epochs begun before it have 32.
PEPPER_BYTES: Final = crypto.SALT_BYTES
EPOCH_LENGTH: Final = timedelta(hours=24)
# Epochs turn at 09:00 UTC, 4 a.m. in Colombia (UTC-5 all year): few conversations
# are open then to be carried across, or lose their language preference.
EPOCH_ORIGIN: Final = datetime(2026, 1, 1, 9, tzinfo=UTC)
# How long a pepper outlives its epoch. A chat trace (message ids for the wipe) lasts 49
# hours after the chat's last message: Telegram's 48-hour delete window and the hour
# the row is rounded to. One hour more covers a pseudonym computed just before the
# epoch turned and used after. Drafts (at most a day, settings; carried to the next
# epoch anyway) and rate limits (purged after a day) end sooner.
KEPT_AFTER_END: Final = DELETE_WINDOW + timedelta(hours=2)
# The Argon2 runs at once in one process: each holds 32 MiB.
CONCURRENT_HASHES: Final = 2


# Every row keyed by a chat's pseudonym (rate-limit keys begin with it).
KEYED_BY_CHAT: Final[tuple[tuple[type[SQLModel], Any], ...]] = (
    (Draft, Draft.pseudonym),
    (DraftAttachment, DraftAttachment.pseudonym),
    (ChatTrace, ChatTrace.pseudonym),
    (ChatPreference, ChatPreference.pseudonym),
    (RateLimit, RateLimit.key),
)


def epoch_aad(epoch_id: str) -> bytes:
    return b"somos/v1/chat-epoch\x00" + epoch_id.encode()


def epoch_start(now: datetime) -> datetime:
    """When the epoch that `now` falls in began."""
    return EPOCH_ORIGIN + ((now - EPOCH_ORIGIN) // EPOCH_LENGTH) * EPOCH_LENGTH


def epoch_id(starts_at: datetime) -> str:
    return starts_at.astimezone(UTC).strftime("%Y%m%d%H")


def epoch_prefix(epoch_id: str) -> str:
    """What every pseudonym of the epoch begins with."""
    return f"{epoch_id}."


@dataclass(frozen=True)
class Epoch:
    """An epoch with its pepper opened (kept in process memory, never logged)."""

    id: str
    starts_at: datetime
    pepper: bytes = field(repr=False)

    @property
    def forgotten_at(self) -> datetime:
        """When its pepper and every row keyed under it are deleted."""
        return self.starts_at + EPOCH_LENGTH + KEPT_AFTER_END


def pseudonym_in(
    epoch: Epoch, chat_id: int | str, *, params: crypto.Argon2Params = PSEUDONYM_ARGON2
) -> str:
    """Epoch id, then Argon2id(chat id) with the epoch's secret pepper as salt (slow: call
    it from a worker thread). An epoch begun before three passes keeps its two."""
    if params == PSEUDONYM_ARGON2 and len(epoch.pepper) != PEPPER_BYTES:
        params = EARLIER_PSEUDONYM_ARGON2
    digest = crypto.argon2id(f"chat\x00{chat_id}".encode(), epoch.pepper,
                             length=PSEUDONYM_BYTES, params=params)
    return epoch_prefix(epoch.id) + digest.hex()


def _opened(keyring: Keyring, row: ChatEpoch) -> Epoch:
    pepper = keyring.open(row.crypto_pepper, epoch_aad(row.id))
    return Epoch(id=row.id, starts_at=row.starts_at, pepper=pepper)


async def open_epoch(*, session: AsyncSession, keyring: Keyring, now: datetime) -> Epoch:
    """The epoch `now` falls in, begun with a fresh random pepper if nobody has yet."""
    starts_at = epoch_start(now)
    key = epoch_id(starts_at)
    row = await session.get(ChatEpoch, key)
    if row is None:
        table = ChatEpoch.__table__  # type: ignore[attr-defined]
        insert = pg_insert if is_postgresql(session) else sqlite_insert
        sealed = keyring.seal(os.urandom(PEPPER_BYTES), epoch_aad(key))
        # Two replicas may begin it at once: the first pepper stays, the other is dropped.
        await session.exec(insert(table).values(id=key, starts_at=starts_at,
                                                crypto_pepper=sealed)
                           .on_conflict_do_nothing(index_elements=[table.c.id]))
        row = (await session.exec(select(ChatEpoch).where(col(ChatEpoch.id) == key))).one()
    return _opened(keyring, row)


async def find_epoch(
    *, session: AsyncSession, keyring: Keyring, epoch_id: str
) -> Epoch | None:
    row = await session.get(ChatEpoch, epoch_id)
    return None if row is None else _opened(keyring, row)


async def live_epochs(*, session: AsyncSession, keyring: Keyring, now: datetime) -> list[Epoch]:
    """Every epoch begun by `now` whose rows may still be needed, newest first."""
    rows = (await session.exec(
        select(ChatEpoch)
        .where(col(ChatEpoch.starts_at) > now - EPOCH_LENGTH - KEPT_AFTER_END)
        .where(col(ChatEpoch.starts_at) <= now)
        .order_by(col(ChatEpoch.starts_at).desc())
    )).all()
    return [_opened(keyring, row) for row in rows]


async def end_epochs(*, session: AsyncSession, now: datetime) -> list[str]:
    """Deletes every epoch past its window, its pepper and every row keyed under it
    (drafts, their files, traces, language preferences, rate limits); returns the ids."""
    ended = list((await session.exec(
        select(ChatEpoch.id)
        .where(col(ChatEpoch.starts_at) <= now - EPOCH_LENGTH - KEPT_AFTER_END)
    )).all())
    for key in ended:
        prefix = epoch_prefix(key)
        for model, column in KEYED_BY_CHAT:
            await session.exec(delete(model).where(col(column).startswith(prefix,
                                                                         autoescape=True)))
        await session.exec(delete(ChatEpoch).where(col(ChatEpoch.id) == key))
    return ended


async def carry_draft_over(
    *, session: AsyncSession, keyring: Keyring, source: str, target: str, now: datetime
) -> bool:
    """Moves a chat's open draft and its files from its pseudonym in the previous epoch to
    the current one (sealed again: the pseudonym is their associated data); says whether
    there was one. Only rows of the chat are written."""
    draft = await session.get(Draft, source, with_for_update=True)
    if draft is None:
        return False
    files = (await session.exec(
        select(DraftAttachment).where(col(DraftAttachment.pseudonym) == source)
    )).all()
    if draft.expires_at > now and await session.get(Draft, target) is None:
        state = keyring.open(draft.crypto_state, draft_aad(source))
        session.add(Draft(pseudonym=target, crypto_state=keyring.seal(state, draft_aad(target)),
                          expires_at=draft.expires_at))
        for file in files:
            blob = keyring.open(file.crypto_blob, draft_attachment_aad(source, file.id))
            file.crypto_blob = keyring.seal(blob, draft_attachment_aad(target, file.id))
            file.pseudonym = target
            session.add(file)
    else:
        for file in files:
            await session.delete(file)
    await session.delete(draft)
    await session.flush()
    return True


class ChatPseudonyms:
    """Each chat's pseudonym per epoch, computed once per process (in a worker thread:
    Argon2id takes tens of milliseconds) and kept in memory, with the epochs' peppers,
    while a draft may live. A bounded cache: the least recently used chats go first."""

    def __init__(
        self, *, sessions: SessionFactory, keyring: Keyring,
        params: crypto.Argon2Params = PSEUDONYM_ARGON2,
        keep_for: timedelta = timedelta(minutes=30), max_chats: int = 4096,
    ) -> None:
        self.params = params
        self._sessions = sessions
        self._keyring = keyring
        self._keep_for = keep_for.total_seconds()
        self._max_chats = max_chats
        self._epochs: dict[str, Epoch] = {}
        self._names: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()
        self._slots = threading.BoundedSemaphore(CONCURRENT_HASHES)

    async def current(self, chat_id: int | str, *, now: datetime) -> str:
        """The chat's pseudonym in the epoch `now` falls in (begun if need be)."""
        self._forget_ended(now)
        epoch = self._epochs.get(epoch_id(epoch_start(now)))
        if epoch is None:
            async with transaction(self._sessions) as session:
                epoch = await open_epoch(session=session, keyring=self._keyring, now=now)
            self._epochs[epoch.id] = epoch
        return await self._name(epoch, chat_id)

    async def previous(
        self, chat_id: int | str, *, now: datetime, within: timedelta
    ) -> str | None:
        """The chat's pseudonym in the previous epoch, if the current one began less than
        `within` (a draft's lifetime) ago and the previous one exists: a draft begun just
        before the epoch turned may still be open there."""
        starts_at = epoch_start(now)
        if now - starts_at >= within:
            return None
        self._forget_ended(now)
        key = epoch_id(starts_at - EPOCH_LENGTH)
        epoch = self._epochs.get(key)
        if epoch is None:
            async with transaction(self._sessions) as session:
                epoch = await find_epoch(session=session, keyring=self._keyring, epoch_id=key)
            if epoch is None:
                return None
            self._epochs[key] = epoch
        return await self._name(epoch, chat_id)

    async def live(self, chat_id: int | str, *, now: datetime) -> list[str]:
        """The chat's pseudonym in every epoch whose rows may still be needed, newest first
        (the wipe reads message ids up to 48 hours old)."""
        self._forget_ended(now)
        async with transaction(self._sessions) as session:
            epochs = await live_epochs(session=session, keyring=self._keyring, now=now)
        self._epochs.update((epoch.id, epoch) for epoch in epochs)
        return [await self._name(epoch, chat_id) for epoch in epochs]

    def _forget_ended(self, now: datetime) -> None:
        ended = {k for k, epoch in self._epochs.items() if epoch.forgotten_at <= now}
        for key in ended:
            del self._epochs[key]
        for name in [name for name in self._names if name[0] in ended]:
            del self._names[name]
        clock = time.monotonic()
        while self._names and next(iter(self._names.values()))[1] <= clock:
            self._names.popitem(last=False)

    async def _name(self, epoch: Epoch, chat_id: int | str) -> str:
        key = (epoch.id, str(chat_id))
        cached = self._names.pop(key, None)
        name = cached[0] if cached else await asyncio.to_thread(self._hash, epoch, chat_id)
        # Most recently used last, so the expired and the least used are at the front.
        self._names[key] = (name, time.monotonic() + self._keep_for)
        while len(self._names) > self._max_chats:
            self._names.popitem(last=False)
        return name

    def _hash(self, epoch: Epoch, chat_id: int | str) -> str:
        with self._slots:
            return pseudonym_in(epoch, chat_id, params=self.params)
