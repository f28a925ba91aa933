"""Conversation drafts: one row per pseudonymous chat, sealed with the server key.

A draft that expires with a report half answered is not forgotten silently: its row stays,
its state replaced by an empty sealed one (a *notice*), so the chat's next message can be
told that the unfinished report was deleted. The notice goes with that message, or after
`NOTICE_KEPT`, or with the chat's epoch (storage/epochs.py), whichever comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import DecryptionError
from storage.db import dialect_of, forget_loaded, run, upsert
from storage.keyfile import Keyring
from storage.models import Draft, floor_hour, floor_minute

# A chat is named by a day-long epoch's pseudonym: a notice kept longer could not be
# found by the chat's next message anyway.
NOTICE_KEPT = timedelta(hours=24)
# The first byte of a sealed draft: whether its expiry should be told (a report or survey
# half answered). Drafts sealed before it begin with "{" and are not told.
_UNFINISHED, _OTHER = b"\x01", b"\x00"
_NOTICE = b""


@dataclass(frozen=True)
class OpenedDraft:
    """A chat's draft as its next message finds it."""

    state: str | None = None
    # An unfinished report of this chat expired since its last message (told once).
    expired: bool = False


def draft_aad(pseudonym: str) -> bytes:
    return b"somos/v1/draft\x00" + pseudonym.encode()


def _opened(keyring: Keyring, pseudonym: str, sealed: bytes) -> bytes | None:
    """The sealed bytes (header and state, or the empty notice); None if they no longer
    open (a retired key)."""
    try:
        return keyring.open(sealed, draft_aad(pseudonym))
    except DecryptionError:
        return None


_DRAFTS = Draft.__table__  # type: ignore[attr-defined]
# Built once: a draft is read and written on every update (storage.db.run).
_READ = (select(_DRAFTS.c.crypto_state, _DRAFTS.c.expires_at)
         .where(_DRAFTS.c.pseudonym == bindparam("pseudonym")).with_for_update())
_FORGET = delete(_DRAFTS).where(_DRAFTS.c.pseudonym == bindparam("pseudonym"))


async def open_draft(
    *, session: AsyncSession, keyring: Keyring, pseudonym: str, now: datetime
) -> OpenedDraft:
    """The live draft's JSON, or whether an unfinished one expired; an expired draft or a
    notice is deleted as it is read.

    The row stays locked until the caller's transaction ends (PostgreSQL), so two updates
    of one chat handled at once take turns instead of both confirming the same report.
    """
    row = (await run(session, _READ, {"pseudonym": pseudonym})).first()
    if row is None:
        return OpenedDraft()
    sealed, expires_at = row
    plain = _opened(keyring, pseudonym, sealed)
    if plain and expires_at > now:
        if plain[:1] in (_UNFINISHED, _OTHER):
            plain = plain[1:]
        return OpenedDraft(state=plain.decode())
    await run(session, _FORGET, {"pseudonym": pseudonym})
    if plain == _NOTICE:
        return OpenedDraft(expired=expires_at > now)
    return OpenedDraft(expired=plain is not None and plain[:1] == _UNFINISHED)


async def load_draft(
    *, session: AsyncSession, keyring: Keyring, pseudonym: str, now: datetime
) -> str | None:
    """The draft's JSON, or None if there is none or it expired (an expired one is deleted)."""
    return (await open_draft(session=session, keyring=keyring, pseudonym=pseudonym,
                             now=now)).state


async def save_draft(
    *,
    session: AsyncSession,
    keyring: Keyring,
    pseudonym: str,
    state_json: str,
    now: datetime,
    ttl: timedelta,
    unfinished: bool = False,
) -> None:
    """Seals and keeps the draft until `ttl` from now; `unfinished` drafts leave a notice
    when they expire."""
    header = _UNFINISHED if unfinished else _OTHER
    sealed = keyring.seal(header + state_json.encode(), draft_aad(pseudonym))
    # One statement, no read: the draft was read (and locked) when the turn began.
    statement = upsert(dialect_of(session), _DRAFTS, "pseudonym",
                       ("crypto_state", "expires_at"))
    await run(session, statement, {"pseudonym": pseudonym, "crypto_state": sealed,
                                   "expires_at": floor_minute(now) + ttl})
    forget_loaded(session, Draft, pseudonym)


async def delete_draft(*, session: AsyncSession, pseudonym: str) -> None:
    await session.exec(delete(Draft).where(col(Draft.pseudonym) == pseudonym))


async def expire_drafts(*, session: AsyncSession, keyring: Keyring, now: datetime) -> int:
    """Forgets every draft past its time: an unfinished one becomes a notice (its state
    gone, kept for `NOTICE_KEPT` from the hour), the rest and old notices are deleted.
    Returns how many drafts were forgotten."""
    expired = (await session.exec(select(Draft).where(col(Draft.expires_at) <= now))).all()
    gone: list[str] = []
    forgotten = 0
    for draft in expired:
        plain = _opened(keyring, draft.pseudonym, draft.crypto_state)
        forgotten += plain != _NOTICE
        if plain is not None and plain[:1] == _UNFINISHED:
            draft.crypto_state = keyring.seal(_NOTICE, draft_aad(draft.pseudonym))
            draft.expires_at = floor_hour(now) + NOTICE_KEPT
            session.add(draft)
        else:
            gone.append(draft.pseudonym)
    if gone:
        await session.exec(delete(Draft).where(col(Draft.pseudonym).in_(gone)))
    await session.flush()
    return forgotten
