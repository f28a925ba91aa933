"""Evidence through the sandbox: each file in its own worker process, with memory and time
limits. A bomb kills its worker, never this process, and the next file still goes through.

These tests start real workers (`python -m bot.sandbox_worker`); nothing is faked.
"""

from __future__ import annotations

import asyncio
import io
import os
import wave
from pathlib import Path

import pytest
from mutagen.oggopus import OggOpus
from PIL import Image

from bot.evidence import EvidenceError
from bot.sandbox import EvidenceSandbox
from storage.attachments import MAX_ATTACHMENT_BYTES, File
from tests.support.hostile import (
    PDF_ACTIVE_NAMES,
    PDF_MARKERS,
    SERIAL,
    hostile_pdf,
    ogg_opus_with_companion,
    pdf_page_bomb,
    pdf_structure,
    slow_pdf,
    solid_picture,
    tagged_wav,
    wav_samples,
)
from tests.support.media import gps_tagged_jpeg

MEBIBYTE = 1024 * 1024


def workers_alive() -> list[int]:
    """Worker processes this test process started that still run (a reaped one is gone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"bot.sandbox_worker" in command:
            found.append(int(entry.name))
    return found


async def an_ordinary_photo_goes_through(sandbox: EvidenceSandbox) -> None:
    prepared = await sandbox.prepare(kind="photo", data=gps_tagged_jpeg(), mime="image/jpeg")
    assert isinstance(prepared, File) and prepared.meta["kind"] == "photo"
    assert Image.open(io.BytesIO(prepared.data)).size == (64, 48)
    assert b"PhoneMaker" not in prepared.data


async def refused(sandbox: EvidenceSandbox, data: bytes, mime: str) -> str:
    with pytest.raises(EvidenceError) as error:
        await sandbox.prepare(kind="document", data=data, mime=mime)
    return error.value.reason


async def test_files_come_back_clean_from_the_worker() -> None:
    sandbox = EvidenceSandbox()
    try:
        pdf = await sandbox.prepare(kind="document", data=hostile_pdf(), mime="application/pdf")
        assert pdf.meta == {"kind": "document", "mime": "application/pdf", "size": len(pdf.data)}
        assert [m for m in PDF_MARKERS if m in pdf.data] == []
        assert [n for n in PDF_ACTIVE_NAMES if n in pdf_structure(pdf.data)] == []
        assert b"Exif" not in pdf.data and SERIAL.encode() not in pdf.data

        voice = await sandbox.prepare(kind="voice", data=ogg_opus_with_companion(),
                                      mime="audio/ogg")
        assert voice.meta == {"kind": "voice", "mime": "audio/ogg", "size": len(voice.data)}
        assert not dict(OggOpus(io.BytesIO(voice.data)).tags or {})
        assert b"Marisol" not in voice.data and b"Retiro" not in voice.data

        sound = await sandbox.prepare(kind="audio", data=tagged_wav(), mime="audio/wav")
        with wave.open(io.BytesIO(sound.data)) as heard:
            assert heard.readframes(heard.getnframes()) == wav_samples()
        assert b"Marisol" not in sound.data and b"LIST" not in sound.data
        await an_ordinary_photo_goes_through(sandbox)
    finally:
        sandbox.close()
    assert workers_alive() == []


async def test_bombs_are_refused_with_their_reason_and_the_next_file_goes_through() -> None:
    sandbox = EvidenceSandbox(workers=1)
    try:
        assert await refused(sandbox, solid_picture((7000, 7000), "WEBP"),
                             "image/webp") == "too_big_picture"
        assert await refused(sandbox, solid_picture((7000, 7000), "PNG"),
                             "image/png") == "too_big_picture"
        assert await refused(sandbox, pdf_page_bomb(40_000), "application/pdf") \
            == "too_many_pages"
        assert await refused(sandbox, b"MZ\x90\x00", "application/octet-stream") \
            == "unsupported"
        assert await refused(sandbox, b"x" * (MAX_ATTACHMENT_BYTES + 1), "image/png") \
            == "too_large"
        await an_ordinary_photo_goes_through(sandbox)
    finally:
        sandbox.close()
    assert workers_alive() == []


async def test_a_file_that_needs_more_memory_than_the_worker_has_fails_alone() -> None:
    # 38 MP is within the pixel budget, but decoding it takes about 150 MB.
    sandbox = EvidenceSandbox(workers=1, memory_bytes=128 * MEBIBYTE)
    try:
        assert await refused(sandbox, solid_picture((6500, 5800), "PNG"), "image/png") \
            == "failed"
        assert workers_alive() == []
        await an_ordinary_photo_goes_through(sandbox)
    finally:
        sandbox.close()


async def test_a_file_that_takes_too_long_is_killed_at_the_deadline() -> None:
    # Thirty pages of 256 MP pictures: several seconds of PDFium on any machine.
    sandbox = EvidenceSandbox(workers=1, timeout=0.5)
    try:
        assert await refused(sandbox, slow_pdf(), "application/pdf") == "failed"
        assert workers_alive() == []  # killed and reaped
        sandbox.timeout = 60.0  # what an ordinary file gets in production is 30 s
        await an_ordinary_photo_goes_through(sandbox)
    finally:
        sandbox.close()


async def test_close_kills_the_running_worker_and_refuses_later_files() -> None:
    sandbox = EvidenceSandbox(workers=1)
    running = asyncio.create_task(
        sandbox.prepare(kind="document", data=slow_pdf(), mime="application/pdf"))
    async with asyncio.timeout(60):
        while not workers_alive():
            await asyncio.sleep(0.02)
    sandbox.close()
    with pytest.raises(EvidenceError) as error:
        await running
    assert error.value.reason == "failed"
    assert workers_alive() == []
    sandbox.close()  # again: nothing left to do
    with pytest.raises(EvidenceError):
        await sandbox.prepare(kind="photo", data=gps_tagged_jpeg(), mime="image/jpeg")


async def test_files_from_many_chats_at_once_all_come_back() -> None:
    sandbox = EvidenceSandbox(workers=2)
    try:
        results = await asyncio.gather(*(
            sandbox.prepare(kind="photo", data=gps_tagged_jpeg((40 + i, 30)), mime="image/jpeg")
            for i in range(5)))
        assert [Image.open(io.BytesIO(r.data)).size for r in results] == \
            [(40 + i, 30) for i in range(5)]
    finally:
        sandbox.close()
    assert workers_alive() == []
