"""The attacker who fills the disk or the CPU through one chat's files (issue 13).

A file is only fetched (downloaded, decoded, stored) once the chat's rate limit and
quotas allow it and the current question takes files. Each test offers files the way the
Telegram transport does — with a `fetch` that would download them — and checks what a
person would notice (the answer) and what the attacker wanted (a download, a stored row).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from bot.conversations import (
    DRAFT_FILE_BYTES,
    FILE_KIB_PER_HOUR,
    Conversations,
    Offer,
    Turn,
)
from flows.conversation import build_flow
from flows.engine import Command, Msg
from flows.evidence import MSG_EVIDENCE_RECEIVED
from flows.municipalities import Catalog
from storage.attachments import MAX_ATTACHMENT_BYTES, File
from storage.models import DraftAttachment
from storage.store import Store
from tests.support.people import THREAT, Person

NINE_MB = 9 * 1024 * 1024


class Files:
    """Offers files as Telegram announces them and counts the downloads asked for."""

    def __init__(self) -> None:
        self.fetched = 0

    def offer(self, size: int, kind: str = "document") -> Offer:
        async def fetch() -> File | Msg:
            self.fetched += 1
            return File({"kind": "audio", "mime": "audio/wav", "size": size}, b"\0" * size)
        return Offer(kind, size, fetch)


def texts(turn: Turn) -> list[str]:
    return [reply.text.msgid for reply in turn.replies]


async def stored_files(store: Store) -> tuple[int, int]:
    async with store.transaction() as session:
        count, size = (await session.exec(select(
            func.count(), func.coalesce(func.sum(func.length(DraftAttachment.crypto_blob)), 0)
        ))).one()
    return int(count), int(size)


def conversations(store: Store) -> Conversations:
    return Conversations(store=store, flow=build_flow(Catalog.load()),
                         draft_ttl=timedelta(minutes=30))


async def at_evidence_question(person: Person) -> None:
    """Walks a threat report up to «¿Tiene fotos, documentos o audios?»."""
    await person.do(THREAT[: THREAT.index("done") - 1])
    assert "¿Tiene fotos" in person.shown[-1].text.msgid


async def test_a_question_that_takes_no_files_never_downloads_them(store: Store) -> None:
    person, files = Person(conversations(store), 9_100_001), Files()
    await person.do([Command("start"), "threat", "no"])
    for _ in range(10):
        turn = await person.send(files.offer(NINE_MB))
        assert texts(turn)[0] == "Aquí no puedo recibir archivos."
        assert "¿En qué municipio pasó?" in texts(turn)[-1]
    assert files.fetched == 0
    assert await stored_files(store) == (0, 0)


async def test_a_file_past_the_questions_cap_is_not_downloaded(store: Store) -> None:
    person, files = Person(conversations(store), 9_100_002), Files()
    await at_evidence_question(person)
    for _ in range(5):
        turn = await person.send(files.offer(1024))
        assert texts(turn)[0] == MSG_EVIDENCE_RECEIVED[0]
    stored = await stored_files(store)
    for _ in range(5):
        turn = await person.send(files.offer(1024))
        assert "Es el máximo" in texts(turn)[0]
    assert files.fetched == 5
    assert await stored_files(store) == stored


async def test_one_reports_files_and_one_hours_files_have_a_ceiling(store: Store) -> None:
    person, files = Person(conversations(store), 9_100_003), Files()
    await at_evidence_question(person)
    kept = DRAFT_FILE_BYTES // NINE_MB  # two files of 9 MB fit in one report
    for _ in range(kept):
        turn = await person.send(files.offer(NINE_MB))
        assert texts(turn)[0] == MSG_EVIDENCE_RECEIVED[0]
    stored = await stored_files(store)
    turn = await person.send(files.offer(NINE_MB))
    assert texts(turn)[0].startswith("Ya recibí {megabytes} MB de archivos para este reporte")
    assert turn.replies[0].text.params == {"megabytes": DRAFT_FILE_BYTES // 2**20}
    assert "¿Tiene fotos" in texts(turn)[-1]  # the question is asked again
    # Whoever keeps sending reaches the hour's ceiling, counted before any download.
    offered = kept + 1
    while offered * NINE_MB // 1024 <= FILE_KIB_PER_HOUR:
        await person.send(files.offer(NINE_MB))
        offered += 1
    turn = await person.send(files.offer(1024))
    assert texts(turn)[0].startswith("Recibí muchos archivos de este chat en la última hora")
    assert files.fetched == kept
    assert await stored_files(store) == stored


async def test_a_file_telegram_says_is_too_large_is_not_downloaded(store: Store) -> None:
    person, files = Person(conversations(store), 9_100_004), Files()
    await at_evidence_question(person)
    turn = await person.send(
        files.offer(MAX_ATTACHMENT_BYTES + 1))
    assert turn.replies[0].text == Msg("Ese archivo es muy grande. El límite es de {megabytes} MB.",
                                       {"megabytes": MAX_ATTACHMENT_BYTES // 2**20})
    assert files.fetched == 0
    assert await stored_files(store) == (0, 0)
