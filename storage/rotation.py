"""Server-key rotation: every blob sealed with the server key moves to the current key.

`Keyring.rotate_server_key` adds a fresh current key; `reseal_all` then opens each
server-sealed column with whichever key sealed it and seals it again under the current
one, so the old key can be retired. Report contents are not touched: they are sealed
for their recipients (HPKE), not with the server key.

Everything the server key seals is in these columns (the follow-up handle of
`storage.followup` lives inside the sealed draft), except the secret of a TOTP
enrollment form open in someone's browser: sealed for that form only, it is not
stored, and after the old key is retired the page asks to start again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alerts import note_aad
from storage.attachments import draft_attachment_aad
from storage.chats import trace_aad
from storage.drafts import draft_aad
from storage.epochs import epoch_aad
from storage.keyfile import Keyring, sealed_key_id
from storage.models import (
    Alert,
    ChatEpoch,
    ChatTrace,
    Draft,
    DraftAttachment,
    OutboxMessage,
    User,
)
from storage.outbox import outbox_aad
from storage.users import telegram_chat_aad, totp_aad

BATCH = 500


@dataclass(frozen=True)
class SealedColumn:
    """A column sealed with the server key, and the associated data it was sealed with."""

    model: type[SQLModel]
    key: str
    column: str
    aad: Callable[[Any], bytes]

    @property
    def name(self) -> str:
        return f"{self.model.__tablename__}.{self.column}"


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(User, "id", "crypto_totp_secret", lambda row: totp_aad(row.id)),
    SealedColumn(User, "id", "crypto_telegram_chat", lambda row: telegram_chat_aad(row.id)),
    SealedColumn(OutboxMessage, "id", "crypto_payload", lambda row: outbox_aad(row.id)),
    SealedColumn(Draft, "pseudonym", "crypto_state", lambda row: draft_aad(row.pseudonym)),
    SealedColumn(DraftAttachment, "id", "crypto_blob",
                 lambda row: draft_attachment_aad(row.pseudonym, row.id)),
    SealedColumn(ChatTrace, "pseudonym", "crypto_messages",
                 lambda row: trace_aad(row.pseudonym)),
    SealedColumn(ChatEpoch, "id", "crypto_pepper", lambda row: epoch_aad(row.id)),
    SealedColumn(Alert, "id", "crypto_note", lambda row: note_aad(row.id)),
)


@dataclass(frozen=True)
class Census:
    """How many sealed blobs each server key id still holds, per column."""

    by_column: dict[str, dict[str, int]]

    def key_ids(self) -> set[str]:
        return {key_id for counts in self.by_column.values() for key_id in counts}

    def total(self) -> int:
        return sum(sum(counts.values()) for counts in self.by_column.values())


async def _sealed_rows(session: AsyncSession, sealed: SealedColumn) -> AsyncIterator[Any]:
    """Rows holding a blob in `sealed`, a batch at a time; each batch is written (if the
    caller changed it) and let go before the next, so memory stays flat."""
    column = getattr(sealed.model, sealed.column)
    key = getattr(sealed.model, sealed.key)
    last: str | None = None
    while True:
        query = select(sealed.model).where(col(column).is_not(None)).order_by(col(key))
        if last is not None:
            query = query.where(col(key) > last)
        rows = (await session.exec(query.limit(BATCH))).all()
        if not rows:
            return
        for row in rows:
            yield row
        last = getattr(rows[-1], sealed.key)
        await session.flush()
        for row in rows:
            session.expunge(row)


async def census(*, session: AsyncSession) -> Census:
    """Counts sealed blobs by the key id in their header (reads no plaintext)."""
    by_column: dict[str, dict[str, int]] = {}
    for sealed in SEALED_COLUMNS:
        counts: dict[str, int] = {}
        async for row in _sealed_rows(session, sealed):
            key_id = sealed_key_id(getattr(row, sealed.column))
            counts[key_id] = counts.get(key_id, 0) + 1
        by_column[sealed.name] = counts
    return Census(by_column)


async def reseal_all(
    *, session: AsyncSession, keyring: Keyring, progress: Callable[[int], None] | None = None,
) -> int:
    """Seals every server-sealed blob not yet under the current key again; returns how many.

    A blob that does not open (tampered, or sealed with a key no longer in the key file)
    raises `DecryptionError` and the caller's transaction rolls back: nothing is half done.
    """
    moved = 0
    current = keyring.current_server_key_id
    for sealed in SEALED_COLUMNS:
        async for row in _sealed_rows(session, sealed):
            blob = getattr(row, sealed.column)
            if sealed_key_id(blob) != current:
                aad = sealed.aad(row)
                setattr(row, sealed.column, keyring.seal(keyring.open(blob, aad), aad))
                session.add(row)
                moved += 1
            if progress is not None:
                progress(1)
    return moved


async def count_sealed(*, session: AsyncSession) -> int:
    """How many server-sealed blobs there are (the progress bar's total)."""
    total = 0
    for sealed in SEALED_COLUMNS:
        column = getattr(sealed.model, sealed.column)
        total += (await session.exec(
            select(func.count()).select_from(sealed.model).where(col(column).is_not(None))
        )).one()
    return total
