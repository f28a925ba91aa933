"""Conversation drafts: one row per pseudonymous chat, sealed with the server key."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.keyfile import Keyring
from storage.models import Draft, floor_minute


def draft_aad(pseudonym: str) -> bytes:
    return b"somos/v1/draft\x00" + pseudonym.encode()


async def load_draft(
    *, session: AsyncSession, keyring: Keyring, pseudonym: str, now: datetime
) -> str | None:
    """The draft's JSON, or None if there is none or it expired (an expired one is deleted).

    The row stays locked until the caller's transaction ends (PostgreSQL), so two updates
    of one chat handled at once take turns instead of both confirming the same report.
    """
    draft = await session.get(Draft, pseudonym, with_for_update=True)
    if draft is None:
        return None
    if draft.expires_at <= now:
        await session.delete(draft)
        await session.flush()
        return None
    return keyring.open(draft.crypto_state, draft_aad(pseudonym)).decode()


async def save_draft(
    *,
    session: AsyncSession,
    keyring: Keyring,
    pseudonym: str,
    state_json: str,
    now: datetime,
    ttl: timedelta,
) -> None:
    sealed = keyring.seal(state_json.encode(), draft_aad(pseudonym))
    expires_at = floor_minute(now) + ttl
    draft = await session.get(Draft, pseudonym)
    if draft is None:
        session.add(Draft(pseudonym=pseudonym, crypto_state=sealed, expires_at=expires_at))
    else:
        draft.crypto_state = sealed
        draft.expires_at = expires_at
        session.add(draft)
    await session.flush()


async def delete_draft(*, session: AsyncSession, pseudonym: str) -> None:
    await session.exec(delete(Draft).where(col(Draft.pseudonym) == pseudonym))


async def expire_drafts(*, session: AsyncSession, now: datetime) -> int:
    query = select(Draft.pseudonym).where(col(Draft.expires_at) <= now)
    expired = (await session.exec(query)).all()
    if expired:
        await session.exec(delete(Draft).where(col(Draft.pseudonym).in_(expired)))
    return len(expired)
