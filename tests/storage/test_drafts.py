"""Drafts on both databases: an expired unfinished report leaves a notice without content,
read once; drafts of anything else expire without a trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.drafts import (
    NOTICE_KEPT,
    OpenedDraft,
    draft_aad,
    expire_drafts,
    open_draft,
    save_draft,
)
from storage.models import Draft
from storage.store import Store

NOW = datetime(2026, 12, 2, 15, 7, tzinfo=UTC)
TTL = timedelta(minutes=30)
STATE = '{"step":"threat.when","answers":{"kind":"threat","description":"secreto"}}'


async def _save(store: Store, pseudonym: str, *, unfinished: bool) -> None:
    async with store.transaction() as session:
        await save_draft(session=session, keyring=store.keyring, pseudonym=pseudonym,
                         state_json=STATE, now=NOW, ttl=TTL, unfinished=unfinished)


async def _open(store: Store, pseudonym: str, now: datetime) -> OpenedDraft:
    async with store.transaction() as session:
        return await open_draft(session=session, keyring=store.keyring, pseudonym=pseudonym,
                                now=now)


async def test_a_live_draft_opens_as_saved(store: Store) -> None:
    await _save(store, "e.live", unfinished=True)
    assert await _open(store, "e.live", NOW + timedelta(minutes=5)) == OpenedDraft(STATE)


async def test_an_expired_unfinished_draft_is_told_once_even_before_the_job(store: Store) -> None:
    await _save(store, "e.late", unfinished=True)
    assert await _open(store, "e.late", NOW + TTL) == OpenedDraft(expired=True)
    assert await _open(store, "e.late", NOW + TTL) == OpenedDraft()


async def test_the_job_keeps_a_notice_without_content_then_forgets_it(store: Store) -> None:
    await _save(store, "e.report", unfinished=True)
    await _save(store, "e.menu", unfinished=False)
    later = NOW + TTL + timedelta(minutes=1)
    async with store.transaction() as session:
        assert await expire_drafts(session=session, keyring=store.keyring, now=later) == 2
    async with store.transaction() as session:
        rows = (await session.exec(select(Draft))).all()
        assert [row.pseudonym for row in rows] == ["e.report"]
        plain = store.keyring.open(rows[0].crypto_state, draft_aad("e.report"))
        assert plain == b"" and b"secreto" not in rows[0].crypto_state
        assert rows[0].expires_at == datetime(2026, 12, 2, 15, tzinfo=UTC) + NOTICE_KEPT
    assert await _open(store, "e.menu", later) == OpenedDraft()

    async with store.transaction() as session:  # a day on, unread: gone
        await expire_drafts(session=session, keyring=store.keyring, now=later + NOTICE_KEPT)
        assert (await session.exec(select(Draft))).all() == []
    assert await _open(store, "e.report", later + NOTICE_KEPT) == OpenedDraft()


async def test_the_next_message_reads_the_notice_once(store: Store) -> None:
    await _save(store, "e.back", unfinished=True)
    later = NOW + TTL + timedelta(minutes=1)
    async with store.transaction() as session:
        await expire_drafts(session=session, keyring=store.keyring, now=later)
    assert await _open(store, "e.back", later + timedelta(hours=3)) == OpenedDraft(expired=True)
    assert await _open(store, "e.back", later + timedelta(hours=3)) == OpenedDraft()
