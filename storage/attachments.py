"""Evidence files: sealed with the server key during the conversation, then re-encrypted
with the report's data key when the report is committed."""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import envelope
from storage.db import heavy_ahead
from storage.keyfile import Keyring
from storage.models import Attachment, DraftAttachment, floor_minute, new_id

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class File:
    meta: Mapping[str, Any]
    data: bytes


def _pack(file: File) -> bytes:
    header = json.dumps(dict(file.meta), separators=(",", ":")).encode()
    return struct.pack(">I", len(header)) + header + file.data


def _unpack(blob: bytes) -> File:
    (length,) = struct.unpack(">I", blob[:4])
    return File(json.loads(blob[4 : 4 + length]), blob[4 + length :])


def draft_attachment_aad(pseudonym: str, attachment_id: str) -> bytes:
    return b"somos/v1/draft-attachment\x00" + pseudonym.encode() + b"\x00" + attachment_id.encode()


async def put_draft_attachment(
    *, session: AsyncSession, keyring: Keyring, pseudonym: str, file: File, now: datetime,
    ttl: timedelta,
) -> str:
    """Seals a received file for the conversation and returns its opaque reference."""
    if len(file.data) > MAX_ATTACHMENT_BYTES:
        raise ValueError("attachment too large")
    attachment_id = new_id()
    session.add(
        DraftAttachment(
            id=attachment_id, pseudonym=pseudonym, expires_at=floor_minute(now) + ttl,
            crypto_blob=keyring.seal(_pack(file), draft_attachment_aad(pseudonym, attachment_id)),
        )
    )
    await session.flush()
    return attachment_id


async def read_draft_attachments(
    *, session: AsyncSession, keyring: Keyring, pseudonym: str, refs: Sequence[str]
) -> list[File]:
    """Opens the chat's files named in `refs` (others are ignored). Only reads: the
    report's transaction may call it, and the chat's own transaction forgets the files
    afterwards (`discard_draft_attachments`), so no transaction writes both."""
    if not refs:
        return []
    await heavy_ahead(session)
    rows = (
        await session.exec(
            select(DraftAttachment).where(col(DraftAttachment.pseudonym) == pseudonym)
        )
    ).all()
    by_id = {row.id: row for row in rows}
    files = [
        _unpack(keyring.open(by_id[ref].crypto_blob, draft_attachment_aad(pseudonym, ref)))
        for ref in refs if ref in by_id
    ]
    return files


async def draft_attachment_bytes(*, session: AsyncSession, pseudonym: str) -> int:
    """How many bytes of files the chat's conversation holds (sealed, so a little more than
    the files themselves)."""
    total = (
        await session.exec(
            select(func.coalesce(func.sum(func.length(col(DraftAttachment.crypto_blob))), 0))
            .where(col(DraftAttachment.pseudonym) == pseudonym)
        )
    ).one()
    return int(total)


async def discard_draft_attachments(*, session: AsyncSession, pseudonym: str) -> None:
    held = select(DraftAttachment.id).where(col(DraftAttachment.pseudonym) == pseudonym)
    if (await session.exec(held.limit(1))).first() is None:
        return
    await heavy_ahead(session)  # secure_delete overwrites what the files took
    await session.exec(delete(DraftAttachment).where(col(DraftAttachment.pseudonym) == pseudonym))


async def expire_draft_attachments(*, session: AsyncSession, now: datetime) -> None:
    await session.exec(delete(DraftAttachment).where(col(DraftAttachment.expires_at) <= now))


async def attach_to_report(
    *, session: AsyncSession, report_id: str, data_key: bytes, files: Sequence[File]
) -> list[str]:
    """Stores files under the report's data key; returns their ids."""
    ids: list[str] = []
    for file in files:
        attachment_id = new_id()
        meta = json.dumps(dict(file.meta)).encode()
        session.add(
            Attachment(
                id=attachment_id, report_id=report_id,
                crypto_meta=envelope.encrypt_with_data_key(
                    report_id=report_id, data_key=data_key, plaintext=meta,
                    purpose=f"attachment-meta:{attachment_id}",
                ),
                crypto_blob=envelope.encrypt_with_data_key(
                    report_id=report_id, data_key=data_key, plaintext=file.data,
                    purpose=f"attachment:{attachment_id}",
                ),
            )
        )
        ids.append(attachment_id)
    await session.flush()
    return ids


async def list_attachments(
    *, session: AsyncSession, report_id: str, data_key: bytes
) -> list[dict[str, Any]]:
    rows = (
        await session.exec(select(Attachment).where(col(Attachment.report_id) == report_id))
    ).all()
    listed = []
    for row in rows:
        meta = json.loads(
            envelope.decrypt_with_data_key(
                report_id=report_id, data_key=data_key, ciphertext=row.crypto_meta,
                purpose=f"attachment-meta:{row.id}",
            )
        )
        listed.append({"id": row.id, **meta})
    return sorted(listed, key=lambda item: item["id"])


async def read_attachment(
    *, session: AsyncSession, report_id: str, attachment_id: str, data_key: bytes
) -> File | None:
    row = await session.get(Attachment, attachment_id)
    if row is None or row.report_id != report_id:
        return None
    meta = json.loads(
        envelope.decrypt_with_data_key(
            report_id=report_id, data_key=data_key, ciphertext=row.crypto_meta,
            purpose=f"attachment-meta:{attachment_id}",
        )
    )
    data = envelope.decrypt_with_data_key(
        report_id=report_id, data_key=data_key, ciphertext=row.crypto_blob,
        purpose=f"attachment:{attachment_id}",
    )
    return File(meta, data)
